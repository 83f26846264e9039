"""Each gemeente keeps its own record of a child (one per BSN and gemeente): registering a BSN
that another gemeente knows answers exactly like an unknown BSN, nothing joins or shows the two
records across gemeenten, and a school's report, a DUO file or an import reaches the record of
the gemeente it is for."""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from casework.demo import load_demo
from casework.extensions import db
from casework.models import AccessLog, Case, Child
from casework.services import duo
from casework.services.import_vrijstellingen import import_vrijstellingen
from factories_verzuim import melding_data
from test_security_oracles import _body, _free_bsn, _logged
from test_web import logged_in

LPA = "leerplicht@voorbeeldstad.test"
LPA_B = "leerplicht@buurdorp.test"
DUPLICATE = "Er is al een kind met dit BSN ingeschreven in uw gemeente."
COLUMNS = ("bsn", "voornaam", "achternaam", "geboortedatum", "geslacht", "adres",
           "postcode_plaats", "gemeente_id", "school_id")


def _record(child_id: int) -> dict:
    db.session.expire_all()
    child = db.session.get(Child, child_id)
    return {c: getattr(child, c) for c in COLUMNS} | {"parents": sorted(p.id for p in child.parents)}


def _ids(client, headers, q: str) -> list[int]:
    response = client.get("/api/v1/children", headers=headers, query_string={"q": q, "per_page": 100})
    assert response.status_code == 200
    return [c["id"] for c in response.get_json()["items"]]


def _register_noor_in_voorbeeldstad(client, auth_headers, demo, **extra) -> int:
    response = client.post("/api/v1/children", headers=auth_headers(LPA),
                           json=_body(demo, demo.noor.bsn, **extra))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_bsn_of_another_gemeente_registers_exactly_like_an_unknown_bsn(client, auth_headers, demo):
    headers = auth_headers(LPA)
    noor_before = _record(demo.noor.id)
    before = _logged("bsn-lookup")
    elsewhere = client.post("/api/v1/children", headers=headers, json=_body(demo, demo.noor.bsn))
    unknown = client.post("/api/v1/children", headers=headers, json=_body(demo, _free_bsn()))
    assert elsewhere.status_code == unknown.status_code == 201, elsewhere.get_json()
    a, b = elsewhere.get_json(), unknown.get_json()
    new_id = a.pop("id")
    assert new_id != b.pop("id") and new_id != demo.noor.id
    assert a == b  # the same body apart from the new id
    assert sorted(elsewhere.headers.keys()) == sorted(unknown.headers.keys())
    assert _logged("bsn-lookup") == before + 2
    lookups = db.session.scalars(select(AccessLog).where(AccessLog.what == "bsn-lookup")
                                 .order_by(AccessLog.id.desc()).limit(2)).all()
    assert {(r.user_id, r.via, r.child_id) for r in lookups} == {(demo.lpa.id, "api", None)}

    # Buurdorp's record is untouched; Voorbeeldstad has a record of its own.
    assert _record(demo.noor.id) == noor_before
    mine = _record(new_id)
    assert (mine["gemeente_id"], mine["voornaam"], mine["parents"]) == (demo.voorbeeldstad.id, "Test", [])
    # Neither gemeente sees the other's record, nor does Noor's parent see the new one.
    assert _ids(client, headers, demo.noor.bsn) == [new_id]
    assert _ids(client, auth_headers(LPA_B), demo.noor.bsn) == [demo.noor.id]
    assert new_id not in _ids(client, auth_headers(LPA_B), "Test")
    assert new_id not in _ids(client, auth_headers("ouder2@voorbeeld.test"), "")
    # Nor may Buurdorp open a case on Voorbeeldstad's record.
    response = client.post("/api/v1/cases", headers=auth_headers(LPA_B),
                           json=melding_data(SimpleNamespace(id=new_id)))
    assert response.status_code in (404, 422), response.get_json()
    assert db.session.scalar(select(Case.id).where(Case.child_id == new_id)) is None


