"""Lists through the API: cases (filters, search, paging, no N+1), children, organisations, people."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from test_api_support import api_fixture  # noqa: F401  (the api fixture)

from casework.extensions import db
from casework.models import Case, Child


@contextmanager
def count_queries():
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
            statements.append(statement)

    db.session.expunge_all()  # the tests share one session: nothing may come from its identity map
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


@pytest.fixture
def three_cases(api, demo):
    """Sam (in behandeling), Lotte and Daan (new) in Voorbeeldstad; Noor's in Buurdorp."""
    sam = api.accept(api.file("ouder1", child=demo.sam))
    lotte = api.file("ouder1", child=demo.lotte)
    daan = api.file("ouder1", child=demo.daan)
    noor = api.file("ouder2", child=demo.noor)
    return {"sam": sam, "lotte": lotte, "daan": daan, "noor": noor}


def ids(body: dict) -> list[int]:
    return [item["id"] for item in body["items"]]


# ---------------------------------------------------------------- cases

def test_lists_are_scoped_per_user(api, three_cases):
    c = three_cases
    voorbeeldstad = {c["sam"]["id"], c["lotte"]["id"], c["daan"]["id"]}
    assert set(ids(api.ok(api.get("lpa", "/cases")))) == voorbeeldstad
    assert ids(api.ok(api.get("lpa_buurdorp", "/cases"))) == [c["noor"]["id"]]
    assert set(ids(api.ok(api.get("ouder1", "/cases")))) == voorbeeldstad
    assert ids(api.ok(api.get("ouder2", "/cases"))) == [c["noor"]["id"]]
    assert ids(api.ok(api.get("arts", "/cases"))) == [c["sam"]["id"]]
    for who in ("swv", "school", "beheerder"):
        body = api.ok(api.get(who, "/cases"))
        assert body == {"items": [], "total": 0, "page": 1, "per_page": 25}


def test_case_summary_shape(api, three_cases, demo):
    item = api.ok(api.get("lpa", f"/cases?q={three_cases['lotte']['reference']}"))["items"][0]
    assert set(item) == {"id", "type", "reference", "state", "state_label", "child", "gemeente", "due_on",
                         "updated_at"}
    assert item["child"]["voornaam"] == "Lotte"
    assert item["gemeente"] == {"id": demo.voorbeeldstad.id, "naam": "Gemeente Voorbeeldstad"}
    assert item["due_on"] == three_cases["lotte"]["deadlines"][0]["due"]


def test_filter_by_state_and_type(api, three_cases):
    body = api.ok(api.get("lpa", "/cases?state=in_behandeling"))
    assert ids(body) == [three_cases["sam"]["id"]] and body["total"] == 1
    body = api.ok(api.get("lpa", "/cases?state=kennisgeving_ontvangen&type=vrijstelling_5a"))
    assert set(ids(body)) == {three_cases["lotte"]["id"], three_cases["daan"]["id"]}
    assert api.ok(api.get("lpa", "/cases?type=verzuim"))["total"] == 0


def test_pagination_totals_and_order(api, three_cases, demo):
    c = three_cases
    # Sam's deadline (beoordeling, 6 weeks) is later than the two new ones (behandeling, 2 weeks);
    # push Daan's to the end by clearing it, as a case without a deadline sorts last.
    db.session.get(Case, c["daan"]["id"]).due_on = None
    db.session.commit()
    page1 = api.ok(api.get("lpa", "/cases?per_page=2"))
    page2 = api.ok(api.get("lpa", "/cases?per_page=2&page=2"))
    page3 = api.ok(api.get("lpa", "/cases?per_page=2&page=3"))
    assert (page1["total"], page2["total"], page3["total"]) == (3, 3, 3)
    assert (page1["page"], page2["page"], page1["per_page"]) == (1, 2, 2)
    assert ids(page1) + ids(page2) == [c["lotte"]["id"], c["sam"]["id"], c["daan"]["id"]]
    assert page3["items"] == []


