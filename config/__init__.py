"""Settings per environment, read once from environment variables."""
from __future__ import annotations

import os
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def parse_audit_keys_old(value: str | None) -> dict[str, str]:
    """CASEWORK_AUDIT_KEYS_OLD: "id:key,id:key" -> {id: key}; a wrong entry is an error."""
    keys: dict[str, str] = {}
    for part in (value or "").split(","):
        if not part.strip():
            continue
        key_id, sep, key = part.strip().partition(":")
        if not sep or not key_id.strip() or not key:
            raise RuntimeError("CASEWORK_AUDIT_KEYS_OLD: schrijf elke oude sleutel als id:sleutel, "
                               "gescheiden door komma's.")
        keys.setdefault(key_id.strip(), key)
    return keys


class BaseConfig:
    """Settings shared by every environment. Every name here is documented in the README."""

    ENV_NAME = "base"
    # Database URL; None means SQLite in the instance folder.
    DATABASE_URL: str | None = None
    SECRET_KEY: str | None = None
    DEMO_PASSWORD = "demo"
    # Letter queue (Huey). "sqlite" keeps the queue in the instance folder; "redis" uses REDIS_URL.
    QUEUE_BACKEND = "sqlite"
    QUEUE_PATH: str | None = None
    REDIS_URL: str | None = None
    QUEUE_IMMEDIATE = False
    # Workflow timing.
    HERBEOORDELING_LEAD_DAYS = 42  # tick starts a herbeoordeling this many days before its date
    ADVIES_TERMIJN_DAGEN = 28  # SWV advice due date after the request
    BEHANDEL_TERMIJN_DAGEN = 14  # LPA handles a kennisgeving within this many days
    AANVUL_TERMIJN_DAGEN = 28  # a niet-ontvankelijk notice stays open this long
    BEOORDEEL_TERMIJN_DAGEN = 42  # deskundige assesses within this many days
    MAX_HERBEOORDELING_MAANDEN = 12  # default per gemeente when the gemeente sets none
    API_TOKEN_HOURS = 8
    # Case lists count up to this many cases; above it they say "more than" (services/paging.py).
    LIST_COUNT_CAP = 10_000
    # Two-step sign-in: every professional role (all but ouder) must set up and use a TOTP code.
    TOTP_REQUIRED = True
    TOTP_ISSUER = "Casework"  # the name authenticator apps show next to the code
    # The demo professionals are set up with this TOTP secret (base32), so the demo works at once.
    DEMO_TOTP_SECRET = "CASEWORKDEMOCASEWORKDEMOCASEWORK"  # 160 bits, base32
    LOGIN_SECOND_STEP_MINUTES = 5  # time between the password and the code before starting over
    # Browser sessions: signed out after this many idle minutes (parents: the _OUDER one), and
    # after SESSION_MAX_HOURS whatever happens; the warning comes SESSION_WARNING_SECONDS before.
    SESSION_IDLE_MINUTES = 15
    SESSION_IDLE_MINUTES_OUDER = 30
    SESSION_MAX_HOURS = 12
    SESSION_WARNING_SECONDS = 120
    # Sign-in delays (casework/auth.py): after LOGIN_ACCOUNT_FREE_FAILURES failures on one account
    # (or LOGIN_ADDRESS_FREE_FAILURES from one client address, over all accounts) within
    # LOGIN_WINDOW_MINUTES, each next attempt waits 1, 2, 4 ... seconds after the last failure, at
    # most LOGIN_MAX_DELAY_SECONDS; then 429 with Retry-After. An address where the account signed
    # in within LOGIN_KNOWN_ADDRESS_DAYS only counts its own failures (no lockout by others).
    LOGIN_ACCOUNT_FREE_FAILURES = 5
    LOGIN_ADDRESS_FREE_FAILURES = 20
    LOGIN_MAX_DELAY_SECONDS = 900
    LOGIN_WINDOW_MINUTES = 1440
    LOGIN_KNOWN_ADDRESS_DAYS = 90
    # A forgotten-password link works once, for this many minutes; one mail per 5 minutes per user.
    PASSWORD_RESET_MINUTES = 60
    # An invitation (a link by mail, or a one-time code the beheerder passes on) works this many days.
    INVITATION_DAYS = 7
    # Outgoing mail (password reset) with smtplib. No SMTP_HOST: no mail, the attempt is logged.
    SMTP_HOST: str | None = None
    SMTP_PORT = 25
    SMTP_USER: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = False  # STARTTLS before signing in to the SMTP server
    MAIL_FROM = "casework@localhost"
    # Mail is sent after the answer, so "send me a link" takes as long for an unknown address.
    MAIL_IN_BACKGROUND = True
    # Scheme and host of links in mails (https://casework.gemeente.nl); never the request's Host
    # header in production. Unset: development and tests use the request's own host.
    PUBLIC_URL: str | None = None
    LETTER_MAX_ATTEMPTS = 5
    # A letter's HTML larger than this is refused before WeasyPrint (bounded texts stay far below).
    LETTER_MAX_HTML_CHARS = 300_000
    VERZUIM_ONDERZOEK_SCHOOLDAGEN = 5  # a melding not investigated after this many school days is overdue
    ROUTE_OPVOLG_DAGEN = 42  # default follow-up date of a chosen route
    VERLENGING_HERINNERING_DAGEN = 56  # tick reminds the parents of a renewal this long before einddatum
    INSCHRIJF_TERMIJN_DAGEN = 14  # after "geen vrijstelling": enrolled at a school within this many days
    # Audit trail seals (services/audit.py): HMAC-SHA256 key the database never holds, its id
    # (stored with every row MAC and seal), and older keys that only verify: "id:key,id:key".
    AUDIT_KEY: str | None = None
    AUDIT_KEY_ID = "k1"
    AUDIT_KEYS_OLD: str | None = None
    # Access log (services/access_log.py). Rows are kept this many days, then `flask access-log
    # prune` (owner role) deletes whole sealed batches: 5 years (1826 days), the retention
    # NEN 7513 sets for logs of access to personal records.
    ACCESS_LOG_RETENTION_DAYS = 1826
    # Rows are sealed (worker every minute, `flask tick`, `flask access-log seal`) once this old,
    # so a PostgreSQL transaction still in flight (ids commit out of order) is not missed.
    ACCESS_LOG_SEAL_SETTLE_SECONDS = 60
    # `flask access-log verify` reports rows older than this that are still not sealed: a seal
    # was removed, or the sealing does not run.
    ACCESS_LOG_SEAL_LATE_MINUTES = 60
    # PostgreSQL two-role set-up: migrations connect with MIGRATION_DATABASE_URL (the owner
    # role; None means DATABASE_URL) and then grant DATABASE_APP_ROLE only what the app needs
    # (SELECT and INSERT on the audit tables, no UPDATE, DELETE, TRUNCATE, ALTER or DROP).
    MIGRATION_DATABASE_URL: str | None = None
    DATABASE_APP_ROLE: str | None = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_ENABLED = True
    TESTING = False
    # Strict-Transport-Security max-age in seconds; 0 sends no header (production: one year).
    HSTS_SECONDS = 0
    # Largest request body in bytes (Flask answers 413 above it): 1 MB.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host/-Port
    # headers are trusted (werkzeug ProxyFix); 0 trusts none (the app faces clients directly).
    PROXY_COUNT = 0
    # Production over plain HTTP (a lab without TLS): the session cookie is then sent without
    # Secure and no HSTS. Without it, production refuses an http:// PUBLIC_URL at start and
    # answers a request that reached it over plain HTTP with a page that says why.
    ALLOW_HTTP = False
    # Log lines on stderr: "json" (one object per line, with a request id) or "text".
    LOG_FORMAT = "json"
    # /metrics (Prometheus) only when enabled; with METRICS_TOKEN it needs "Bearer <token>".
    METRICS_ENABLED = False
    METRICS_TOKEN: str | None = None

    @classmethod
    def from_env(cls) -> dict:
        cfg = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        cfg["DATABASE_URL"] = _env("CASEWORK_DATABASE_URL", cls.DATABASE_URL)
        cfg["SECRET_KEY"] = _env("CASEWORK_SECRET_KEY", cls.SECRET_KEY)
        cfg["DEMO_PASSWORD"] = _env("CASEWORK_DEMO_PASSWORD", cls.DEMO_PASSWORD)
        cfg["QUEUE_BACKEND"] = _env("CASEWORK_QUEUE_BACKEND", cls.QUEUE_BACKEND)
        cfg["QUEUE_PATH"] = _env("CASEWORK_QUEUE_PATH", cls.QUEUE_PATH)
        cfg["REDIS_URL"] = _env("CASEWORK_REDIS_URL", cls.REDIS_URL)
        cfg["TOTP_REQUIRED"] = _env("CASEWORK_TOTP_REQUIRED", "1" if cls.TOTP_REQUIRED else "0") \
            not in ("0", "false", "no", "off")
        cfg["TOTP_ISSUER"] = _env("CASEWORK_TOTP_ISSUER", cls.TOTP_ISSUER)
        cfg["DEMO_TOTP_SECRET"] = _env("CASEWORK_DEMO_TOTP_SECRET", cls.DEMO_TOTP_SECRET)
        cfg["SMTP_HOST"] = _env("CASEWORK_SMTP_HOST", cls.SMTP_HOST)
        cfg["SMTP_USER"] = _env("CASEWORK_SMTP_USER", cls.SMTP_USER)
        cfg["SMTP_PASSWORD"] = _env("CASEWORK_SMTP_PASSWORD", cls.SMTP_PASSWORD)
        cfg["SMTP_STARTTLS"] = _env("CASEWORK_SMTP_STARTTLS", "1" if cls.SMTP_STARTTLS else "0") in (
            "1", "true", "yes", "ja")
        cfg["MAIL_FROM"] = _env("CASEWORK_MAIL_FROM", cls.MAIL_FROM)
        cfg["PUBLIC_URL"] = _env("CASEWORK_PUBLIC_URL", cls.PUBLIC_URL)
        cfg["AUDIT_KEY"] = _env("CASEWORK_AUDIT_KEY", cls.AUDIT_KEY)
        cfg["AUDIT_KEY_ID"] = _env("CASEWORK_AUDIT_KEY_ID", cls.AUDIT_KEY_ID)
        cfg["AUDIT_KEYS_OLD"] = _env("CASEWORK_AUDIT_KEYS_OLD", cls.AUDIT_KEYS_OLD)
        cfg["MIGRATION_DATABASE_URL"] = _env("CASEWORK_MIGRATION_DATABASE_URL", cls.MIGRATION_DATABASE_URL)
        cfg["DATABASE_APP_ROLE"] = _env("CASEWORK_DATABASE_APP_ROLE", cls.DATABASE_APP_ROLE)
        for key in (
            "HERBEOORDELING_LEAD_DAYS", "ADVIES_TERMIJN_DAGEN", "BEHANDEL_TERMIJN_DAGEN",
            "AANVUL_TERMIJN_DAGEN", "BEOORDEEL_TERMIJN_DAGEN", "MAX_HERBEOORDELING_MAANDEN",
            "API_TOKEN_HOURS", "LOGIN_ACCOUNT_FREE_FAILURES", "LOGIN_ADDRESS_FREE_FAILURES",
            "LOGIN_MAX_DELAY_SECONDS", "LOGIN_WINDOW_MINUTES", "LOGIN_KNOWN_ADDRESS_DAYS",
            "PASSWORD_RESET_MINUTES", "INVITATION_DAYS", "SMTP_PORT",
            "LETTER_MAX_ATTEMPTS", "VERZUIM_ONDERZOEK_SCHOOLDAGEN", "ROUTE_OPVOLG_DAGEN",
            "INSCHRIJF_TERMIJN_DAGEN", "VERLENGING_HERINNERING_DAGEN", "HSTS_SECONDS",
            "LETTER_MAX_HTML_CHARS", "ACCESS_LOG_RETENTION_DAYS", "ACCESS_LOG_SEAL_SETTLE_SECONDS",
            "ACCESS_LOG_SEAL_LATE_MINUTES",
            "LOGIN_SECOND_STEP_MINUTES", "SESSION_IDLE_MINUTES", "SESSION_IDLE_MINUTES_OUDER",
            "SESSION_MAX_HOURS", "SESSION_WARNING_SECONDS", "PROXY_COUNT", "LIST_COUNT_CAP",
        ):
            cfg[key] = _int(f"CASEWORK_{key}", getattr(cls, key))
        cfg["MAX_CONTENT_LENGTH"] = _int("CASEWORK_MAX_BODY_BYTES", cls.MAX_CONTENT_LENGTH)
        cfg["LOG_FORMAT"] = _env("CASEWORK_LOG_FORMAT", cls.LOG_FORMAT)
        cfg["METRICS_ENABLED"] = _env("CASEWORK_METRICS", "1" if cls.METRICS_ENABLED else "0") in (
            "1", "true", "yes", "ja")
        cfg["METRICS_TOKEN"] = _env("CASEWORK_METRICS_TOKEN", cls.METRICS_TOKEN)
        cfg["ALLOW_HTTP"] = _env("CASEWORK_ALLOW_HTTP", "1" if cls.ALLOW_HTTP else "0") in (
            "1", "true", "yes", "ja")
        return cfg


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    LOG_FORMAT = "text"
    # Only for a local checkout; ProductionConfig refuses to start without a real key.
    SECRET_KEY = "development-only-not-secret"
    # A local SMTP sink: python -m aiosmtpd -n -l localhost:8025 prints every mail.
    SMTP_HOST = "localhost"
    SMTP_PORT = 8025
    AUDIT_KEY = "development-audit-key-not-secret"