def test_a_bsn_already_in_the_own_gemeente_keeps_its_message(client, auth_headers, demo):
    headers = auth_headers(LPA)
    count = len(db.session.scalars(select(Child.id)).all())
    before = _logged("bsn-lookup")
    sam = client.post("/api/v1/children", headers=headers, json=_body(demo, demo.sam.bsn))
    assert sam.status_code == 422
    assert sam.get_json()["fields"] == {"bsn": [DUPLICATE]}
    # The look-up is logged, on the record it found (of the own gemeente).
    row = db.session.scalar(select(AccessLog).where(AccessLog.what == "bsn-lookup")
                            .order_by(AccessLog.id.desc()).limit(1))
    assert _logged("bsn-lookup") == before + 1 and row.child_id == demo.sam.id
    # Once Voorbeeldstad has its own record of Noor, that too is a duplicate here.
    _register_noor_in_voorbeeldstad(client, auth_headers, demo)
    again = client.post("/api/v1/children", headers=headers, json=_body(demo, demo.noor.bsn))
    assert again.status_code == 422 and again.get_json()["fields"] == {"bsn": [DUPLICATE]}
    assert len(db.session.scalars(select(Child.id)).all()) == count + 1


def test_a_registration_racing_another_of_the_same_bsn_gets_the_duplicate_message(
        client, auth_headers, demo, monkeypatch):
    """Between the look-up and the insert another request registers the BSN in this gemeente:
    the unique (bsn, gemeente) index answers, as a 422 with the same message (not a 500)."""
    import casework.api.children as children_api

    bsn, real = _free_bsn(), children_api.log_access

    def racing(*args, **kwargs):
        real(*args, **kwargs)
        db.session.add(Child(bsn=bsn, voornaam="Eerder", achternaam="Kind", geboortedatum=date(2016, 1, 1),
                             geslacht="X", adres="", postcode_plaats="", gemeente_id=demo.voorbeeldstad.id))
        db.session.flush()

    monkeypatch.setattr(children_api, "log_access", racing)
    response = client.post("/api/v1/children", headers=auth_headers(LPA), json=_body(demo, bsn))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["fields"] == {"bsn": [DUPLICATE]}
    assert db.session.scalars(select(Child.voornaam).where(Child.bsn == bsn)).all() == ["Eerder"]


def test_the_beheerder_access_log_by_bsn_finds_only_its_own_record(client, auth_headers, demo):
    from casework import policy

    new_id = _register_noor_in_voorbeeldstad(client, auth_headers, demo)
    assert policy.beheer_child_by_bsn(demo.beheerder, demo.noor.bsn).id == new_id


# ------------------------------------------------------------------ the school's pupils

def test_a_school_sees_each_gemeentes_record_by_name_and_its_report_goes_to_that_gemeente(
        client, auth_headers, demo):
    """A school may have pupils from several gemeenten. When two gemeenten each registered the
    pupil at the school, the school sees both records, each naming its gemeente, and its report
    goes to the gemeente of the record it chooses (where the pupil lives)."""
    college = demo.noor.school_id
    new_id = _register_noor_in_voorbeeldstad(client, auth_headers, demo, school_id=college,
                                             voornaam="Noor", achternaam="de Vries",
                                             geboortedatum="2012-09-02")
    school = auth_headers("school@voorbeeldcollege.test")
    assert sorted(_ids(client, school, "Noor")) == sorted([demo.noor.id, new_id])

    # The web form names the gemeente of each of the two records, and only of those.
    page = logged_in(client, "school@voorbeeldcollege.test").get("/verzuim/nieuw").get_data(as_text=True)
    assert "Noor de Vries (geboren 2 september 2012, Gemeente Buurdorp)" in page
    assert "Noor de Vries (geboren 2 september 2012, Gemeente Voorbeeldstad)" in page

    response = client.post("/api/v1/cases", headers=school, json=melding_data(SimpleNamespace(id=new_id)))
    assert response.status_code == 201, response.get_json()
    case = db.session.get(Case, response.get_json()["id"])
    assert (case.child_id, case.gemeente_id) == (new_id, demo.voorbeeldstad.id)
    buurdorp_cases = client.get("/api/v1/cases", headers=auth_headers(LPA_B)).get_json()["items"]
    assert case.id not in [c["id"] for c in buurdorp_cases]


