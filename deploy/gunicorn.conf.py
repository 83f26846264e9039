"""Gunicorn settings for Casework: gunicorn -c deploy/gunicorn.conf.py wsgi:app

Read by deploy/systemd/casework-web.service; every value can be set from the environment
(/etc/casework/casework.env), the defaults fit one machine behind nginx.
"""
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where gunicorn listens. Behind nginx on the same machine: the loopback address only, so the
# app is never reached without the proxy (and its TLS).
bind = [os.environ.get("CASEWORK_WEB_BIND", "").strip() or "127.0.0.1:8000"]

# Sync workers, one request at a time each: 2 × cores + 1, at most 8 (each holds its own
# database connections; more workers mostly means more connections, not more throughput).
workers = _int("CASEWORK_WEB_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8))

# A request may take this long before the worker is killed. The slowest requests are the
# exports: the README's "Scale" figures (1,000,000 cases, 2 cores) give the DUO verzuimstatus
# export of the largest gemeente 1 s warm but 6 to 29 s with a cold page cache, its .xlsx
# from the page 8 to 12 s cold, a cold name search up to 27 s and the leerplichttelling under
# 6 s. 120 s is four times the slowest measured, so a busy or slower server still finishes an
# export, while a request that hangs is still ended. nginx's proxy_read_timeout
# (deploy/nginx.conf.example) is the same 120 s.
timeout = _int("CASEWORK_WEB_TIMEOUT", 120)
# On SIGTERM (systemctl stop/restart) running requests get this long to finish: as long as
# the slowest export may take. The unit's TimeoutStopSec is longer than this.
graceful_timeout = timeout
# Keep-alive towards nginx (which holds the client connections itself).
keepalive = 5
# A worker is replaced after this many requests (with jitter, so not all at once): bounds
# the memory a long-running process may collect.
max_requests = 2000
max_requests_jitter = 200

# Access log to stdout, error log to stderr: systemd's journal keeps both. The line holds
# the path only, never the query string (%(q)s) or the request line (%(r)s), and no Referer
# (%(f)s): searches carry names and BSNs in ?q=… . Who read which personal data is in the
# application's own access log (README, "Access log"), not here.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("CASEWORK_WEB_LOG_LEVEL", "").strip() or "info"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

# Forwarded headers (X-Forwarded-For/-Proto/-Host/-Port) are trusted by the app itself, for
# exactly CASEWORK_PROXY_COUNT proxies (werkzeug ProxyFix, config/__init__.py). Gunicorn trusts
# none of its own (its default trusts 127.0.0.1), so there is one place that decides: with
# CASEWORK_PROXY_COUNT=0 a forged X-Forwarded-Proto from anywhere, the machine itself
# included, changes nothing.
forwarded_allow_ips = ""

# Workers signal they are alive through a file: in memory, not on disk (and PrivateTmp=true
# in the unit gives /tmp its own namespace anyway).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# gunicorn's control socket (gunicornc, gunicorn 25.1 and later): in the unit's
# RuntimeDirectory (/run/casework), not in a home directory the unit may not write to; none when
# started without one.
if os.environ.get("RUNTIME_DIRECTORY"):
    control_socket = os.path.join(os.environ["RUNTIME_DIRECTORY"].split(":")[0], "gunicorn.ctl")
else:
    control_socket_disable = True

# The process name in ps/top.
proc_name = "casework-web"