def test_a_large_list_counts_up_to_the_cap_and_says_so(api, three_cases, app, monkeypatch):
    """Above LIST_COUNT_CAP the total is the cap with total_capped; a search counts exactly."""
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", 2)
    body = api.ok(api.get("lpa", "/cases?per_page=1"))
    assert (body["total"], body["total_capped"], len(body["items"])) == (2, True, 1)
    assert api.ok(api.get("lpa", "/cases?per_page=1&page=3"))["items"] != []  # paging goes on
    exact = api.ok(api.get("lpa", "/cases?q=jansen"))
    assert exact["total"] == 3 and "total_capped" not in exact
    past_the_end = api.ok(api.get("lpa", "/cases?q=jansen&page=9"))
    assert (past_the_end["items"], past_the_end["total"]) == ([], 2)  # the count's total, capped
    assert past_the_end["total_capped"] is True
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", 3)
    body = api.ok(api.get("lpa", "/cases"))
    assert body["total"] == 3 and "total_capped" not in body  # exactly the cap is not capped


def test_due_before(api, three_cases):
    due = three_cases["lotte"]["deadlines"][0]["due"]
    assert api.ok(api.get("lpa", f"/cases?due_before={due}"))["total"] == 0
    body = api.ok(api.get("lpa", "/cases?due_before=2999-01-01"))
    assert body["total"] == 3


def test_search_by_name_and_reference(api, three_cases):
    c = three_cases
    assert ids(api.ok(api.get("lpa", "/cases?q=lotte"))) == [c["lotte"]["id"]]
    assert api.ok(api.get("lpa", "/cases?q=JANSEN"))["total"] == 3
    assert ids(api.ok(api.get("lpa", "/cases?q=daan jansen"))) == [c["daan"]["id"]]
    assert ids(api.ok(api.get("lpa", f"/cases?q={c['sam']['reference'].lower()}"))) == [c["sam"]["id"]]
    # Only within scope: Buurdorp's LPA does not find Sam; wildcards are taken literally.
    assert api.ok(api.get("lpa_buurdorp", "/cases?q=Sam"))["total"] == 0
    assert api.ok(api.get("lpa", "/cases?q=%25"))["total"] == 0
    assert api.ok(api.get("lpa", "/cases?q=_"))["total"] == 0


def test_list_has_no_n_plus_one(api, three_cases, demo):
    headers = api.headers("lpa")
    api.get("lpa", "/cases")  # warm up whatever is cached per process
    with count_queries() as one:
        assert len(api.client.get("/api/v1/cases?per_page=1", headers=headers).get_json()["items"]) == 1
    with count_queries() as three:
        assert len(api.client.get("/api/v1/cases?per_page=3", headers=headers).get_json()["items"]) == 3
    assert len(three) == len(one), three
    # The page's reads go to the access log in one INSERT, whatever the page size.
    logged = [s for s in three if s.lstrip().upper().startswith("INSERT INTO ACCESS_LOG")]
    assert len(logged) == 1, three
    assert len(three) - len(logged) <= 8, three


# ---------------------------------------------------------------- children

def test_children_are_scoped(api, demo):
    lpa = api.ok(api.get("lpa", "/children"))
    assert {c["voornaam"] for c in lpa["items"]} == {"Sam", "Lotte", "Daan"} and lpa["total"] == 3
    item = next(c for c in lpa["items"] if c["voornaam"] == "Sam")
    assert item == {"id": demo.sam.id, "voornaam": "Sam", "achternaam": "Jansen",
                    "geboortedatum": "2017-03-14",
                    "gemeente": {"id": demo.voorbeeldstad.id, "naam": "Gemeente Voorbeeldstad"},
                    "school": {"id": demo.sam.school_id, "naam": "Basisschool De Voorbeeld"}}
    assert [c["voornaam"] for c in api.ok(api.get("ouder2", "/children"))["items"]] == ["Noor"]
    assert [c["voornaam"] for c in api.ok(api.get("school_college", "/children"))["items"]] == ["Noor"]
    assert api.ok(api.get("swv", "/children"))["total"] == 0


def test_children_search(api, demo):
    assert [c["voornaam"] for c in api.ok(api.get("lpa", "/children?q=lot"))["items"]] == ["Lotte"]
    # BSN prefix: for the LPA only.
    prefix = demo.sam.bsn[:7]
    assert [c["id"] for c in api.ok(api.get("lpa", f"/children?q={prefix}"))["items"]] == [demo.sam.id]
    assert api.ok(api.get("ouder1", f"/children?q={prefix}"))["total"] == 0
    assert api.ok(api.get("school", f"/children?q={prefix}"))["total"] == 0


