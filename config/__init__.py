"""Settings per environment, read once from environment variables."""
from __future__ import annotations

import os
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


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
    LOGIN_MAX_FAILURES = 10  # per email in LOGIN_WINDOW_MINUTES, then 429
    LOGIN_WINDOW_MINUTES = 15
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
    LETTER_MAX_ATTEMPTS = 5
    VERZUIM_ONDERZOEK_SCHOOLDAGEN = 5  # a melding not investigated after this many school days is overdue
    ROUTE_OPVOLG_DAGEN = 42  # default follow-up date of a chosen route
    VERLENGING_HERINNERING_DAGEN = 56  # tick reminds the parents of a renewal this long before einddatum
    INSCHRIJF_TERMIJN_DAGEN = 14  # after "geen vrijstelling": enrolled at a school within this many days
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_ENABLED = True
    TESTING = False

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
        for key in (
            "HERBEOORDELING_LEAD_DAYS", "ADVIES_TERMIJN_DAGEN", "BEHANDEL_TERMIJN_DAGEN",
            "AANVUL_TERMIJN_DAGEN", "BEOORDEEL_TERMIJN_DAGEN", "MAX_HERBEOORDELING_MAANDEN",
            "API_TOKEN_HOURS", "LOGIN_MAX_FAILURES", "LOGIN_WINDOW_MINUTES",
            "LETTER_MAX_ATTEMPTS", "VERZUIM_ONDERZOEK_SCHOOLDAGEN", "ROUTE_OPVOLG_DAGEN",
            "INSCHRIJF_TERMIJN_DAGEN", "VERLENGING_HERINNERING_DAGEN",
            "LOGIN_SECOND_STEP_MINUTES", "SESSION_IDLE_MINUTES", "SESSION_IDLE_MINUTES_OUDER",
            "SESSION_MAX_HOURS", "SESSION_WARNING_SECONDS",
        ):
            cfg[key] = _int(f"CASEWORK_{key}", getattr(cls, key))
        return cfg


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    # Only for a local checkout; ProductionConfig refuses to start without a real key.
    SECRET_KEY = "development-only-not-secret"


class TestConfig(BaseConfig):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-only-not-secret"
    WTF_CSRF_ENABLED = False


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True

    @classmethod
    def from_env(cls) -> dict:
        cfg = super().from_env()
        key = cfg.get("SECRET_KEY")
        if not key or len(key) < 32 or "not-secret" in key:
            raise RuntimeError(
                "CASEWORK_SECRET_KEY ontbreekt of is te kort (minimaal 32 tekens): "
                "productie start niet zonder echte geheime sleutel."
            )
        return cfg


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def load_config(env_name: str | None = None) -> dict:
    name = env_name or _env("CASEWORK_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"Onbekende CASEWORK_ENV: {name!r} (kies uit {', '.join(CONFIGS)})")
    return CONFIGS[name].from_env()


PROJECT_ROOT = Path(__file__).resolve().parent.parent
