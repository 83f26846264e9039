"""Casework: case management for leerplicht teams."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from config import load_config


def create_app(config: dict | None = None, **overrides) -> Flask:
    """Build the app: settings, extensions, blueprints. No database work, no side effects."""
    app = Flask(__name__, instance_relative_config=False)
    settings = dict(config) if config is not None else load_config()
    settings.update(overrides)
    app.config.update(settings)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("CASEWORK_SECRET_KEY ontbreekt.")
    if not app.config.get("DATABASE_URL"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{os.path.join(app.instance_path, 'casework.db')}"
    elif app.config.get("QUEUE_BACKEND") == "sqlite" and not app.config.get("QUEUE_PATH"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies > 0:  # trust the forwarded headers of exactly this many proxies, no more
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                x_port=proxies)

    from .extensions import csrf, db, login_manager, queue

    db.init_app(app)
    queue.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in om verder te gaan."
    login_manager.login_message_category = "info"

    from . import auth  # noqa: F401  registers the user loader
    from .letters import tasks  # noqa: F401  registers the queue tasks
    from .formatting import format_datum, format_datum_tijd, format_getal

    app.jinja_env.filters["datum"] = format_datum
    app.jinja_env.filters["datum_tijd"] = format_datum_tijd
    app.jinja_env.filters["getal"] = format_getal

    from .api import api_bp
    from .views import register_views

    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    register_views(app)

    from .cli import register_cli

    register_cli(app)
    from .limits import install_input_checks

    install_input_checks(app)
    from .access import install_https_guard, install_route_policy

    from .observability import configure_logging, install_request_log

    configure_logging(app)
    install_request_log(app)
    from .metrics import install_metrics

    install_metrics(app)
    install_https_guard(app)
    install_route_policy(app)
    return app
