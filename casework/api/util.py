"""Small helpers every API view uses: the caller, the JSON body, the query string, the answer,
and the @doc decorator that feeds /openapi.json."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Response, request
from pydantic import BaseModel, ValidationError

from casework import auth
from casework.limits import InputError, parse_json
from casework.models import User
from casework.services.cases import validation_error
from casework.services.errors import BadRequest

M = TypeVar("M", bound=BaseModel)


def current_user() -> User:
    """The bearer token's user (access.py has already refused a request without one)."""
    return auth.api_user()


def json_body() -> dict:
    """The request body as a JSON object; an empty body counts as {}."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = parse_json(raw)
    except InputError as exc:
        raise BadRequest(exc.message, {exc.where or "body": [exc.message]}) from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("De inhoud van het verzoek is geen geldige JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("De inhoud van het verzoek moet een JSON-object zijn ({...}).")
    return body


def parse_query(model: type[M]) -> M:
    """The query string through its model; any invalid value is a 400 that names the parameter."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        fields = validation_error(exc).fields
        raise BadRequest("Een of meer zoekparameters zijn ongeldig.", fields) from None


def respond(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status=status, mimetype="application/json")


# ---------------------------------------------------------------- OpenAPI metadata

@dataclass(frozen=True)
class Operation:
    """What /openapi.json says about one view; kept next to the view it describes."""

    summary: str
    tag: str
    description: str = ""
    body: type[BaseModel] | Callable[[Any], dict] | None = None
    body_content_type: str = "application/json"
    query: type[BaseModel] | None = None
    response: type[BaseModel] | Callable[[Any], dict] | None = None
    status: int = 200
    content_type: str = "application/json"
    errors: tuple[int, ...] = ()
    path_params: dict[str, Callable[[], dict]] = field(default_factory=dict)


def doc(**kwargs) -> Callable:
    def decorate(view):
        view.openapi = Operation(**kwargs)
        return view

    return decorate
