"""Applies policy.ROUTE_RULES to every request: an endpoint without a rule does not exist."""
from __future__ import annotations

from flask import Flask, abort, g, redirect, request, url_for
from flask_login import current_user

from . import auth, policy


def current_actor():
    """The signed-in user: bearer token for the API, session cookie for the web UI."""
    if request.blueprint == "api":
        return auth.api_user()
    return current_user if current_user.is_authenticated else None


def log_refusal(status: int) -> None:
    """A refused authorization (403, or 404 for what the user may not see) of a signed-in user
    goes to the access log as a security event; the refused request itself changes nothing."""
    from .services.audit import log_security_now

    try:
        user = auth.token_row().user if request.blueprint == "api" and auth.token_row() else (
            current_user._get_current_object() if current_user.is_authenticated else None)
    except Exception:  # noqa: BLE001 - logging a refusal never turns it into a 500
        user = None
    if user is not None:
        log_security_now("toegang_geweigerd", user, detail=f"{status} {request.path}"[:40])


def install_route_policy(app: Flask) -> None:
    @app.before_request
    def _enforce_route_rule():
        endpoint = request.endpoint
        if endpoint is None:
            return None  # 404 follows from routing
        if endpoint == "static":
            return None
        rule = policy.ROUTE_RULES.get(endpoint)
        if rule is None:
            abort(404)
        if rule == policy.PUBLIC:
            return None
        user = current_actor()
        g.actor_id = user.id if user is not None else None  # for the request's log line
        if user is None:
            return redirect(url_for("auth.login", next=request.full_path))
        if rule != policy.AUTHENTICATED and user.role not in rule:
            if request.blueprint == "api":  # the API's error handler logs the refusal
                from .services.errors import Forbidden

                raise Forbidden("Uw rol heeft geen toegang tot dit onderdeel.")
            log_refusal(403)
            abort(403)
        return None


_LOOPBACK = ("localhost", "127.0.0.1", "[::1]", "::1")
HTTPS_NEEDED = ("Casework draait als productie en werkt alleen over HTTPS: over gewoon HTTP gaat "
                "de inlogcookie niet mee. Open het adres met https://. Beheert u deze server: zet "
                "een TLS-proxy ervoor (met CASEWORK_PROXY_COUNT), of zet voor een testomgeving "
                "zonder TLS CASEWORK_ALLOW_HTTP=1.")


def install_https_guard(app: Flask) -> None:
    """Production over plain HTTP would fail at sign-in with "Formulier verlopen" (the session
    cookie is Secure): answer such a request with a page that says why, instead. Not for the
    machine itself (localhost) or the health check a load balancer sends to the backend."""
    if not app.config.get("SESSION_COOKIE_SECURE") or app.config.get("ALLOW_HTTP") \
            or app.config.get("ENV_NAME") != "production":
        return

    @app.before_request
    def _https_only():
        if request.scheme == "https" or request.path == "/healthz":
            return None
        if request.host.rsplit(":", 1)[0].lower() in _LOOPBACK or request.host.lower() in _LOOPBACK:
            return None
        if request.blueprint == "api" or request.path.startswith("/api/"):
            from flask import jsonify

            return jsonify(error="https_required", message=HTTPS_NEEDED, fields={}), 400
        return app.response_class(
            f"<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Alleen via "
            f"HTTPS</title></head><body><main><h1>Alleen via HTTPS</h1><p>{HTTPS_NEEDED}</p>"
            f"</main></body></html>", status=400, mimetype="text/html")
