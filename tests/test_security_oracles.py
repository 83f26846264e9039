"""Registering children, linking parents and DUO dry runs reveal nothing outside the user's
gemeente, and every such lookup is in the access log."""
from __future__ import annotations

from sqlalchemy import func, select

from casework.api.schemas import bsn_valid
from casework.extensions import db
from casework.models import AccessLog, Child, parent_children

LPA = "leerplicht@voorbeeldstad.test"
BEHEER = "beheer@voorbeeldstad.test"


def _free_bsn(start: int = 100000001) -> str:
    n = start
    while not bsn_valid(str(n)) or db.session.scalar(select(Child.id).where(Child.bsn == str(n))):
        n += 1
    return str(n)


def _body(demo, bsn, **extra):
    return {"bsn": bsn, "voornaam": "Test", "achternaam": "Kind", "geboortedatum": "2016-01-01",
            "geslacht": "X", "gemeente_id": demo.voorbeeldstad.id} | extra


def _logged(what: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AccessLog).where(AccessLog.what == what))


def test_parent_of_other_gemeente_is_answered_like_an_unknown_email(client, auth_headers, demo):
    headers = auth_headers(LPA)
    before = _logged("parent-link")
    # ouder2 is known only in Buurdorp (parent of Noor).
    other = client.post("/api/v1/children", headers=headers,
                        json=_body(demo, _free_bsn(), ouder_emails=["ouder2@voorbeeld.test"]))
    unknown = client.post("/api/v1/children", headers=headers,
                          json=_body(demo, _free_bsn(), ouder_emails=["niemand@voorbeeld.test"]))
    assert other.status_code == unknown.status_code == 422
    assert (other.get_data(as_text=True).replace("ouder2@voorbeeld.test", "X")
            == unknown.get_data(as_text=True).replace("niemand@voorbeeld.test", "X"))
    linked = db.session.scalars(select(parent_children.c.child_id)
                                .where(parent_children.c.user_id == demo.ouder2.id)).all()
    assert linked == [demo.noor.id]  # still only Noor: nothing of Voorbeeldstad names ouder2
    assert _logged("parent-link") == before + 2
    # A parent already known in Voorbeeldstad may be linked.
    ok = client.post("/api/v1/children", headers=headers,
                     json=_body(demo, _free_bsn(), ouder_emails=["ouder1@voorbeeld.test"]))
    assert ok.status_code == 201, ok.get_json()


def test_beheerder_registers_only_in_own_gemeente(client, auth_headers, demo):
    response = client.post("/api/v1/children", headers=auth_headers(BEHEER),
                           json=_body(demo, _free_bsn(), gemeente_id=demo.buurdorp.id))
    assert response.status_code == 422
    assert "gemeente_id" in response.get_json()["fields"]


def test_bsn_elsewhere_and_unknown_bsn_answer_the_same(client, auth_headers, demo):
    headers = auth_headers(LPA)
    noor = demo.noor.bsn
    unknown = _free_bsn()
    before = _logged("bsn-lookup")
    # With another error in the body, neither answer may tell whether the BSN exists.
    a = client.post("/api/v1/children", headers=headers, json=_body(demo, noor, school_id=demo.voorbeeldstad.id))
    b = client.post("/api/v1/children", headers=headers, json=_body(demo, unknown, school_id=demo.voorbeeldstad.id))
    assert a.status_code == b.status_code == 422
    assert a.get_data() == b.get_data()
    # Otherwise: Voorbeeldstad's own record, as for an unknown BSN (each gemeente keeps its own
    # record of a child; tests/test_security_bsn_registration.py compares the two answers).
    c = client.post("/api/v1/children", headers=headers, json=_body(demo, noor))
    assert c.status_code == 201, c.get_json()
    assert c.get_json()["gemeente"]["id"] == demo.voorbeeldstad.id
    assert _logged("bsn-lookup") == before + 1


def test_duo_dry_run_other_gemeente_reads_like_unknown(client, auth_headers, demo):
    header = "bsn;brin;verzuimsoort;uren;periode_start;periode_eind\n"
    before = _logged("duo-dry-run")
    texts = []
    for bsn in (demo.noor.bsn, _free_bsn()):
        body = f"{header}{bsn};99AA;V3;18;2026-01-05;2026-01-30\n"
        r = client.post("/api/v1/duo/import?dry_run=true", headers=auth_headers(LPA) | {"Content-Type": "text/csv"},
                        data=body)
        assert r.status_code == 422
        texts.append(r.get_json()["fields"]["regel 2"])
    assert texts[0] == texts[1]
    assert _logged("duo-dry-run") == before + 2
