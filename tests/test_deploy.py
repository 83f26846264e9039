"""deploy/: the systemd units, gunicorn settings, env file and nginx example fit the app, and
the units' commands really start, serve and stop the way systemd runs them."""
from __future__ import annotations

import configparser
import http.client
import os
import re
import runpy
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

from config import BaseConfig, ProductionConfig

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
UNITS = DEPLOY / "systemd"
SERVICES = ("casework-web.service", "casework-worker.service", "casework-tick.service")
INSTALL_DIR = "/opt/casework"  # WorkingDirectory of every unit; the repository here
VENV_BIN = Path(sys.executable).parent  # the venv's bin/, where gunicorn and flask live


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",),
                                       comment_prefixes=("#", ";"))
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def environment_lines(name: str) -> dict:
    env = {}
    for line in (UNITS / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("Environment="):
            for item in shlex.split(line.partition("=")[2]):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def read_env_file(path: Path) -> dict:
    """systemd's EnvironmentFile= format: KEY=value, # comments, optional quotes."""
    env = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key.strip()), raw
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def exec_argv(name: str) -> list[str]:
    """The unit's ExecStart as it runs here: the venv of /opt/casework is this venv."""
    argv = shlex.split(unit(name)["Service"]["ExecStart"])
    assert argv[0].startswith(f"{INSTALL_DIR}/.venv/bin/"), argv
    return [str(VENV_BIN / Path(argv[0]).name)] + argv[1:]


def flask_command(argv: list[str]) -> list[str]:
    assert Path(argv[0]).name == "flask" and argv[1:3] == ["--app", "casework"], argv
    return argv[3:]


def known_settings() -> set[str]:
    """Every CASEWORK_* name the app or deploy/gunicorn.conf.py reads."""
    names = {f"CASEWORK_{key}" for key in dir(BaseConfig) if key.isupper()}
    names |= {"CASEWORK_ENV", "CASEWORK_MAX_BODY_BYTES"}
    names |= set(re.findall(r"CASEWORK_[A-Z_]+", (DEPLOY / "gunicorn.conf.py").read_text()))
    return names


# --- the files fit the app -------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_service_units_run_as_casework_hardened(name):
    service = unit(name)["Service"]
    assert service["User"] == "casework" and service["Group"] == "casework"
    assert service["WorkingDirectory"] == INSTALL_DIR
    assert service["EnvironmentFile"] == "/etc/casework/casework.env"
    assert service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == f"{INSTALL_DIR}/instance"
    assert service["PrivateTmp"] == "true" and service["ProtectHome"] == "true"
    assert service["Restart"] == "on-failure" and service["RestartSec"]
    assert environment_lines(name)["XDG_CACHE_HOME"] == "/var/cache/casework"
    assert service["CacheDirectory"] == "casework"


def test_web_unit_runs_gunicorn_with_the_repository_config():
    argv = shlex.split(unit("casework-web.service")["Service"]["ExecStart"])
    assert argv == [f"{INSTALL_DIR}/.venv/bin/gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"]
    assert (REPO / argv[2]).is_file()
    module, _, attribute = argv[3].partition(":")
    assert re.search(rf"^{attribute} = ", (REPO / f"{module}.py").read_text(), re.M)


@pytest.mark.parametrize("name", ["casework-worker.service", "casework-tick.service"])
def test_flask_units_name_real_commands(app, name):
    args = flask_command(exec_argv(name))
    command: click.Command = app.cli
    while isinstance(command, click.Group):
        assert args and args[0] in command.commands, f"{name}: no command {args[:1]}"
        command, args = command.commands[args[0]], args[1:]
    options = {opt for param in command.params for opt in param.opts}
    for arg in args:
        if arg.startswith("-"):
            assert arg in options, f"{name}: {command.name} has no option {arg}"


def test_tick_timer_daily_and_persistent():
    timer = unit("casework-tick.timer")["Timer"]
    assert timer["Persistent"] == "true"
    assert timer["Unit"] == "casework-tick.service"
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d( Europe/Amsterdam)?", timer["OnCalendar"])
    assert unit("casework-tick.service")["Service"]["Type"] == "oneshot"


