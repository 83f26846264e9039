"""A herbeoordeling that finds the child fit ends the exemption that ran; it is never erased.

The period stays in DUO's vrijstellingenregister export and in what reports count as running on
a past day; the "geen vrijstelling" letter says by when the child must be enrolled.
"""
from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select, update

from casework.extensions import db
from casework.formatting import format_datum
from casework.models import Case
from casework.services.cases import commit
from casework.services.duo import vrijstellingen_in_period
from casework.services.reports import running_on
from conftest import render_pending
from factories import event_data, fire_and_commit, letters_of, make_case, today, verklaring_data


def _herbeoordeling_with_advice(demo, ran_days: int = 200) -> Case:
    """An exemption that started `ran_days` ago, re-assessed now, the SWV's advice in."""
    case = make_case(demo, "herbeoordeling")
    start = today() - timedelta(days=ran_days)
    db.session.execute(update(Case).where(Case.id == case.id).values(ingangsdatum=start))
    commit()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    fire_and_commit(demo, case, "vraag_advies")
    fire_and_commit(demo, case, "breng_advies_uit")
    return case


def _post_verklaring(client, auth_headers, case, **extra):
    return client.post(f"/api/v1/cases/{case.id}/events/geef_verklaring",
                       json=verklaring_data(geschikt=True, **extra),
                       headers=auth_headers("jeugdarts@ggd-voorbeeld.test"))


def _exported(demo, case_id: int, van, tot):
    return [r for r in vrijstellingen_in_period([demo.voorbeeldstad.id], van, tot) if r.id == case_id]


def test_fit_at_the_herbeoordeling_ends_the_exemption_on_the_verklaring(client, demo, auth_headers):
    case = _herbeoordeling_with_advice(demo)
    start = case.ingangsdatum
    response = _post_verklaring(client, auth_headers, case)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "geen_vrijstelling"
    assert (body["data"]["ingangsdatum"], body["data"]["einddatum"]) == (
        start.isoformat(), today().isoformat())
    assert body["data"]["herbeoordelingsdatum"] is None

    # DUO's register keeps the exemption that ran, with its real begin and end.
    [row] = _exported(demo, case.id, start, today() + timedelta(days=30))
    assert (row.ingangsdatum, row.end) == (start, today())
    assert not _exported(demo, case.id, today() + timedelta(days=1), today() + timedelta(days=30))

    # Reports: it ran on a day in the past, not after its end.
    def runs(day):
        return db.session.scalar(select(Case.id).where(Case.id == case.id, running_on(day)))
    assert runs(start + timedelta(days=10)) == case.id
    assert runs(today() + timedelta(days=1)) is None

    render_pending()
    [letter] = [x for x in letters_of(case.id) if x.kind == "v5a_geen_vrijstelling"]
    db.session.refresh(letter)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.pdf)).pages).split())
    enrol_by = today() + timedelta(days=1 + 14)
    assert f"stopt op {format_datum(today())}" in text
    assert f"uiterlijk op {format_datum(enrol_by)}" in text


def test_the_deskundige_may_set_a_later_end_within_the_period(client, demo, auth_headers):
    case = _herbeoordeling_with_advice(demo)
    later = today() + timedelta(days=20)
    response = _post_verklaring(client, auth_headers, case, einddatum=later.isoformat())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"]["einddatum"] == later.isoformat()


def test_the_end_cannot_lie_before_the_exemption_began(client, demo, auth_headers):
    case = _herbeoordeling_with_advice(demo)
    too_early = case.ingangsdatum - timedelta(days=1)
    response = _post_verklaring(client, auth_headers, case, einddatum=too_early.isoformat())
    assert response.status_code == 422
    assert format_datum(case.ingangsdatum) in response.get_json()["fields"]["einddatum"][0]
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "advies_uitgebracht"


def test_fit_at_the_first_verklaring_has_no_period(client, demo, auth_headers):
    case = make_case(demo, "advies_uitgebracht")
    response = _post_verklaring(client, auth_headers, case)
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert (data["ingangsdatum"], data["einddatum"]) == (None, None)
    assert not _exported(demo, case.id, today() - timedelta(days=400), today() + timedelta(days=400))


def test_every_way_an_exemption_ends_keeps_its_period(demo):
    """beeindig by the LPA, expiry by tick, zie_af by the parent: begin and real end stay."""
    start = today()
    ended = []
    for child, event, actor, data in (
            (demo.sam, "beeindig", demo.lpa, {"reden": "verhuisd"}),
            (demo.lotte, "zie_af", demo.ouder1, {}),
            (demo.daan, "beeindig", None, {"reden": "verlopen"})):
        case = make_case(demo, "vrijgesteld", child=child)
        if actor is None:
            from casework.services.cases import fire
            fire(case, event, actor=None, data=data)
            commit()
        else:
            fire_and_commit(demo, case, event, actor=actor, data=data or event_data(demo, case, event))
        ended.append(case.id)
    for case_id in ended:
        [row] = _exported(demo, case_id, start, start + timedelta(days=400))
        assert (row.ingangsdatum, row.end) == (start, today())
