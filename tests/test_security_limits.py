"""Resource limits, no 500s on hostile input, and secure defaults (findings 5, 6 and 7)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import make_case
from test_api_support import ON_TIME, api_fixture  # noqa: F401  (the api fixture)
from test_web import logged_in

from casework import create_app
from casework.extensions import db
from casework.forms.events import event_form
from casework.limits import KORT, MAX_JSON_DEPTH, TEKST
from casework.models import Case, Letter
from config import ProductionConfig, load_config

LPA = "leerplicht@voorbeeldstad.test"
ROOT = Path(__file__).resolve().parent.parent


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == code
    assert body["message"]
    if field is not None:
        assert field in body["fields"], body
    return body


def raw_post(api, who: str, path: str, raw: bytes | str):
    return api.client.post(f"/api/v1{path}", headers=api.headers(who), data=raw,
                           content_type="application/json")


def kennisgeving(demo, **extra) -> dict:
    return {"type": "vrijstelling_5a", "child_id": demo.sam.id, "schooljaar": ON_TIME,
            "toelichting": "Veel angst.", **extra}


# ================================================================ 5. resource limits

def test_body_over_the_limit_is_a_dutch_413_on_the_api(api, demo, app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    body = json.dumps(kennisgeving(demo, toelichting="x" * (1024 * 1024 + 10)))
    response = raw_post(api, "ouder1", "/cases", body)
    payload = assert_error(response, 413, "too_large")
    assert "1 MB" in payload["message"]
    assert db.session.query(Case).filter_by(child_id=demo.sam.id).count() == 0


def test_body_over_the_limit_is_a_readable_page_on_the_web(client, demo):
    logged_in(client, LPA)
    response = client.post("/kennisgeving/nieuw", data={"toelichting": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "Te groot" in html and "maximaal 1 MB" in html
    assert response.mimetype == "text/html"


def test_body_limit_is_a_setting(monkeypatch):
    monkeypatch.setenv("CASEWORK_MAX_BODY_BYTES", "2048")
    assert load_config("test")["MAX_CONTENT_LENGTH"] == 2048


def test_free_text_over_its_maximum_is_refused_naming_the_field(api, demo):
    response = api.post("ouder1", "/cases", kennisgeving(demo, toelichting="x" * (TEKST + 1)))
    body = assert_error(response, 422, "validation_failed", "toelichting")
    assert body["fields"]["toelichting"] == [f"Deze tekst is te lang: maximaal {TEKST} tekens."]
    ok = api.post("ouder1", "/cases", kennisgeving(demo, toelichting="x" * TEKST))
    assert ok.status_code == 201, ok.get_json()


def test_event_text_over_its_maximum_changes_nothing(api, demo):
    case = make_case(demo)
    version = case.version
    response = api.fire("lpa", case.id, "verklaar_niet_ontvankelijk", reden="x" * (TEKST + 1))
    assert_error(response, 422, "validation_failed", "reden")
    db.session.expire_all()
    assert db.session.get(Case, case.id).version == version


def test_line_breaks_count_once_like_a_browser_counts_them(api, demo):
    text = "ab\r\n" * (TEKST // 3)  # 3 characters per line for a browser, 4 as sent
    assert len(text.replace("\r\n", "\n")) <= TEKST < len(text)
    response = api.post("ouder1", "/cases", kennisgeving(demo, toelichting=text))
    assert response.status_code == 201, response.get_json()


def _request_schemas(document: dict) -> dict[str, dict]:
    schemas = document["components"]["schemas"]
    wanted = {}
    for path in document["paths"].values():
        for op in path.values():
            for content in op.get("requestBody", {}).get("content", {}).values():
                stack = [content["schema"]]
                while stack:
                    node = stack.pop()
                    if "$ref" in node:
                        name = node["$ref"].rsplit("/", 1)[1]
                        if name not in wanted:
                            wanted[name] = schemas[name]
                            stack.append(schemas[name])
                        continue
                    for key in ("oneOf", "anyOf", "allOf"):
                        stack.extend(node.get(key, []))
                    stack.extend(node.get("properties", {}).values())
                    if isinstance(node.get("items"), dict):
                        stack.append(node["items"])
    return wanted


def _bounded_pattern(pattern: str | None) -> bool:
    """A pattern such as ^\\d{4}-\\d{4}$ allows only short values."""
    return bool(pattern) and pattern.startswith("^") and pattern.endswith("$") \
        and not any(c in pattern for c in "*+")


def _strings_without_maximum(schema: dict, where: str) -> list[str]:
    found = []
    options = [schema, *schema.get("anyOf", [])]
    for option in options:
        if option.get("type") == "string" and "enum" not in option and "const" not in option \
                and option.get("format") not in ("date", "date-time") and "maxLength" not in option \
                and not _bounded_pattern(option.get("pattern")):
            found.append(where)
        if option.get("type") == "array" and isinstance(option.get("items"), dict):
            found += _strings_without_maximum(option["items"], where + "[]")
    return found


def test_openapi_gives_every_free_text_input_a_maximum(client):
    document = client.get("/api/v1/openapi.json").get_json()
    missing = []
    for name, schema in _request_schemas(document).items():
        for prop, sub in schema.get("properties", {}).items():
            missing += _strings_without_maximum(sub, f"{name}.{prop}")
    for path in document["paths"].values():
        for op in path.values():
            for param in op.get("parameters", []):
                if param["in"] == "query":
                    missing += _strings_without_maximum(param["schema"],
                                                        f"{op['operationId']}?{param['name']}")
    assert missing == []
    toelichting = document["components"]["schemas"]["CreateCase.vrijstelling_5a"]["properties"][
        "toelichting"]
    assert toelichting["maxLength"] == TEKST


def test_web_forms_take_their_maximum_from_the_payload_model(client, demo):
    case = make_case(demo)
    form = event_form("verklaar_niet_ontvankelijk", demo.lpa, case)
    assert form.reden.render_kw["maxlength"] == TEKST
    logged_in(client, LPA)
    html = client.get("/kennisgeving/nieuw").get_data(as_text=True)
    assert f'maxlength="{TEKST}"' in html
    page = client.get(f"/zaken/{case.id}").get_data(as_text=True)
    assert f'maxlength="{TEKST}"' in page


def test_web_form_refuses_too_long_text_next_to_the_field(client, demo):
    case = make_case(demo)
    logged_in(client, LPA)
    response = client.post(f"/zaken/{case.id}/stap/verklaar_niet_ontvankelijk", data={
        "verklaar_niet_ontvankelijk-reden": "x" * (TEKST + 1),
        "verklaar_niet_ontvankelijk-bevestiging": "y",
        "verklaar_niet_ontvankelijk-expected_version": str(case.version)})
    assert response.status_code in (400, 422)
    assert f"maximaal {TEKST} tekens" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "kennisgeving_ontvangen"


def test_web_form_for_a_school_holiday_bounds_the_name(client, demo):
    logged_in(client, "beheer@voorbeeldstad.test")
    response = client.post("/beheer/schoolvakanties/nieuw", data={
        "schooljaar": "2026-2027", "geldt_voor": "regio:midden", "naam": "x" * 61,
        "begin": "2026-10-17", "eind": "2026-10-25"})
    assert response.status_code < 500
    assert "maximaal 60 tekens" in response.get_data(as_text=True)


def test_a_letter_with_every_text_at_its_maximum_stays_small(demo):
    from casework.letters.render import LETTER_MAX_HTML_CHARS, render_letter_html
    from casework.services.letters import revive

    case = make_case(demo)
    from casework.services.cases import commit, fire

    fire(case, "verklaar_niet_ontvankelijk", actor=demo.lpa, data={"reden": "woord " * (TEKST // 6)})
    commit()
    letter = db.session.query(Letter).filter_by(case_id=case.id, kind="v5a_niet_ontvankelijk").one()
    html = render_letter_html(letter.kind, revive(letter.context))
    assert "woord woord" in html
    assert len(html) < LETTER_MAX_HTML_CHARS / 5


def test_an_oversized_letter_fails_before_weasyprint(demo, app, monkeypatch):
    from casework.letters import render
    from casework.letters.tasks import render_letter_now

    case = make_case(demo)
    letter = db.session.query(Letter).filter_by(case_id=case.id).first()
    monkeypatch.setitem(app.config, "LETTER_MAX_HTML_CHARS", 1000)
    monkeypatch.setattr(render, "render_pdf", lambda html: pytest.fail("WeasyPrint was called"))
    with pytest.raises(render.LetterTooLargeError):
        render_letter_now(letter.id)
    db.session.expire_all()
    letter = db.session.get(Letter, letter.id)
    assert letter.status == "failed"
    assert "te groot" in letter.last_error


# ================================================================ 6. no 500s

HUGE = 2**64
BEYOND_AN_ID = 2**40  # fits in 64 bits, not in PostgreSQL's INTEGER


@pytest.mark.parametrize("path", [f"/cases/{HUGE}", f"/cases/{HUGE}/audit",
                                  f"/letters/{HUGE}", f"/letters/{HUGE}/pdf",
                                  f"/cases/{BEYOND_AN_ID}"])
def test_integer_beyond_an_id_in_the_path_is_400(api, path):
    body = assert_error(api.get("lpa", path), 400, "bad_request")
    assert "te groot" in body["message"]


def test_integer_beyond_an_id_in_an_event_path_is_400(api):
    response = api.post("lpa", f"/cases/{BEYOND_AN_ID}/events/vul_aan", {"aanvulling": "Meer."})
    assert_error(response, 400, "bad_request", "case_id")


def test_integer_beyond_an_id_in_a_web_path_is_404(client, demo):
    logged_in(client, LPA)
    assert client.get(f"/zaken/{HUGE}").status_code == 404
    assert client.get(f"/zaken/{BEYOND_AN_ID}").status_code == 404


@pytest.mark.parametrize("query", [f"page={HUGE}", "page=10000000000000", f"per_page={HUGE}",
                                   f"due_before=2026-01-01&page={HUGE}"])
def test_integer_beyond_its_range_in_the_query_is_400(api, query):
    assert_error(api.get("lpa", f"/cases?{query}"), 400, "bad_request")
    assert_error(api.get("lpa", f"/children?{query}"), 400, "bad_request")


@pytest.mark.parametrize("value", [HUGE, -HUGE, 1e300, 10**30, BEYOND_AN_ID])
def test_integer_beyond_an_id_in_the_body_is_400_naming_the_field(api, demo, value):
    body = assert_error(api.post("ouder1", "/cases", kennisgeving(demo, child_id=value)), 400,
                        "bad_request", "child_id")
    assert body["fields"]["child_id"] == ["Dit getal is te groot."]


def test_expected_version_beyond_an_id_is_400(api, demo):
    case = make_case(demo)
    response = api.fire("lpa", case.id, "verklaar_niet_ontvankelijk", reden="Onvolledig.",
                        expected_version=BEYOND_AN_ID)
    assert_error(response, 400, "bad_request", "expected_version")


@pytest.mark.parametrize("query", ["van=0001-01-01&tot=0001-02-01", "van=2026-01-01&tot=9999-12-31"])
def test_dates_out_of_range_in_the_query_are_400(api, query):
    body = assert_error(api.get("lpa", f"/duo/export?{query}"), 400, "bad_request")
    assert "1900" in body["message"]


def test_dates_out_of_range_in_the_body_are_400(api, demo):
    response = api.post("lpa", "/cases", kennisgeving(demo, ontvangen_op="0001-01-01"))
    assert_error(response, 400, "bad_request", "ontvangen_op")


@pytest.mark.parametrize("raw", ['{"child_id": NaN}', '{"child_id": Infinity}'])
def test_non_numbers_are_400(api, raw):
    assert_error(raw_post(api, "ouder1", "/cases", raw), 400, "bad_request")


@pytest.mark.parametrize("raw", ["[" * 100_000, '{"a":' * 100_000,
                                 '{"type": "verzuim", "x": ' + "[" * (MAX_JSON_DEPTH + 5)
                                 + "]" * (MAX_JSON_DEPTH + 5) + "}"])
def test_deeply_nested_json_is_400(api, raw):
    body = assert_error(raw_post(api, "ouder1", "/cases", raw), 400, "bad_request")
    assert "genest" in body["message"] or "JSON" in body["message"]


def test_lone_surrogate_is_400(api, demo):
    raw = json.dumps(kennisgeving(demo)).replace("Veel angst.", "Veel \\ud800 angst.")
    body = assert_error(raw_post(api, "ouder1", "/cases", raw), 400, "bad_request", "toelichting")
    assert "surrogaat" in body["message"]
    raw = '{"type": "vrijstelling_5a", "\\udfff": 1}'
    assert_error(raw_post(api, "ouder1", "/cases", raw), 400, "bad_request")


def test_broken_utf8_in_the_query_is_400_not_a_silent_replacement(api, client):
    """An encoded lone surrogate (or any broken UTF-8) in a search is refused, not searched for
    as U+FFFD; on the web too."""
    for query in ("q=%ED%A0%80", "q=Jan%FFsen", "q%C3=1"):
        body = assert_error(api.get("lpa", f"/cases?{query}"), 400, "bad_request", "query")
        assert "UTF-8" in body["message"]
    assert client.get("/zaken?q=%ED%A0%80").status_code == 400
    assert api.get("lpa", "/cases?q=J%C3%A9r%C3%B4me").status_code == 200  # real accents are fine


def test_nul_byte_in_the_body_is_400(api, demo):
    body = assert_error(api.post("ouder1", "/cases", kennisgeving(demo, toelichting="a\x00b")), 400,
                        "bad_request", "toelichting")
    assert "NUL" in body["message"]


@pytest.mark.parametrize("path", ["/cases?q=Sam%00", "/children?q=%00", "/cases?state=%00"])
def test_nul_byte_in_a_search_is_400(api, path):
    body = assert_error(api.get("lpa", path), 400, "bad_request")
    assert "NUL" in body["message"]


def test_nul_byte_in_a_web_search_is_a_400_page(client, demo):
    logged_in(client, LPA)
    for path in ("/zaken?q=Sam%00", "/mijn-kinderen?q=%00"):
        response = client.get(path)
        assert response.status_code == 400
        assert "ongeldig teken" in response.get_data(as_text=True)


def test_search_text_has_a_maximum(api):
    assert_error(api.get("lpa", "/cases?q=" + "a" * 101), 400, "bad_request", "q")


def test_token_endpoint_bounds_its_input(client, demo):
    response = client.post("/api/v1/auth/token", json={"email": "a" * 10_000 + "@x.test",
                                                      "password": "demo"})
    assert response.status_code in (400, 422)


# ================================================================ 7. secure by default

def test_production_is_the_default_environment(monkeypatch):
    monkeypatch.delenv("CASEWORK_ENV", raising=False)
    monkeypatch.delenv("CASEWORK_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="CASEWORK_SECRET_KEY"):
        load_config()
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("CASEWORK_AUDIT_KEY", "a" * 48)
    cfg = load_config()
    assert cfg["ENV_NAME"] == "production"
    assert cfg["SESSION_COOKIE_SECURE"] is True


def test_wsgi_without_environment_does_not_start_with_a_public_key(monkeypatch):
    import importlib
    import sys

    monkeypatch.delenv("CASEWORK_ENV", raising=False)
    monkeypatch.delenv("CASEWORK_SECRET_KEY", raising=False)
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, "wsgi", raising=False)
    with pytest.raises(RuntimeError, match="CASEWORK_SECRET_KEY"):
        importlib.import_module("wsgi")


def test_the_scripts_choose_their_environment_explicitly():
    assert 'export CASEWORK_ENV="${CASEWORK_ENV:-development}"' in (ROOT / "scripts/run.sh").read_text()
    assert "export CASEWORK_ENV=test" in (ROOT / "scripts/test.sh").read_text()


def _production_app(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "p" * 48)
    monkeypatch.setenv("CASEWORK_AUDIT_KEY", "q" * 48)
    monkeypatch.setenv("CASEWORK_DATABASE_URL", f"sqlite:///{tmp_path}/prod.db")
    return create_app(ProductionConfig.from_env(), QUEUE_BACKEND="memory")


@pytest.mark.no_transaction
def test_flask_demo_refuses_production(tmp_path, monkeypatch):
    app = _production_app(tmp_path, monkeypatch)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "niet in productie" in result.output
    assert not (tmp_path / "prod.db").exists() or (tmp_path / "prod.db").stat().st_size == 0


@pytest.mark.no_transaction
def test_production_sends_hsts(tmp_path, monkeypatch):
    app = _production_app(tmp_path, monkeypatch)
    client = app.test_client()
    for path in ("/api/v1/openapi.json", "/inloggen"):
        response = client.get(path, base_url="https://casework.test")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000"), path


def test_no_hsts_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/api/v1/openapi.json").headers


def _no_store(response) -> None:
    assert response.headers["Cache-Control"] == "no-store", response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_api_answers_are_never_cached(api, demo):
    from conftest import render_pending

    case = make_case(demo)
    _no_store(api.get("lpa", "/cases"))
    _no_store(api.get("lpa", f"/cases/{case.id}"))
    _no_store(api.get("lpa", "/children"))
    _no_store(api.get("lpa", "/cases/999999"))  # errors too
    _no_store(api.client.get("/api/v1/cases"))  # and 401
    render_pending()
    letter = db.session.query(Letter).filter_by(case_id=case.id).first()
    pdf = api.get("ouder1", f"/letters/{letter.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    _no_store(pdf)


def test_authenticated_web_pages_and_pdfs_are_never_cached(client, demo):
    from conftest import render_pending

    case = make_case(demo)
    logged_in(client, LPA)
    _no_store(client.get("/zaken"))
    _no_store(client.get(f"/zaken/{case.id}"))
    render_pending()
    letter = db.session.query(Letter).filter_by(case_id=case.id).first()
    _no_store(client.get(f"/brieven/{letter.id}.pdf"))
