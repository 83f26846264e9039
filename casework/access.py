"""Applies policy.ROUTE_RULES to every request: an endpoint without a rule does not exist."""
from __future__ import annotations

from flask import Flask, abort, redirect, request, url_for
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
        if user is None:
            return redirect(url_for("auth.login", next=request.full_path))
        if rule != policy.AUTHENTICATED and user.role not in rule:
            if request.blueprint == "api":  # the API's error handler logs the refusal
                from .services.errors import Forbidden

                raise Forbidden("Uw rol heeft geen toegang tot dit onderdeel.")
            log_refusal(403)
            abort(403)
        return None
