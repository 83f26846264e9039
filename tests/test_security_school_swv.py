"""What a school and an SWV adviser can infer beyond what they may see (issue: Trust, 3 and 4).

A school sees only the verzuim cases it reported itself, in coarse steps: no deadlines (not in
the output, not as a filter, not as the list's order), no hidden steps (history, version,
updated_at). An SWV without toestemming cannot tie an anonymous advice round to an earlier
named one, and its regional view cannot be differenced down to one case.
"""
from __future__ import annotations

from casework import policy
from casework.extensions import db
from casework.models import Case, Letter
from casework.services.suppression import SUPPRESSED, primary
from sqlalchemy import select

from conftest import web_signed_in
from factories import fire_and_commit, make_case
from factories_verzuim import fire_and_commit as fire_verzuim
from factories_verzuim import make_verzuim_case

SCHOOL = "school@devoorbeeld.test"
SWV = "adviseur@swv-voorbeeldregio.test"


def _list(client, headers, **query):
    response = client.get("/api/v1/cases", query_string={"per_page": 100, **query}, headers=headers)
    return response


# ------------------------------------------------------------------ 3. the school


def test_a_school_does_not_see_a_case_the_lpa_opened(client, auth_headers, demo):
    own = make_verzuim_case(demo, "ontvangen", soort="signaal")
    lpa_case = make_verzuim_case(demo, "ontvangen", soort="melding", by=demo.lpa)
    headers = auth_headers(SCHOOL)
    ids = {item["id"] for item in _list(client, headers).get_json()["items"]}
    assert own.id in ids and lpa_case.id not in ids
    assert client.get(f"/api/v1/cases/{lpa_case.id}", headers=headers).status_code == 404
    # Nor a receipt (or any) letter for a report it never sent.
    to_school = db.session.scalars(select(Letter).where(
        Letter.case_id == lpa_case.id, Letter.recipient_role == "school")).all()
    assert to_school == []
    assert db.session.scalars(select(Letter).where(
        Letter.case_id == own.id, Letter.recipient_role == "school")).all()


def test_a_school_cannot_filter_or_sort_on_deadlines(client, auth_headers, demo):
    first = make_verzuim_case(demo, "ontvangen", soort="signaal")
    second = make_verzuim_case(demo, "in_onderzoek", soort="melding")
    headers = auth_headers(SCHOOL)
    response = _list(client, headers, due_before="2099-01-01")
    assert response.status_code == 422
    body = response.get_json()
    assert "due_before" in body["fields"] and "school" in body["message"]
    items = _list(client, headers).get_json()["items"]
    ids = [item["id"] for item in items]
    assert ids == sorted(ids, reverse=True)  # newest report first, whatever the deadlines
    assert ids.index(second.id) < ids.index(first.id)
    assert all(item["due_on"] is None for item in items)
    # The LPA keeps its filter.
    assert _list(client, auth_headers("leerplicht@voorbeeldstad.test"),
                 due_before="2099-01-01").status_code == 200


def test_hidden_steps_do_not_move_the_schools_version_or_history(client, auth_headers, demo):
    case = make_verzuim_case(demo, "in_onderzoek", soort="melding")
    headers = auth_headers(SCHOOL)
    before = client.get(f"/api/v1/cases/{case.id}", headers=headers).get_json()
    fire_verzuim(demo, case, "kies_route:vrijwillige_hulp")
    fire_verzuim(demo, case, "start_monitoring")
    after = client.get(f"/api/v1/cases/{case.id}", headers=headers).get_json()
    assert after["state"] == before["state"] == "in_behandeling"
    assert after["version"] == before["version"]
    assert after["updated_at"] == before["updated_at"]
    assert after["history"] == before["history"]
    events = {row["event"] for row in after["history"]}
    assert "start_monitoring" not in events and "kies_route" not in events
    assert case.version > before["version"]  # the real version did move


def test_the_school_fires_its_own_step_with_the_version_it_sees(client, auth_headers, demo):
    case = make_verzuim_case(demo, "ontvangen", soort="signaal")
    headers = auth_headers(SCHOOL)
    seen = client.get(f"/api/v1/cases/{case.id}", headers=headers).get_json()
    stale = client.post(f"/api/v1/cases/{case.id}/events/trek_in", headers=headers,
                        json={"expected_version": seen["version"] + 1,
                              "reden": "Dubbel gemeld, de leerling is weer op school."})
    assert stale.status_code == 409
    ok = client.post(f"/api/v1/cases/{case.id}/events/trek_in", headers=headers,
                     json={"expected_version": seen["version"],
                           "reden": "Dubbel gemeld, de leerling is weer op school."})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["state"] == "afgesloten"


# ------------------------------------------------------------------ 4. the SWV


def _anonymous_round(demo) -> tuple[Case, list[int]]:
    """A case advised once with toestemming, now re-assessed and asked again without."""
    case = make_case(demo, "herbeoordeling", toestemming=True)
    named_letters = [lt.id for lt in db.session.scalars(select(Letter).where(
        Letter.case_id == case.id, Letter.recipient_role == "swv"))]
    assert named_letters
    fire_and_commit(demo, case, "vraag_advies", toestemming=False)
    assert not case.toestemming
    return case, named_letters


