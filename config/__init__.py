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
    LETTER_MAX_ATTEMPTS = 5
    # A letter's HTML larger than this is refused before WeasyPrint (bounded texts stay far below).
    LETTER_MAX_HTML_CHARS = 300_000
    VERZUIM_ONDERZOEK_SCHOOLDAGEN = 5  # a melding not investigated after this many school days is overdue
    ROUTE_OPVOLG_DAGEN = 42  # default follow-up date of a chosen route
    VERLENGING_HERINNERING_DAGEN = 56  # tick reminds the parents of a renewal this long before einddatum
    INSCHRIJF_TERMIJN_DAGEN = 14  # after "geen vrijstelling": enrolled at a school within this many days
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_ENABLED = True
    TESTING = False
    # Strict-Transport-Security max-age in seconds; 0 sends no header (production: one year).
    HSTS_SECONDS = 0
    # Largest request body in bytes (Flask answers 413 above it): 1 MB.
    MAX_CONTENT_LENGTH = 1024 * 1024

    @classmethod
    def from_env(cls) -> dict:
        cfg = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        cfg["DATABASE_URL"] = _env("CASEWORK_DATABASE_URL", cls.DATABASE_URL)
        cfg["SECRET_KEY"] = _env("CASEWORK_SECRET_KEY", cls.SECRET_KEY)
        cfg["DEMO_PASSWORD"] = _env("CASEWORK_DEMO_PASSWORD", cls.DEMO_PASSWORD)
        cfg["QUEUE_BACKEND"] = _env("CASEWORK_QUEUE_BACKEND", cls.QUEUE_BACKEND)
        cfg["QUEUE_PATH"] = _env("CASEWORK_QUEUE_PATH", cls.QUEUE_PATH)
        cfg["REDIS_URL"] = _env("CASEWORK_REDIS_URL", cls.REDIS_URL)
        for key in (
            "HERBEOORDELING_LEAD_DAYS", "ADVIES_TERMIJN_DAGEN", "BEHANDEL_TERMIJN_DAGEN",
            "AANVUL_TERMIJN_DAGEN", "BEOORDEEL_TERMIJN_DAGEN", "MAX_HERBEOORDELING_MAANDEN",
            "API_TOKEN_HOURS", "LOGIN_MAX_FAILURES", "LOGIN_WINDOW_MINUTES",
            "LETTER_MAX_ATTEMPTS", "VERZUIM_ONDERZOEK_SCHOOLDAGEN", "ROUTE_OPVOLG_DAGEN",
            "INSCHRIJF_TERMIJN_DAGEN", "VERLENGING_HERINNERING_DAGEN", "HSTS_SECONDS",
            "LETTER_MAX_HTML_CHARS",
        ):
            cfg[key] = _int(f"CASEWORK_{key}", getattr(cls, key))
        cfg["MAX_CONTENT_LENGTH"] = _int("CASEWORK_MAX_BODY_BYTES", cls.MAX_CONTENT_LENGTH)
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
