"""The server-rendered web UI: blueprints `auth` and `web`, error pages, security headers."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from casework import policy

from .texts import ROLE_LABELS

ERROR_TEXTS = {
    400: ("Er ging iets mis met het formulier",
          "Het formulier kon niet worden verwerkt. Ga terug, laad de pagina opnieuw en probeer het nog eens."),
    403: ("Geen toegang", "U heeft geen toegang tot deze pagina."),
    404: ("Niet gevonden", "Deze pagina bestaat niet, of u heeft er geen toegang toe."),
    405: ("Dat kan zo niet", "Deze pagina werkt niet op deze manier. Ga terug en gebruik de knoppen op de pagina."),
    409: ("Dat kan nu niet", "Deze stap kan nu niet. Laad de pagina opnieuw om te zien hoe het ervoor staat."),
    429: ("Even wachten", "Te veel pogingen. Probeer het over een kwartier opnieuw."),
    500: ("Er ging iets mis", "Er ging bij ons iets mis. Probeer het later opnieuw."),
}
_API_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 429: "rate_limited", 500: "server_error"}

# No outside resources, no inline script; PDFs are served without it (the browser's viewer).
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _is_api() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def error_page(status: int, message: str | None = None, title: str | None = None):
    default_title, default_message = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    return render_template("errors/error.html", status=status, title=title or default_title,
                           message=message or default_message), status


def _http_error(exc: HTTPException):
    status = exc.code or 500
    if _is_api():  # the API's own handlers win for its routes; this covers paths without a route
        return jsonify({"error": _API_CODES.get(status, "error"),
                        "message": ERROR_TEXTS.get(status, ERROR_TEXTS[500])[1], "fields": {}}), status
    return error_page(status)


def _bad_request(exc: HTTPException):
    if _is_api():
        return _http_error(exc)
    own = exc.description if exc.description != type(exc).description else None
    return error_page(400, own, "Dat kan zo niet")


def _too_large(exc: HTTPException):
    from flask import current_app

    from ..limits import too_large_message

    message = too_large_message(current_app)
    if _is_api():
        return jsonify({"error": "too_large", "message": message, "fields": {}}), 413
    return error_page(413, message + " Maak het bestand of de tekst kleiner en probeer het opnieuw.",
                      "Te groot")


def _csrf_error(exc: CSRFError):
    if _is_api():
        return _http_error(exc)
    return error_page(400, "Het formulier is verlopen of niet compleet verstuurd. "
                           "Ga terug, laad de pagina opnieuw en probeer het nog eens.",
                      "Formulier verlopen")


def _nav_items(user) -> list[tuple[str, str]]:
    role = user.role
    if role == "leerplichtambtenaar":
        return [("web.cases", "Werkvoorraad"), ("web.children", "Kinderen"),
                ("web.new_kennisgeving", "Kennisgeving registreren"),
                ("web.new_verzuim", "Verzuim registreren"),
                ("web.duo_import", "DUO-meldingen"), ("web.telling", "Leerplichttelling")]
    if role == "school":
        return [("web.cases", "Verzuim"), ("web.children", "Leerlingen"),
                ("web.new_verzuim", "Verzuim melden")]
    if role == "jeugdarts":
        return [("web.cases", "Mijn toegewezen zaken")]
    if role == "swv_adviseur":
        return [("web.cases", "Adviesaanvragen"), ("web.swv_overzicht", "Regio-overzicht")]
    if role == "ouder":
        return [("web.children", "Mijn kinderen"), ("web.cases", "Zaken"),
                ("web.new_kennisgeving", "Beroep doen op vrijstelling")]
    if role == "beheerder":
        return [("web.audit", "Audit controleren"), ("web.telling", "Leerplichttelling"),
                ("web.beheer_organisaties", "Organisaties"), ("web.beheer_instellingen", "Instellingen"),
                ("web.schoolvakanties", "Schoolvakanties"), ("auth.users", "Gebruikers"),
                ("web.beheer_kinderen", "Kinderen en ouders"), ("web.beheer_access_log", "Toegangslog"),
                ("web.beheer_brieven", "Mislukte brieven"), ("web.beheer_wijzigingen", "Wijzigingen")]
    return []


def _session_idle_seconds(user) -> int:
    """Seconds of idleness before this page's session ends (for the warning script), or 0."""
    from casework import auth

    if user is None or auth.current_session_row() is None:
        return 0
    return int(auth.idle_timeout(user).total_seconds())


def register_views(app: Flask) -> None:
    from . import auth as auth_views
    from . import beheer, beheer_gebruikers, beheer_organisaties, duo, reports, toegang, web  # noqa: F401  they add their pages to web.bp

    app.register_blueprint(auth_views.bp)
    app.register_blueprint(web.bp)

    for status in (403, 404, 405, 409, 429, 500):
        app.register_error_handler(status, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(400, _bad_request)
    app.register_error_handler(413, _too_large)

    # The id in a case's links (also in macros): an SWV may know the round by its own id.
    app.jinja_env.globals["case_link_id"] = lambda case: policy.public_case_id(
        current_user if current_user.is_authenticated else None, case)

    @app.context_processor
    def _layout_context():
        user = current_user if current_user.is_authenticated else None
        return {
            "current": user,
            "role_label": ROLE_LABELS.get(user.role, user.role) if user else "",
            "nav_items": _nav_items(user) if user else [],
            "session_idle_seconds": _session_idle_seconds(user),
        }

    @app.after_request
    def _security_headers(response):
        hsts = app.config.get("HSTS_SECONDS") or 0
        if hsts > 0:
            response.headers.setdefault("Strict-Transport-Security",
                                        f"max-age={hsts}; includeSubDomains")
        if _is_api():
            # Every API answer may carry personal data: never cached, never sniffed.
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", _CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static":
            # Case data must not stay in a shared computer's cache (nor come back with "Back").
            response.headers["Cache-Control"] = "no-store"
        return response