def test_an_swv_cannot_tie_an_anonymous_round_to_the_named_one(client, auth_headers, demo):
    case, named_letters = _anonymous_round(demo)
    headers = auth_headers(SWV)
    # The round has its own id: the case's id, known from the named round, finds nothing.
    assert case.swv_ronde_id is not None and case.swv_ronde_id != case.id
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 404
    listed = _list(client, headers).get_json()["items"]
    assert case.id not in {item["id"] for item in listed}
    assert case.swv_ronde_id in {item["id"] for item in listed}
    out = client.get(f"/api/v1/cases/{case.swv_ronde_id}", headers=headers).get_json()
    assert out["id"] == case.swv_ronde_id and out["child"] is None
    assert out["reference"] != case.reference and case.reference not in str(out)
    assert str(case.id) not in {str(v) for v in out.values()}
    assert not {lt["id"] for lt in out["letters"]} & set(named_letters)
    assert [row["event"] for row in out["history"]] == ["vraag_advies"]
    assert out["created_at"] == out["history"][0]["at"]
    assert case.reference not in {item["reference"] for item in listed}
    assert _list(client, headers, q=case.reference).get_json()["items"] == []
    # The new request letter carries the round's kenmerk and id, not the case's; the named
    # round's letter (still the SWV's own) shows the id the SWV knew then.
    new_letter = db.session.scalars(select(Letter).where(
        Letter.case_id == case.id, Letter.recipient_role == "swv",
        Letter.id.not_in(named_letters))).one()
    assert new_letter.context["kenmerk"] == out["reference"] != case.reference
    assert client.get(f"/api/v1/letters/{new_letter.id}", headers=headers).get_json()["case_id"] \
        == case.swv_ronde_id
    assert client.get(f"/api/v1/letters/{named_letters[0]}", headers=headers).get_json()["case_id"] \
        == case.id
    web_signed_in(client, SWV)
    assert client.get(f"/zaken/{case.id}").status_code == 404
    page = client.get(f"/zaken/{case.swv_ronde_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert case.reference not in html and f"/zaken/{case.id}/" not in html
    assert f"/zaken/{case.swv_ronde_id}/stap/breng_advies_uit" in html


def test_the_swv_gives_its_advice_under_the_rounds_id(client, auth_headers, demo):
    case, _ = _anonymous_round(demo)
    headers = auth_headers(SWV)
    advies = {"advies": "Onderwijs thuis met begeleiding is mogelijk.", "soort": "algemeen",
              "mogelijkheden": []}
    wrong = client.post(f"/api/v1/cases/{case.id}/events/breng_advies_uit", headers=headers, json=advies)
    assert wrong.status_code == 404
    assert case.state == "advies_gevraagd"
    ok = client.post(f"/api/v1/cases/{case.swv_ronde_id}/events/breng_advies_uit", headers=headers,
                     json=advies)
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["id"] == case.swv_ronde_id and ok.get_json()["state"] == "advies_uitgebracht"


def test_other_roles_keep_the_cases_own_id(client, auth_headers, demo):
    case, _ = _anonymous_round(demo)
    lpa = auth_headers("leerplicht@voorbeeldstad.test")
    assert client.get(f"/api/v1/cases/{case.id}", headers=lpa).get_json()["id"] == case.id
    assert client.get(f"/api/v1/cases/{case.swv_ronde_id}", headers=lpa).status_code == 404


def test_a_first_round_and_rounds_with_the_same_consent_keep_the_cases_id(demo):
    case = make_case(demo, "advies_gevraagd", toestemming=False)
    assert case.swv_ronde_id is None
    assert policy.get_case_for(demo.swv, case.id) is case
    again = make_case(demo, "herbeoordeling", child=demo.lotte, toestemming=True)
    fire_and_commit(demo, again, "vraag_advies", toestemming=True)
    assert again.swv_ronde_id is None and policy.public_case_id(demo.swv, again) == again.id


def test_each_later_round_gets_a_fresh_id_and_the_last_one_ends(client, auth_headers, demo):
    case, _ = _anonymous_round(demo)
    first = case.swv_ronde_id
    fire_and_commit(demo, case, "vraag_ander_swv", swv=demo.swv_buur)  # to the neighbour SWV ...
    assert case.swv_id == demo.swv_buur.id
    fire_and_commit(demo, case, "vraag_ander_swv", swv=demo.swv_regio)  # ... and back, anonymous
    assert case.swv_id == demo.swv_regio.id and not case.toestemming
    assert case.swv_ronde_id not in (None, first, case.id)
    headers = auth_headers(SWV)
    assert client.get(f"/api/v1/cases/{first}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/cases/{case.swv_ronde_id}", headers=headers).status_code == 200


def test_the_round_kenmerk_is_stable_within_a_round(demo):
    case, _ = _anonymous_round(demo)
    assert policy.reference_for(demo.swv, case) == policy.reference_for(demo.swv, case)
    assert policy.reference_for(demo.swv, case).startswith("ADV-")


def test_swv_report_refuses_periods_shorter_than_a_quarter(client, auth_headers, demo):
    headers = auth_headers(SWV)
    for query in ({"van": "2026-01-02", "tot": "2026-03-31"},
                  {"van": "2026-01-01", "tot": "2026-02-15"}):
        response = client.get("/api/v1/reports/swv", query_string=query, headers=headers)
        assert response.status_code == 422, query
        assert "kwarta" in response.get_json()["message"]
    ok = client.get("/api/v1/reports/swv", query_string={"van": "2026-01-01", "tot": "2026-03-31"},
                    headers=headers)
    assert ok.status_code == 200, ok.get_json()


def test_zero_is_suppressed_like_one_to_four():
    assert primary(0) == SUPPRESSED
    assert [primary(n) for n in range(1, 5)] == [SUPPRESSED] * 4
    assert primary(5) == 5
