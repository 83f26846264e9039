"""/api/v1/openapi.json is generated from the routes and the same pydantic models that validate."""
from __future__ import annotations

import json
import re

import pytest

from casework import policy
from casework.api.schemas import ChildIn, TokenIn
from casework.workflows import WORKFLOWS

REF = "#/components/schemas/{model}"


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule)


def test_every_api_route_is_documented(app, document):
    assert document["openapi"].startswith("3.1")
    api_rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")]
    assert any(r.rule.startswith("/api/v1/") for r in api_rules)
    for rule in api_rules:
        path = document["paths"].get(openapi_path(rule.rule))
        assert path is not None, f"{rule.rule} ontbreekt in openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = path[method.lower()]
            assert operation["operationId"] == rule.endpoint.split(".", 1)[1]
            assert operation["summary"]
    under_prefix = {openapi_path(r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")}
    assert under_prefix <= set(document["paths"])
    assert "/healthz" in document["paths"]


def test_security_follows_route_rules(document):
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for operation in item.values():
            endpoint = "api." + operation["operationId"]
            public = policy.ROUTE_RULES[endpoint] == policy.PUBLIC
            assert (operation.get("security") == []) == public, path
            if not public:
                assert operation["responses"]["401"] == {"$ref": "#/components/responses/E401"}


def test_errors_reference_the_error_schema(document):
    error = document["components"]["schemas"]["Error"]
    assert {"error", "message", "fields"} <= set(error["required"])
    for status in ("400", "401", "403", "404", "409", "422"):
        response = document["components"]["responses"][f"E{status}"]
        assert response["content"]["application/json"]["schema"] == {"$ref": REF.format(model="Error")}
    fire = document["paths"]["/api/v1/cases/{case_id}/events/{event}"]["post"]
    assert {"400", "401", "403", "404", "409", "422"} <= set(fire["responses"])


def test_event_payloads_come_from_the_workflows(document):
    schemas = document["components"]["schemas"]
    fire = document["paths"]["/api/v1/cases/{case_id}/events/{event}"]["post"]
    body = fire["requestBody"]["content"]["application/json"]["schema"]
    event_param = next(p for p in fire["parameters"] if p["name"] == "event")
    for case_type, wf in WORKFLOWS.items():
        for name, spec in wf.events.items():
            if name == wf.open_event:
                continue
            assert name in event_param["schema"]["enum"]
            component = f"{case_type}.{name}"
            assert body["x-payloads"][case_type][name] == REF.format(model=component)
            assert {"$ref": REF.format(model=component)} in body["allOf"][1]["anyOf"]
            expected = spec.payload.model_json_schema(ref_template=REF)
            expected.pop("$defs", None)
            assert schemas[component] == expected
    verklaring = schemas["vrijstelling_5a.geef_verklaring"]
    assert {"weging_advies", "verklaringsdatum", "niet_behandelend_arts", "herbeoordelingsdatum"} <= \
        set(verklaring["properties"])
    assert "geschikt" in verklaring["required"]
    assert schemas["vrijstelling_5a.breng_advies_uit"]["properties"]["soort"]["enum"] == ["persoonlijk", "algemeen"]
    assert "expected_version" in schemas["EventEnvelope"]["properties"]


def test_request_bodies_are_the_validating_models(document):
    schemas = document["components"]["schemas"]
    create = document["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create["discriminator"]["propertyName"] == "type"
    kennisgeving = schemas["CreateCase.vrijstelling_5a"]
    assert {"type", "child_id", "schooljaar"} <= set(kennisgeving["required"])
    assert kennisgeving["properties"]["type"]["const"] == "vrijstelling_5a"
    for path, model in (("/api/v1/children", ChildIn), ("/api/v1/auth/token", TokenIn)):
        ref = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert ref == {"$ref": REF.format(model=model.__name__)}
        expected = model.model_json_schema(ref_template=REF)
        assert schemas[model.__name__] == expected
    params = {p["name"] for p in document["paths"]["/api/v1/cases"]["get"]["parameters"]}
    assert params == {"type", "state", "q", "due_before", "page", "per_page"}


def test_responses_are_documented_models(document):
    schemas = document["components"]["schemas"]
    case = schemas["CaseOut"]
    assert set(case["required"]) >= {"id", "reference", "state", "child", "data", "available_events",
                                      "deadlines", "history", "letters", "version"}
    get_case = document["paths"]["/api/v1/cases/{case_id}"]["get"]["responses"]["200"]
    assert get_case["content"]["application/json"]["schema"] == {"$ref": REF.format(model="CaseOut")}
    pdf = document["paths"]["/api/v1/letters/{letter_id}/pdf"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf["content"]


def test_every_reference_resolves(document):
    refs = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(document)))
    for ref in refs:
        section, name = ref.removeprefix("#/components/").split("/", 1)
        assert name in document["components"][section], ref


def test_document_is_valid_openapi(document):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)