# ------------------------------------------------------------------ DUO, import, demo

def _duo_row(bsn: str, brin: str = "99BB") -> bytes:
    start, eind = (date.today() - timedelta(days=21)).isoformat(), (date.today() - timedelta(days=2)).isoformat()
    return (f"bsn;brin;verzuimsoort;uren;periode_start;periode_eind;omschrijving\n"
            f"{bsn};{brin};V3;18;{start};{eind};Vaak afwezig\n").encode()


def _case_of(reference: str) -> Case:
    return db.session.scalar(select(Case).where(Case.reference == reference))


def test_duo_import_reaches_the_record_of_the_importing_gemeente(client, auth_headers, demo):
    new_id = _register_noor_in_voorbeeldstad(client, auth_headers, demo, school_id=demo.noor.school_id)
    for gemeente, expected in ((demo.voorbeeldstad, new_id), (demo.buurdorp, demo.noor.id)):
        report = duo.import_meldingen(_duo_row(demo.noor.bsn), dry_run=False, gemeente_ids=[gemeente.id])
        assert report.ok, report.lines()
        case = _case_of(report.rows[0].reference)
        assert (case.child_id, case.gemeente_id) == (expected, gemeente.id)


def test_duo_import_for_two_gemeenten_takes_the_record_at_the_reporting_school(client, auth_headers, demo):
    new_id = _register_noor_in_voorbeeldstad(client, auth_headers, demo, school_id=demo.sam.school_id)
    both = [demo.voorbeeldstad.id, demo.buurdorp.id]
    for brin, expected in (("99AA", new_id), ("99BB", demo.noor.id)):
        report = duo.import_meldingen(_duo_row(demo.noor.bsn, brin), dry_run=True, gemeente_ids=both)
        assert report.ok, report.lines()
        assert report.child_ids == [expected]
    # Both records at the same school: the file must be imported per gemeente.
    db.session.get(Child, new_id).school_id = demo.noor.school_id
    db.session.commit()
    report = duo.import_meldingen(_duo_row(demo.noor.bsn), dry_run=True, gemeente_ids=None)
    assert not report.ok and "meer dan één" in report.rows[0].reason


def test_import_of_old_exemptions_reaches_the_gemeentes_own_record(client, auth_headers, demo):
    new_id = _register_noor_in_voorbeeldstad(client, auth_headers, demo)
    begin = (date.today() - timedelta(days=30)).isoformat()
    content = f"bsn;begindatum;einddatum;grond\n{demo.noor.bsn};{begin};;5a\n".encode()
    report = import_vrijstellingen(content, dry_run=False, gemeente_ids=[demo.voorbeeldstad.id])
    assert report.ok, report.lines()
    case = _case_of(report.rows[0].reference)
    assert (case.child_id, case.gemeente_id) == (new_id, demo.voorbeeldstad.id)
    # Without a gemeente, a BSN with two records is refused rather than guessed.
    report = import_vrijstellingen(content, dry_run=True)
    assert not report.ok and "meer dan één gemeente" in report.rows[0].reason


def test_reloading_the_demo_updates_only_the_demo_gemeentes_record(client, auth_headers, demo):
    new_id = _register_noor_in_voorbeeldstad(client, auth_headers, demo)
    mine, noor = _record(new_id), _record(demo.noor.id)
    load_demo()
    assert _record(new_id) == mine
    assert _record(demo.noor.id) == noor
