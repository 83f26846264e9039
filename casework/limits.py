"""Bounds on what a request may contain: text lengths (one set of numbers for the payload models,
the web forms and /openapi.json), integers that fit an id column (32 bits), no NUL bytes or lone surrogates,
JSON that is not nested deeper than a document ever needs. Bad input is a 400 with a Dutch message,
never a 500."""
from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, request
from pydantic import AfterValidator, BeforeValidator, Field

# ---------------------------------------------------------------- the numbers

#: a name, a time, a place, one line (schooljaar, gesprek_plaats, a mogelijkheid)
KORT = 200
#: a reason, a summary, an advice: a few paragraphs
TEKST = 4000
#: a list of short lines (mogelijkheden)
MAX_REGELS = 50
#: the largest integer anywhere in a request: every id is an INTEGER column, 32 bits on
#: PostgreSQL (SQLite takes 64); counts and versions stay far below it
MAX_INT = 2**31 - 1
#: JSON nested deeper than this is refused (the deepest real body has 3 levels)
MAX_JSON_DEPTH = 20
#: a search text is cut to this length
MAX_ZOEK = 100
#: the years a date in a request may have (date arithmetic near year 1 or 9999 overflows)
MIN_JAAR, MAX_JAAR = 1900, 2999

_DATUM = re.compile(r"(\d{4})-\d{2}-\d{2}")


def _no_bad_characters(value: str) -> str:
    problem = bad_character(value)
    if problem:
        raise ValueError(problem)
    return value


def _newlines(value: Any) -> Any:
    # A browser counts a line break as one character (maxlength) but sends \r\n.
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def tekst(max_length: int = TEKST, min_length: int = 0):
    """A free-text field type with its maximum length (and the characters a database refuses)."""
    # The length is checked on the str itself (after the line breaks are made one character).
    return Annotated[str, Field(min_length=min_length, max_length=max_length),
                     BeforeValidator(_newlines), AfterValidator(_no_bad_characters)]


Tekst = tekst(TEKST)
VerplichteTekst = tekst(TEKST, 1)
KorteTekst = tekst(KORT)
Regel = tekst(KORT, 1)


def bad_character(value: str) -> str | None:
    """A Dutch message when a text holds a NUL byte or half of a UTF-16 pair, or is a date
    outside MIN_JAAR..MAX_JAAR; else None."""
    match = _DATUM.fullmatch(value.strip()) if len(value) <= 12 else None
    if match and not MIN_JAAR <= int(match[1]) <= MAX_JAAR:
        return f"Deze datum ligt niet tussen {MIN_JAAR} en {MAX_JAAR}."
    if "\x00" in value:
        return "De tekst bevat een ongeldig teken (NUL)."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "De tekst bevat een ongeldig teken (een losse surrogaat)."
    return None


# ---------------------------------------------------------------- JSON bodies

class InputError(ValueError):
    """Bad raw input; `where` names the place (a field path) when there is one."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.message, self.where = message, where


def check_json(value: Any, path: str = "", depth: int = 0) -> None:
    """Walk a parsed JSON value: every number within MAX_INT, every text clean, depth bounded."""
    if depth > MAX_JSON_DEPTH:
        raise InputError(f"De inhoud is te diep genest (meer dan {MAX_JSON_DEPTH} niveaus).", path)
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        if abs(value) > MAX_INT:
            raise InputError("Dit getal is te groot.", path)
        return
    if isinstance(value, str):
        problem = bad_character(value)
        if problem:
            raise InputError(problem, path)
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_json(item, f"{path}.{i}" if path else str(i), depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            problem = bad_character(key)
            if problem:
                raise InputError(problem, path or "body")
            check_json(item, f"{path}.{key}" if path else key, depth + 1)


def _refuse_constant(name: str):
    raise InputError(f"{name} is geen geldig getal in JSON.")


def parse_json(raw: bytes) -> Any:
    """json.loads with the checks above; InputError (or ValueError for bad JSON) when refused."""
    import json

    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:
        raise InputError(f"De inhoud is te diep genest (meer dan {MAX_JSON_DEPTH} niveaus).") from None
    check_json(value)
    return value


# ---------------------------------------------------------------- path, query and form values

def _bad_value(value: str) -> str | None:
    problem = bad_character(value)
    if problem:
        return problem
    digits = value.strip().lstrip("+-")
    if digits.isdigit() and len(digits) > 9 and int(digits) > MAX_INT:
        return "Dit getal is te groot."
    return None


def too_large_message(app: Flask) -> str:
    limit = app.config.get("MAX_CONTENT_LENGTH") or 0
    size = f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit // 1024} kB"
    return f"Het verzoek is te groot: maximaal {size}."


def install_input_checks(app: Flask) -> None:
    """Refuse, before any view runs, a path integer beyond MAX_INT and a query or form value
    with a NUL byte, such an integer or a date outside MIN_JAAR..MAX_JAAR: the API with a 400 in JSON, the web with its error page."""

    def refuse(message: str, name: str):
        if request.blueprint == "api" or request.path.startswith("/api/"):
            from .services.errors import BadRequest

            raise BadRequest(message, {name: [message]})
        abort(400, message)

    @app.url_value_preprocessor
    def _path_values(endpoint, values):
        for name, value in (values or {}).items():
            if isinstance(value, int) and abs(value) > MAX_INT:
                if request.blueprint == "api":
                    refuse("Dit nummer in het adres is te groot.", name)
                abort(404)

    @app.before_request
    def _query_and_form_values():
        if request.endpoint == "static":
            return None
        try:  # Werkzeug would quietly turn broken UTF-8 (e.g. an encoded lone surrogate) into U+FFFD
            unquote_to_bytes(request.query_string).decode("utf-8")
        except UnicodeDecodeError:
            refuse("De zoekparameters bevatten een ongeldig teken (geen geldige UTF-8).", "query")
        for name, value in request.args.items(multi=True):
            problem = _bad_value(value) or bad_character(name)
            if problem:
                refuse(f"Zoekparameter {name}: {problem}", name)
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for name, value in request.form.items(multi=True):
                problem = _bad_value(value) or bad_character(name)
                if problem:
                    refuse(f"Veld {name}: {problem}", name)
        return None