def test_gunicorn_config():
    from gunicorn.config import Config

    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    cfg = Config()
    for key in ("bind", "workers", "timeout", "graceful_timeout", "accesslog", "errorlog",
                "access_log_format", "forwarded_allow_ips"):
        cfg.set(key, settings[key])
    assert cfg.bind == ["127.0.0.1:8000"]
    assert 1 <= cfg.workers <= 8
    assert cfg.timeout == 120 and cfg.graceful_timeout == 120
    assert cfg.accesslog == "-" and cfg.errorlog == "-"
    assert "%(U)s" in cfg.access_log_format
    for leaks in ("%(q)s", "%(r)s", "%(f)s", "%({referer}i)s"):
        assert leaks not in cfg.access_log_format  # query string, request line, Referer
    assert cfg.forwarded_allow_ips == []  # ProxyFix with CASEWORK_PROXY_COUNT decides
    stop = int(re.sub(r"\D", "", unit("casework-web.service")["Service"]["TimeoutStopSec"]))
    assert stop > cfg.graceful_timeout


def test_nginx_example_matches_the_app():
    conf = (DEPLOY / "nginx.conf.example").read_text()
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert f"proxy_read_timeout {settings['timeout']}s;" in conf
    assert BaseConfig.MAX_CONTENT_LENGTH == 1024 * 1024 and "client_max_body_size 1m;" in conf
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert f"proxy_set_header {header} " in conf
    assert "ssl_certificate " in conf and "listen 443 ssl" in conf
    assert "Strict-Transport-Security" not in conf  # the app sends HSTS
    assert "$request " not in conf and "$args" not in conf and "$query_string" not in conf
    assert f"server {settings['bind'][0]};" in conf