VALID_CHILD = {"bsn": "111222333", "voornaam": "Mila", "achternaam": "Bos", "geboortedatum": "2018-02-03",
               "geslacht": "V", "adres": "Beukstraat 1", "postcode_plaats": "1234 ZZ Voorbeeldstad"}


def test_lpa_registers_a_child_in_own_gemeente(api, demo):
    body = VALID_CHILD | {"gemeente_id": demo.voorbeeldstad.id, "school_id": demo.sam.school_id,
                          "ouder_emails": ["Ouder1@voorbeeld.test"]}  # known here: Sam's parent
    child = api.ok(api.post("lpa", "/children", body), 201)
    assert child["voornaam"] == "Mila" and child["gemeente"]["id"] == demo.voorbeeldstad.id
    stored = db.session.get(Child, child["id"])
    assert stored.bsn == "111222333" and [p.email for p in stored.parents] == ["ouder1@voorbeeld.test"]
    # The linked parent may now file for this child.
    assert "Mila" in {c["voornaam"] for c in api.ok(api.get("ouder1", "/children"))["items"]}
    assert api.file("ouder1", child=stored)["child"]["voornaam"] == "Mila"


@pytest.mark.parametrize(("change", "field", "status"), [
    ({"bsn": "111222334"}, "bsn", 422),
    ({"bsn": "12345678"}, "bsn", 422),
    ({"bsn": "100023757"}, "bsn", 422),  # Sam's: already registered
    ({"bsn": 111222333}, "bsn", 400),
    ({"geslacht": "Q"}, "geslacht", 422),
    ({"geboortedatum": "2999-01-01"}, "geboortedatum", 422),
    ({"voornaam": ""}, "voornaam", 422),
    ({"ouder_emails": ["geen-email"]}, "ouder_emails", 422),
    ({"ouder_emails": ["onbekend@voorbeeld.test"]}, "ouder_emails", 422),
    ({"school_id": -1}, "school_id", 422),
    ({"gemeente_id": "buurdorp"}, "gemeente_id", 400),
])
def test_child_validation_names_the_field(api, demo, change, field, status):
    body = VALID_CHILD | {"gemeente_id": demo.voorbeeldstad.id} | change
    response = api.post("lpa", "/children", body)
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["fields"]


def test_lpa_cannot_register_a_child_in_another_gemeente(api, demo):
    response = api.post("lpa", "/children", VALID_CHILD | {"gemeente_id": demo.buurdorp.id})
    assert response.status_code == 422 and "gemeente_id" in response.get_json()["fields"]
    assert db.session.scalar(select(Child).where(Child.bsn == VALID_CHILD["bsn"])) is None


def test_beheerder_registers_children_and_others_may_not(api, demo):
    # Only in the beheerder's own gemeente (a child elsewhere would show who lives there).
    assert api.post("beheerder", "/children", VALID_CHILD | {"gemeente_id": demo.buurdorp.id}).status_code == 422
    assert api.post("beheerder", "/children", VALID_CHILD | {"gemeente_id": demo.voorbeeldstad.id}).status_code == 201
    for who in ("ouder1", "school", "arts"):
        assert api.post(who, "/children", VALID_CHILD | {"gemeente_id": demo.voorbeeldstad.id}).status_code == 403


# ---------------------------------------------------------------- organisations, deskundigen

def test_organisations(api, demo):
    everything = api.ok(api.get("school", "/organisations"))
    assert isinstance(everything, list) and len(everything) == 7
    assert set(everything[0]) == {"id", "naam", "kind"}
    swv = api.ok(api.get("ouder1", "/organisations?kind=swv"))
    assert {o["naam"] for o in swv} == {"SWV Voorbeeldregio", "SWV Naburige Regio"}
    assert all(o["kind"] == "swv" for o in swv)
    assert api.get("ouder1", "/organisations?kind=bank").status_code == 400


def test_deskundigen_for_the_lpa(api, demo):
    body = api.ok(api.get("lpa", "/deskundigen"))
    assert body == [{"id": demo.arts.id, "naam": demo.arts.naam,
                     "organisation": {"id": demo.ggd.id, "naam": "GGD Voorbeeld"}}]
    assert api.get("arts", "/deskundigen").status_code == 403
