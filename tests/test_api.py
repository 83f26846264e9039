"""The JSON API's error contract (api.md): one test per status code and cause, and the tokens."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from conftest import otp_code
from test_api_support import LATE, TODAY, api_fixture  # noqa: F401  (the api fixture)

from casework.extensions import db
from casework.models import ApiToken, utcnow
from casework.workflows.base import add_months
from fake_clock import install_clock


def assert_error(response, status: int, code: str, *fields: str) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    for name in fields:
        assert name in body["fields"], body
    return body


# ---------------------------------------------------------------- authentication (401, 429)

def test_token_for_valid_credentials(client, demo):
    response = client.post("/api/v1/auth/token", json={"email": "LEERPLICHT@voorbeeldstad.test ",
                                                      "password": "demo",
                                                      "otp": otp_code("leerplicht@voorbeeldstad.test")})
    body = response.get_json()
    assert response.status_code == 200, body
    assert set(body) == {"token", "expires_at"}
    assert body["expires_at"].endswith("Z")


def test_unknown_email_and_wrong_password_get_the_same_answer(client, demo):
    unknown = client.post("/api/v1/auth/token", json={"email": "niemand@x.test", "password": "demo"})
    wrong = client.post("/api/v1/auth/token", json={"email": "ouder1@voorbeeld.test", "password": "fout"})
    assert_error(unknown, 401, "unauthenticated")
    assert unknown.get_json() == wrong.get_json()


def test_token_body_must_be_complete(client, demo):
    assert_error(client.post("/api/v1/auth/token", json={"email": "ouder1@voorbeeld.test"}),
                 422, "validation_failed", "password")


def test_too_many_failures_are_rate_limited(client, app, demo, monkeypatch):
    clock = install_clock(monkeypatch)
    for _ in range(app.config["LOGIN_ACCOUNT_FREE_FAILURES"]):
        response = client.post("/api/v1/auth/token", json={"email": "ouder2@voorbeeld.test", "password": "x"})
        assert response.status_code == 401
    # Even the right password must wait now: 429 with Retry-After, no password checked.
    response = client.post("/api/v1/auth/token", json={"email": "ouder2@voorbeeld.test", "password": "demo"})
    body = assert_error(response, 429, "rate_limited")
    assert response.headers["Retry-After"] == "1" and body["retry_after"] == 1
    assert "1 seconde" in body["message"]
    clock.advance(seconds=1)
    response = client.post("/api/v1/auth/token", json={"email": "ouder2@voorbeeld.test", "password": "demo"})
    assert response.status_code == 200


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer niet-een-echt-token"},
    {"Authorization": "Basic b3VkZXIxOmRlbW8="},
    {"Authorization": "Bearer "},
])
def test_missing_or_bad_token_is_401(client, demo, headers):
    assert_error(client.get("/api/v1/cases", headers=headers), 401, "unauthenticated")


def test_revoked_token_is_401(client, api):
    headers = api.headers("ouder1")
    response = client.delete("/api/v1/auth/token", headers=headers)
    assert response.status_code == 200 and response.get_json() == {"revoked": True}
    assert_error(client.get("/api/v1/cases", headers=headers), 401, "unauthenticated")
    assert_error(client.delete("/api/v1/auth/token", headers=headers), 401, "unauthenticated")


def test_expired_token_is_401(client, api, demo):
    headers = api.headers("lpa")
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    db.session.execute(update(ApiToken).where(ApiToken.user_id == demo.lpa.id)
                       .values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert_error(client.get("/api/v1/cases", headers=headers), 401, "unauthenticated")


def test_token_is_stored_hashed(client, api, demo):
    token = api.headers("ouder1")["Authorization"].split()[1]
    hashes = db.session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == demo.ouder1.id))
    assert token not in list(hashes)


# ---------------------------------------------------------------- 400

def test_body_that_is_not_json_is_400(api):
    response = api.client.post("/api/v1/cases", headers=api.headers("ouder1"), data="{kapot",
                               content_type="application/json")
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("raw", ["[1, 2]", '"tekst"', "12", "null"])
def test_body_that_is_not_an_object_is_400(api, raw):
    response = api.client.post("/api/v1/cases", headers=api.headers("ouder1"), data=raw,
                               content_type="application/json")
    assert_error(response, 400, "bad_request")


def test_wrong_type_in_payload_is_400_naming_the_field(api, demo):
    case = api.case_in("in_behandeling")
    response = api.fire("arts", case["id"], "vraag_advies", swv_id=demo.swv_regio.id, toestemming="ja",
                        toestemming_door="ouder", samenvatting="Korte schets.")
    body = assert_error(response, 400, "bad_request", "toestemming")
    assert body["fields"]["toestemming"] == ["Kies ja of nee (true of false)."]


def test_wrong_type_of_case_type_is_400(api, demo):
    assert_error(api.post("ouder1", "/cases", {"type": ["vrijstelling_5a"], "child_id": demo.sam.id}),
                 400, "bad_request", "type")


def test_expected_version_must_be_an_integer(api, demo):
    case = api.file()
    response = api.fire("lpa", case["id"], "neem_in_behandeling", deskundige_id=demo.arts.id,
                        expected_version="2")
    assert_error(response, 400, "bad_request", "expected_version")


@pytest.mark.parametrize("query", ["per_page=0", "per_page=101", "page=nul", "state=onbekend",
                                   "type=anders", "due_before=morgen"])
def test_invalid_list_parameters_are_400(api, query):
    name = query.split("=")[0]
    assert_error(api.get("lpa", f"/cases?{query}"), 400, "bad_request", name)


# ---------------------------------------------------------------- 403

def test_ouder_may_not_take_own_childs_case_in_behandeling(api, demo):
    case = api.file()
    response = api.fire("ouder1", case["id"], "neem_in_behandeling", deskundige_id=demo.arts.id)
    assert_error(response, 403, "forbidden")


def test_route_rules_answer_403_as_json(api):
    assert_error(api.get("ouder1", "/deskundigen"), 403, "forbidden")
    assert_error(api.get("lpa", "/audit/verify"), 403, "forbidden")
    assert_error(api.post("beheerder", "/cases", {"type": "vrijstelling_5a"}), 403, "forbidden")


def test_school_may_not_file_a_kennisgeving(api, demo):
    body = {"type": "vrijstelling_5a", "child_id": demo.sam.id, "schooljaar": "2027-2028"}
    assert_error(api.post("school", "/cases", body), 403, "forbidden")


# ---------------------------------------------------------------- 404

def test_other_parents_case_is_404_not_403(api, demo):
    case = api.file()
    assert_error(api.get("ouder2", f"/cases/{case['id']}"), 404, "not_found")
    assert_error(api.fire("ouder2", case["id"], "trek_in"), 404, "not_found")
    # The same answer as for a case that does not exist at all.
    missing = api.get("ouder2", "/cases/999999")
    assert_error(missing, 404, "not_found")
    assert missing.get_json() == api.get("ouder2", f"/cases/{case['id']}").get_json()


@pytest.mark.parametrize("who", ["school", "beheerder", "lpa_buurdorp", "swv", "arts"])
def test_uninvolved_users_do_not_see_a_fresh_case(api, who):
    case = api.file()
    assert_error(api.get(who, f"/cases/{case['id']}"), 404, "not_found")


def test_unknown_event_is_404_only_after_visibility(api):
    case = api.file()
    body = assert_error(api.fire("lpa", case["id"], "vlieg_weg"), 404, "not_found")
    assert "vlieg_weg" in body["message"]
    assert api.fire("ouder2", case["id"], "vlieg_weg").get_json() == \
        api.get("ouder2", "/cases/999999").get_json()


def test_unknown_api_paths_and_methods_answer_json(api, client):
    assert_error(client.get("/api/v1/bestaat-niet"), 404, "not_found")
    assert_error(client.get("/api/v1/cases/abc", headers=api.headers("lpa")), 404, "not_found")
    response = client.put("/api/v1/cases", headers=api.headers("lpa"), json={})
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_letter_of_someone_else_is_404(api):
    case = api.file()
    letter_id = case["letters"][0]["id"]
    assert_error(api.get("ouder2", f"/letters/{letter_id}"), 404, "not_found")
    assert_error(api.get("ouder2", f"/letters/{letter_id}/pdf"), 404, "not_found")
    assert_error(api.get("ouder1", "/letters/999999"), 404, "not_found")


# ---------------------------------------------------------------- 409

def test_event_in_the_wrong_state_is_409_invalid_transition(api):
    case = api.file()
    body = assert_error(api.fire("ouder1", case["id"], "vul_aan", aanvulling="Meer info."),
                        409, "invalid_transition")
    assert "Kennisgeving ontvangen" in body["message"]
    assert_error(api.fire("lpa", case["id"], "beeindig", reden="verhuisd"), 409, "invalid_transition")


def test_stale_expected_version_is_409_conflict(api, demo):
    case = api.file()
    response = api.fire("lpa", case["id"], "neem_in_behandeling", deskundige_id=demo.arts.id,
                        expected_version=case["version"] - 1)
    assert_error(response, 409, "conflict")
    assert api.get("lpa", f"/cases/{case['id']}").get_json()["state"] == "kennisgeving_ontvangen"
    accepted = api.ok(api.fire("lpa", case["id"], "neem_in_behandeling", deskundige_id=demo.arts.id,
                               expected_version=case["version"]))
    assert accepted["version"] > case["version"]


def test_second_kennisgeving_for_a_child_with_an_open_case_is_409(api, demo):
    first = api.file()
    response = api.post("lpa", "/cases", {"type": "vrijstelling_5a", "child_id": demo.sam.id,
                                          "schooljaar": "2027-2028"})
    body = assert_error(response, 409, "conflict")
    assert first["reference"] in body["message"]
    assert body["open_case_id"] == first["id"]
    assert body["open_case_reference"] == first["reference"]


def test_pdf_of_a_pending_letter_is_409_pending(api):
    case = api.file()
    letter = case["letters"][0]
    assert letter["status"] == "pending"
    assert_error(api.get("ouder1", f"/letters/{letter['id']}/pdf"), 409, "pending")


# ---------------------------------------------------------------- 422

def test_missing_payload_field_is_422(api):
    case = api.file()
    assert_error(api.fire("lpa", case["id"], "neem_in_behandeling"), 422, "validation_failed",
                 "deskundige_id")


def test_kennisgeving_for_a_child_that_is_not_yours_is_422(api, demo):
    body = {"type": "vrijstelling_5a", "child_id": demo.noor.id, "schooljaar": "2027-2028"}
    assert_error(api.post("ouder1", "/cases", body), 422, "validation_failed", "child_id")


def test_unknown_case_type_is_422(api, demo):
    assert_error(api.post("lpa", "/cases", {"type": "iets", "child_id": demo.sam.id}), 422,
                 "validation_failed", "type")
    assert_error(api.post("lpa", "/cases", {"child_id": demo.sam.id}), 422, "validation_failed", "type")


def test_late_notice_needs_motivering_te_laat(api, demo):
    case = api.file(schooljaar=LATE)
    assert case["data"]["te_laat"] is True
    response = api.fire("lpa", case["id"], "neem_in_behandeling", deskundige_id=demo.arts.id)
    body = assert_error(response, 422, "validation_failed", "motivering_te_laat")
    assert body["message"] == body["fields"]["motivering_te_laat"][0]
    accepted = api.accept(case, motivering_te_laat="Ouder was lang in het ziekenhuis.")
    assert accepted["state"] == "in_behandeling"


def test_deskundige_must_serve_the_gemeente(api, demo):
    case = api.file()
    assert_error(api.fire("lpa", case["id"], "neem_in_behandeling", deskundige_id=demo.swv.id),
                 422, "validation_failed", "deskundige_id")


def test_jongere_under_16_cannot_give_consent(api, demo):
    case = api.case_in("in_behandeling")
    response = api.fire("arts", case["id"], "vraag_advies", swv_id=demo.swv_regio.id, toestemming=True,
                        toestemming_door="jongere", samenvatting="Korte schets.")
    body = assert_error(response, 422, "validation_failed", "toestemming_door")
    assert "ouders beslissen" in body["fields"]["toestemming_door"][0]


def test_persoonlijk_advies_needs_consent(api):
    case = api.case_in("advies_gevraagd", consent=False)
    response = api.fire("swv", case["id"], "breng_advies_uit", soort="persoonlijk", advies="Advies.",
                        mogelijkheden=[])
    assert_error(response, 422, "validation_failed", "soort")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"verklaringsdatum": add_months(TODAY, -3) - timedelta(days=1)}, "verklaringsdatum"),
    ({"verklaringsdatum": TODAY + timedelta(days=1)}, "verklaringsdatum"),
    ({"niet_behandelend_arts": False}, "niet_behandelend_arts"),
    ({"einddatum": add_months(TODAY, 3), "herbeoordelingsdatum": add_months(TODAY, 4)}, "herbeoordelingsdatum"),
    ({"einddatum": None, "herbeoordelingsdatum": add_months(TODAY, 12) + timedelta(days=1)},
     "herbeoordelingsdatum"),
    ({"herbeoordelingsdatum": None}, "herbeoordelingsdatum"),
    ({"ingangsdatum": None}, "ingangsdatum"),
    ({"weging_advies": "  "}, "weging_advies"),
])
def test_verklaring_guards_are_422_naming_the_field(api, overrides, field):
    case = api.case_in("advies_uitgebracht")
    body = api.verklaring(geschikt=False)
    body |= {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in overrides.items()}
    response = api.fire("arts", case["id"], "geef_verklaring", **body)
    assert_error(response, 422, "validation_failed", field)
    assert api.get("arts", f"/cases/{case['id']}").get_json()["state"] == "advies_uitgebracht"


def test_herbeoordeling_at_exactly_twelve_months_is_allowed(api):
    case = api.case_in("advies_uitgebracht")
    declared = api.declare(case, einddatum=None,
                           herbeoordelingsdatum=add_months(TODAY, 12).isoformat())
    assert declared["state"] == "vrijgesteld"


# ---------------------------------------------------------------- health

def test_healthz_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok"}


def test_healthz_is_503_when_the_database_fails(client, app_ctx, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database weg"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "db": "error"}


def test_healthz_is_503_when_the_letter_queue_is_down(client, monkeypatch):
    from casework.extensions import queue

    def down():
        raise ConnectionError("Redis weg")

    monkeypatch.setattr(queue.huey, "pending_count", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "db": "ok", "queue": "error"}
