"""GET /openapi.json: OpenAPI 3.1, generated at run time from the app's routes, the @doc
metadata next to each view, ROUTE_RULES, the workflows and the same pydantic models that
validate requests."""
from __future__ import annotations

import json
import re
from functools import cache
from typing import Any, Literal

from flask import Flask, Response, current_app
from pydantic import BaseModel, create_model

from casework import policy
from casework.models import ROLES
from casework.workflows import WORKFLOWS

from . import api_bp
from .schemas import Error, EventEnvelope
from .util import Operation, doc

REF = "#/components/schemas/{model}"

_ERRORS = {
    400: "De inhoud is geen geldige JSON, of een waarde heeft het verkeerde type.",
    401: "Niet ingelogd: geen, een onbekend, verlopen of ingetrokken token.",
    403: "U mag de zaak zien, maar uw rol mag dit niet.",
    404: "Bestaat niet, of u mag het niet zien.",
    409: "Stap kan niet in deze toestand (`invalid_transition`), iemand anders was eerder "
         "(`conflict`), of de brief is nog niet klaar (`pending`).",
    422: "Een regel of controle slaagt niet; `fields` zegt welke.",
    429: "Te veel mislukte pogingen: wacht zoveel seconden als de header `Retry-After` (en "
         "`retry_after`) zegt en probeer het dan opnieuw.",
}


class Components:
    """components.schemas, filled as models are referenced; nested $defs are hoisted."""

    def __init__(self) -> None:
        self.schemas: dict[str, dict] = {}

    def model(self, model: type[BaseModel], name: str | None = None,
              mode: str = "validation") -> dict:
        name = name or model.__name__
        schema = self.hoist(model.model_json_schema(ref_template=REF, mode=mode))
        self._put(name, schema)
        return {"$ref": REF.format(model=name)}

    def hoist(self, schema: dict) -> dict:
        for def_name, definition in schema.pop("$defs", {}).items():
            self._put(def_name, definition)
        return schema

    def _put(self, name: str, schema: dict) -> None:
        existing = self.schemas.get(name)
        if existing is not None and existing != schema:
            raise RuntimeError(
                f"Twee verschillende schema's heten {name!r}; geef er één een eigen naam.")
        self.schemas[name] = schema


# ---------------------------------------------------------------- generated per workflow

@cache
def create_case_model(case_type: str) -> type[BaseModel]:
    """The opening event's payload plus the `type` that picks the workflow."""
    wf = WORKFLOWS[case_type]
    base = wf.events[wf.open_event].payload
    return create_model(f"CreateCase_{case_type}", __base__=base,
                        type=(Literal[case_type], ...))  # type: ignore[valid-type]


def create_case_body(components: Components) -> dict:
    refs = [components.model(create_case_model(ct), f"CreateCase.{ct}") for ct in WORKFLOWS]
    return {"oneOf": refs, "discriminator": {"propertyName": "type", "mapping": {
        ct: ref["$ref"] for ct, ref in zip(WORKFLOWS, refs, strict=True)}}}


def _fireable_events() -> list[tuple[str, str, type[BaseModel]]]:
    return [(wf.case_type, name, spec.payload) for wf in WORKFLOWS.values()
            for name, spec in wf.events.items() if name != wf.open_event]


def event_param() -> dict:
    return {"type": "string", "enum": sorted({name for _, name, _ in _fireable_events()})}


def event_body(components: Components) -> dict:
    mapping: dict[str, dict[str, str]] = {}
    refs = []
    for case_type, name, payload in _fireable_events():
        ref = components.model(payload, f"{case_type}.{name}")
        refs.append(ref)
        mapping.setdefault(case_type, {})[name] = ref["$ref"]
    return {"allOf": [components.model(EventEnvelope), {"anyOf": refs}], "x-payloads": mapping}


# ---------------------------------------------------------------- paths from the url map

_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _schema(components: Components, what, mode: str) -> dict | None:
    if what is None:
        return None
    if isinstance(what, type) and issubclass(what, BaseModel):
        return components.model(what, mode=mode)
    return what(components)


def _query_params(components: Components, model: type[BaseModel] | None) -> list[dict]:
    if model is None:
        return []
    schema = components.hoist(model.model_json_schema(ref_template=REF))
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema["properties"].items():
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop["description"]
        params.append(param)
    return params


def _operation(components: Components, endpoint: str, op: Operation,
               path_args: list[tuple[str, str]]) -> dict:
    rule = policy.ROUTE_RULES.get(endpoint)
    out: dict[str, Any] = {"operationId": endpoint.split(".", 1)[1], "summary": op.summary,
                           "tags": [op.tag]}
    if op.description:
        out["description"] = op.description
    params = []
    for converter, name in path_args:
        schema = op.path_params[name]() if name in op.path_params else (
            {"type": "integer"} if converter == "int" else {"type": "string"})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    params += _query_params(components, op.query)
    if params:
        out["parameters"] = params
    body = _schema(components, op.body, "validation")
    if body is not None:
        out["requestBody"] = {"required": True, "content": {op.body_content_type: {"schema": body}}}
    response = _schema(components, op.response, "serialization") or {}
    success = {"description": "Gelukt", "content": {op.content_type: {"schema": response}}}
    out["responses"] = {str(op.status): success}
    errors = set(op.errors)
    if rule == policy.PUBLIC:
        out["security"] = []
    else:
        errors.add(401)
        out["x-roles"] = sorted(rule) if isinstance(rule, frozenset) else list(ROLES)
        if isinstance(rule, frozenset):
            errors.add(403)
    if path_args:
        errors.add(404)
    if body is not None:
        errors.add(400)
    for status in sorted(errors):
        if status in _ERRORS:
            out["responses"][str(status)] = {"$ref": f"#/components/responses/E{status}"}
        else:  # e.g. /healthz's 503: the same shape as its 200
            out["responses"][str(status)] = {"description": "Niet beschikbaar",
                                             "content": success["content"]}
    return out


def build_document(app: Flask) -> dict:
    components = Components()
    error_ref = components.model(Error, mode="serialization")
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api."):
            continue
        view = app.view_functions[rule.endpoint]
        op = getattr(view, "openapi", None)
        if op is None:
            raise RuntimeError(
                f"API-route {rule.endpoint} heeft geen @doc: beschrijf haar voor OpenAPI.")
        path_args = [(m[1] or "default", m[2]) for m in _ARG.finditer(rule.rule)]
        path = _ARG.sub(lambda m: "{" + m[2] + "}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = _operation(components, rule.endpoint, op, path_args)
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Casework API",
            "version": "1",
            "description": "JSON-API voor leerplichtzaken (api.md). Fouten zijn altijd "
                           "`{error, message, fields}`; datums `JJJJ-MM-DD`, tijden ISO 8601 UTC.",
        },
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "Token van POST /api/v1/auth/token."}},
            "schemas": dict(sorted(components.schemas.items())),
            "responses": {f"E{status}": {"description": text,
                                         "content": {"application/json": {"schema": error_ref}}}
                          for status, text in _ERRORS.items()},
        },
    }


@api_bp.get("/openapi.json")
@doc(summary="OpenAPI-beschrijving", tag="meta",
     response=lambda components: {"type": "object", "description": "Dit document."})
def openapi():
    cached = current_app.extensions.setdefault("casework_api", {})
    if "openapi" not in cached:
        cached["openapi"] = json.dumps(build_document(current_app), ensure_ascii=False)
    return Response(cached["openapi"], mimetype="application/json")