def test_env_example_names_real_settings_and_refuses_to_start_as_is():
    env = read_env_file(DEPLOY / "casework.env.example")
    unknown = set(env) - known_settings()
    assert not unknown, f"not a setting: {unknown}"
    readme = (REPO / "README.md").read_text()
    undocumented = {key for key in env if f"`{key}`" not in readme}
    assert not undocumented, f"not in the README: {undocumented}"
    for needed in ("CASEWORK_ENV", "CASEWORK_SECRET_KEY", "CASEWORK_AUDIT_KEY",
                   "CASEWORK_DATABASE_URL", "CASEWORK_MIGRATION_DATABASE_URL",
                   "CASEWORK_DATABASE_APP_ROLE", "CASEWORK_PUBLIC_URL", "CASEWORK_PROXY_COUNT",
                   "CASEWORK_QUEUE_BACKEND", "CASEWORK_SMTP_HOST", "CASEWORK_MAIL_FROM"):
        assert needed in env, needed
    assert env["CASEWORK_ENV"] == "production" and env["CASEWORK_PROXY_COUNT"] == "1"
    assert env["CASEWORK_PUBLIC_URL"].startswith("https://")
    # The keys are left empty: copied without filling them in, production does not start.
    assert env["CASEWORK_SECRET_KEY"] == "" and env["CASEWORK_AUDIT_KEY"] == ""
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        with pytest.raises(RuntimeError, match="CASEWORK_SECRET_KEY"):
            ProductionConfig.from_env()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path):
    env_file = tmp_path / "casework.env"
    env_file.write_text("CASEWORK_ENV=production\n")
    for path in UNITS.iterdir():
        text = path.read_text().replace("/etc/casework/casework.env", str(env_file))
        (tmp_path / path.name).write_text(text.replace(INSTALL_DIR, str(REPO))
                                          .replace(f"{REPO}/.venv/bin", str(VENV_BIN)))
    done = subprocess.run(["systemd-analyze", "verify", "--man=no",
                           *sorted(str(p) for p in tmp_path.glob("casework-*"))],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "casework-" not in done.stdout + done.stderr, done.stdout + done.stderr


@pytest.mark.skipif(not shutil.which("nginx") or not shutil.which("openssl"),
                    reason="nginx or openssl not installed")
def test_nginx_example_is_valid_nginx(tmp_path):
    """nginx -t on the example, included in an http block as sites-enabled/ is, with a
    throw-away certificate and the log and certificate paths moved into tmp_path."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=casework.gemeente.example", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True, timeout=30)
    site = ((DEPLOY / "nginx.conf.example").read_text()
            .replace("/etc/ssl/casework/fullchain.pem", str(tmp_path / "cert.pem"))
            .replace("/etc/ssl/casework/privkey.pem", str(tmp_path / "key.pem"))
            .replace("/var/log/nginx/", f"{tmp_path}/"))
    (tmp_path / "casework.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log {tmp_path}/access.log;\n  include {tmp_path}/casework.conf;\n}}\n")
    done = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                           "-e", str(tmp_path / "error.log")],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "[warn]" not in done.stderr, done.stderr


# --- the units' commands, started the way systemd starts them ----------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """An env file built from deploy/casework.env.example with real values (production, SQLite
    in a temp folder), the environment systemd would give the units, and a migrated database."""
    tmp = tmp_path_factory.mktemp("deploy")
    port = free_port()
    values = {
        "CASEWORK_SECRET_KEY": secrets.token_hex(20),  # 40 characters, as production wants
        "CASEWORK_AUDIT_KEY": secrets.token_hex(20),
        "CASEWORK_DATABASE_URL": f"sqlite:///{tmp}/casework.db",
        "CASEWORK_MIGRATION_DATABASE_URL": "",
        "CASEWORK_DATABASE_APP_ROLE": "",
        "CASEWORK_QUEUE_PATH": f"{tmp}/queue.db",
        "CASEWORK_WEB_BIND": f"127.0.0.1:{port}",
        "CASEWORK_WEB_WORKERS": "2",
    }
    assert all(len(values[k]) == 40 for k in ("CASEWORK_SECRET_KEY", "CASEWORK_AUDIT_KEY"))
    lines = []
    for line in (DEPLOY / "casework.env.example").read_text().splitlines():
        key = line.partition("=")[0]
        lines.append(f"{key}={values.pop(key)}" if key in values else line)
    assert not values, f"not in the example: {values}"
    env_file = tmp / "casework.env"
    env_file.write_text("\n".join(lines) + "\n")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(tmp)}
    env.update(environment_lines("casework-web.service"))
    env["XDG_CACHE_HOME"] = str(tmp / "cache")  # the unit's CacheDirectory, here
    (tmp / "run").mkdir()
    env["RUNTIME_DIRECTORY"] = str(tmp / "run")  # systemd sets it for RuntimeDirectory=
    env.update(read_env_file(env_file))
    assert env["CASEWORK_ENV"] == "production"
    done = subprocess.run([str(VENV_BIN / "flask"), "--app", "casework", "db", "upgrade"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return {"env": env, "port": port, "tmp": tmp}


def wait_for(predicate, seconds: float, proc=None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        assert proc is None or proc.poll() is None, f"exited with {proc.returncode}"
        time.sleep(0.1)
    pytest.fail(f"not within {seconds} s")


def get(port: int, path: str) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def stop(proc, sig: int, seconds: float = 30) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"did not stop within {seconds} s of {signal.Signals(sig).name}")


def kill_signal(name: str) -> int:
    return getattr(signal, unit(name)["Service"].get("KillSignal", "SIGTERM"))


def test_web_unit_serves_logs_paths_only_and_stops_cleanly(installed):
    tmp, port = installed["tmp"], installed["port"]
    out, err = tmp / "web.out", tmp / "web.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(exec_argv("casework-web.service"), cwd=REPO, env=installed["env"],
                                stdout=stdout, stderr=stderr)
        try:
            wait_for(lambda: get(port, "/healthz") == 200, 30, proc)
            assert get(port, "/healthz?q=Jansen") == 200
            assert get(port, "/zaken?q=Jansen&bsn=999990019") == 302  # to the sign-in page
        finally:
            code = stop(proc, kill_signal("casework-web.service"))
    log, errors = out.read_text(), err.read_text()
    assert code == 0, errors
    access = [line for line in log.splitlines() if '"GET /' in line]
    assert any('"GET /healthz HTTP/1.1" 200' in line for line in access), log
    assert any('"GET /zaken HTTP/1.1" 302' in line for line in access), log
    assert "Jansen" not in log + errors and "999990019" not in log + errors
    assert all("?" not in line for line in access), access
    assert "Booting worker" in errors and "Shutting down: Master" in errors
    assert "Traceback" not in errors
    assert not (tmp / ".gunicorn").exists()  # nothing written to the home directory


def test_tick_unit_runs_once(installed):
    done = subprocess.run(exec_argv("casework-tick.service"), cwd=REPO, env=installed["env"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_worker_unit_starts_and_stops_gracefully(installed):
    out = installed["tmp"] / "worker.out"
    with out.open("wb") as stdout:
        proc = subprocess.Popen(exec_argv("casework-worker.service"), cwd=REPO,
                                env=installed["env"], stdout=stdout, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: "Brievenverwerker gestart met 2 werkers." in out.read_text(), 20, proc)
        finally:
            code = stop(proc, kill_signal("casework-worker.service"))
    assert code == 0, out.read_text()
    assert "Traceback" not in out.read_text()


def test_readme_names_only_commands_that_exist(app):
    """Every `flask --app casework …` in the README (and `cw …` of "Production, step by step",
    which runs the same) is a command of the app; a group is followed by one of its commands."""
    readme = (REPO / "README.md").read_text()
    found = re.findall(r"flask\s+--app\s+casework\s+([a-z][\w-]*)(?:\s+([a-z][\w-]*))?", readme)
    found += re.findall(r"^\s*cw ([a-z][\w-]*)(?: ([a-z][\w-]*))?", readme, re.M)
    assert len(found) > 20
    for name, sub in found:
        if name in ("run", "shell", "routes"):  # Flask's own
            continue
        assert name in app.cli.commands, f"README: no command {name}"
        command = app.cli.commands[name]
        if isinstance(command, click.Group):
            assert sub in command.commands, f"README: no command {name} {sub}"


# --- web and worker on Redis, as the README's production steps set them up ---------------------


def _letters(url: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT id, status, attempts FROM letters ORDER BY id").fetchall()


def _pending_letters(url: str) -> None:
    """A kennisgeving whose letters never reached the queue (it was down at the commit)."""
    from sqlalchemy import update

    from casework import create_app
    from casework.demo import load_demo
    from casework.extensions import db, queue
    from casework.models import Letter
    from casework.services.cases import commit, open_case
    from conftest import TestConfig, database_settings
    from factories import demo_namespace, dien_in_data

    saved = queue.huey.storage, queue.app, queue.huey.immediate
    cfg = TestConfig.from_env()
    cfg.update(**{**database_settings(url), "QUEUE_BACKEND": "memory"})
    app = create_app(cfg)
    try:
        with app.app_context():
            load_demo()
            demo = demo_namespace()
            open_case(demo.ouder1, "vrijstelling_5a", dien_in_data(demo.sam))
            commit()
            db.session.execute(update(Letter).values(queued_at=None))
            db.session.commit()
        db.state(app).engine.dispose()
    finally:
        queue.huey.storage, queue.app, queue.huey.immediate = saved


def test_web_and_worker_on_redis_healthz_follows_redis_and_each_letter_is_made_once(installed, tmp_path):
    from test_redis_queue import RedisServer

    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (the README's test command installs it)")
    pytest.importorskip("redis")
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    url = f"sqlite:///{tmp_path}/casework.db"
    port = free_port()
    env = {**installed["env"], "CASEWORK_DATABASE_URL": url, "CASEWORK_QUEUE_BACKEND": "redis",
           "CASEWORK_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0", "CASEWORK_WEB_BIND": f"127.0.0.1:{port}"}
    done = subprocess.run([str(VENV_BIN / "flask"), "--app", "casework", "db", "upgrade"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    _pending_letters(url)
    assert {status for _, status, _ in _letters(url)} == {"pending"}
    web_out, worker_out = tmp_path / "web.out", tmp_path / "worker.out"
    with web_out.open("wb") as web_log, worker_out.open("wb") as worker_log:
        web = subprocess.Popen(exec_argv("casework-web.service"), cwd=REPO, env=env,
                               stdout=web_log, stderr=subprocess.STDOUT)
        worker = subprocess.Popen(exec_argv("casework-worker.service"), cwd=REPO, env=env,
                                  stdout=worker_log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: get(port, "/healthz") == 200, 30, web)
            # The worker's start-up sweep queues the letters on Redis; its processes render them.
            wait_for(lambda: {s for _, s, _ in _letters(url)} == {"rendered"}, 60, worker)
            redis_server.stop()
            wait_for(lambda: get(port, "/healthz") == 503, 10, web)
            redis_server.start()
            wait_for(lambda: get(port, "/healthz") == 200, 10, web)
        finally:
            codes = stop(web, kill_signal("casework-web.service")), stop(worker, kill_signal("casework-worker.service"))
            if redis_server.proc.poll() is None:
                redis_server.stop()
    assert codes == (0, 0), worker_out.read_text()[-3000:]
    letters = _letters(url)
    assert letters and all((status, attempts) == ("rendered", 1) for _, status, attempts in letters), letters
    assert "Brievenverwerker gestart" in worker_out.read_text()