class TestConfig(BaseConfig):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-only-not-secret"
    AUDIT_KEY = "test-audit-key-not-secret"
    WTF_CSRF_ENABLED = False
    MAIL_IN_BACKGROUND = False  # tests read the mail as soon as the answer is there


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    # Strict-Transport-Security on every response (the app is served over HTTPS only).
    HSTS_SECONDS = 31536000

    @classmethod
    def from_env(cls) -> dict:
        cfg = super().from_env()
        key = cfg.get("SECRET_KEY")
        if not key or len(key) < 32 or "not-secret" in key:
            raise RuntimeError(
                "CASEWORK_SECRET_KEY ontbreekt of is te kort (minimaal 32 tekens): "
                "productie start niet zonder echte geheime sleutel. Zonder CASEWORK_ENV draait "
                "Casework als productie; om het op uw eigen computer te proberen: "
                "CASEWORK_ENV=development."
            )
        audit_key = cfg.get("AUDIT_KEY")
        if not audit_key or len(audit_key) < 32 or "not-secret" in audit_key:
            raise RuntimeError(
                "CASEWORK_AUDIT_KEY ontbreekt of is te kort (minimaal 32 tekens): "
                "productie start niet zonder eigen sleutel voor de audit."
            )
        if audit_key == key:
            raise RuntimeError("CASEWORK_AUDIT_KEY moet een andere sleutel zijn dan CASEWORK_SECRET_KEY.")
        parse_audit_keys_old(cfg.get("AUDIT_KEYS_OLD"))
        if cfg.get("ALLOW_HTTP"):  # a lab on plain HTTP, said explicitly
            cfg["SESSION_COOKIE_SECURE"], cfg["HSTS_SECONDS"] = False, 0
        elif (cfg.get("PUBLIC_URL") or "").lower().startswith("http://"):
            raise RuntimeError(
                f"CASEWORK_PUBLIC_URL is {cfg['PUBLIC_URL']}: productie draait alleen over HTTPS "
                "(de inlogcookie gaat niet over gewoon HTTP). Gebruik een https://-adres achter een "
                "TLS-proxy (met CASEWORK_PROXY_COUNT), of zet voor een testomgeving zonder TLS "
                "CASEWORK_ALLOW_HTTP=1."
            )
        return cfg


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


# Without CASEWORK_ENV the app runs as production (secure by default: no public development key);
# scripts/run.sh sets development, scripts/test.sh and the tests set test.
DEFAULT_ENV = "production"


def load_config(env_name: str | None = None) -> dict:
    name = env_name or _env("CASEWORK_ENV", DEFAULT_ENV)
    if name not in CONFIGS:
        raise RuntimeError(f"Onbekende CASEWORK_ENV: {name!r} (kies uit {', '.join(CONFIGS)})")
    return CONFIGS[name].from_env()


PROJECT_ROOT = Path(__file__).resolve().parent.parent
