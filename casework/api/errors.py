"""Every API error is JSON: {"error", "message", "fields"} with the status of api.md."""
from __future__ import annotations

from flask import Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from casework.extensions import db
from casework.services.errors import DomainError

from . import api_bp

API_PREFIX = "/api/v1"

# HTTP errors Flask or Werkzeug raise themselves (routing, abort()) -> code and Dutch message.
_HTTP = {
    400: ("bad_request", "Het verzoek is niet goed opgebouwd."),
    401: ("unauthenticated", "Log in: stuur een geldig token mee (Authorization: Bearer …)."),
    403: ("forbidden", "U heeft geen toegang tot dit onderdeel."),
    404: ("not_found", "Dit adres bestaat niet in de API."),
    405: ("method_not_allowed", "Deze methode is hier niet toegestaan."),
    413: ("too_large", "Het verzoek is te groot."),
    415: ("unsupported_media_type", "Stuur de inhoud als JSON."),
    429: ("rate_limited", "Te veel verzoeken. Probeer het later opnieuw."),
}


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   **extra) -> Response:
    response = jsonify({"error": code, "message": message, "fields": fields or {}, **extra})
    response.status_code = status
    return response


@api_bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    db.session.rollback()  # nothing half-done survives a refused request
    if exc.status in (403, 404):
        from ..access import log_refusal

        log_refusal(exc.status)
    response = error_response(exc.status, exc.code, exc.message, exc.fields, **exc.extra)
    if exc.status == 429 and exc.extra.get("retry_after"):
        response.headers["Retry-After"] = str(exc.extra["retry_after"])
    return response


def _http_error(exc: HTTPException) -> Response:
    code, message = _HTTP.get(exc.code or 500, ("error", exc.description or "Er ging iets mis."))
    if exc.code == 413:
        from casework.limits import too_large_message

        message = too_large_message(current_app)
    response = error_response(exc.code or 500, code, message)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


@api_bp.errorhandler(HTTPException)
def _blueprint_http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc  # redirects are not errors
    db.session.rollback()
    return _http_error(exc)


@api_bp.errorhandler(InternalServerError)
def _server_error(exc: InternalServerError) -> Response:
    db.session.rollback()
    return error_response(500, "server_error",
                          "Er ging iets mis aan onze kant. Probeer het later opnieuw.")


def _is_api_path() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


@api_bp.record_once
def _install_routing_errors(state) -> None:
    """Routing errors (unknown API path, wrong method) happen before a blueprint is known, so a
    blueprint error handler never sees them: answer them as JSON from an app-wide hook that only
    touches /api/v1 and leaves the web UI's own error pages alone."""
    app = state.app

    @app.before_request
    def _api_routing_error():
        exc = request.routing_exception
        if exc is None or not _is_api_path():
            return None
        if isinstance(exc, HTTPException) and exc.code is not None and exc.code >= 400:
            return _http_error(exc)
        return None
