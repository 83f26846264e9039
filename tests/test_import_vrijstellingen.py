"""Old exemptions come in: flask import-vrijstellingen (overgangsrecht), all or nothing."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import AuditEvent, Case
from casework.services.audit import verify_chains
from casework.services.duo import vrijstellingen_in_period
from casework.services.import_vrijstellingen import import_vrijstellingen
from casework.services.scheduler import tick
from conftest import render_pending
from factories import letters_of, make_case

T = date.today()


def _csv(*rows: str, header: str = "bsn;begindatum;einddatum;grond;herbeoordelingsdatum") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _good(demo) -> bytes:
    return _csv(
        f"{demo.sam.bsn};{(T - timedelta(days=300)).isoformat()};{(T + timedelta(days=65)).isoformat()};5a;",
        f"{demo.lotte.bsn};{(T - timedelta(days=30)).isoformat()};;5a;{(T + timedelta(days=200)).isoformat()}",
        f"{demo.daan.bsn};01-08-2025;31-07-2027;5 onder a;",
    )


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case).where(Case.type == "vrijstelling_5a"))


def test_three_old_exemptions_come_in_as_running_with_their_dates(demo):
    report = import_vrijstellingen(_good(demo), dry_run=False)
    assert report.ok, report.lines()
    cases = {c.child_id: c for c in db.session.scalars(select(Case).where(Case.type == "vrijstelling_5a"))}
    sam, lotte, daan = cases[demo.sam.id], cases[demo.lotte.id], cases[demo.daan.id]
    assert {c.state for c in (sam, lotte, daan)} == {"vrijgesteld"}
    assert all(c.data["overgangsrecht"] is True for c in (sam, lotte, daan))
    assert (sam.ingangsdatum, sam.einddatum, sam.herbeoordelingsdatum) == (
        T - timedelta(days=300), T + timedelta(days=65), None)
    assert (lotte.einddatum, lotte.herbeoordelingsdatum) == (None, T + timedelta(days=200))
    assert (daan.ingangsdatum, daan.einddatum) == (date(2025, 8, 1), date(2027, 7, 31))
    assert daan.data["schooljaar"] == "2025-2026"
    [row] = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == sam.id)).all()
    assert (row.event, row.from_state, row.to_state, row.actor_id, row.actor_role) == (
        "importeer", None, "vrijgesteld", None, "import")
    assert verify_chains().ok
    render_pending()
    [letter] = letters_of(daan.id)
    db.session.refresh(letter)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.pdf)).pages).split())
    assert "31 juli 2027" in text and "vóór 1 juli" in text
    # In DUO's vrijstellingenregister, like any exemption.
    exported = {r.id: r for r in vrijstellingen_in_period([demo.voorbeeldstad.id], T, T)}
    assert {sam.id, lotte.id, daan.id} <= set(exported)
    assert exported[daan.id].end == date(2027, 7, 31)


def test_a_dry_run_writes_nothing(demo):
    before = _count()
    report = import_vrijstellingen(_good(demo), dry_run=True)
    assert report.ok and report.counts["valid"] == 3
    assert _count() == before


@pytest.mark.parametrize(("row", "reason"), [
    ("999999999;2026-01-01;;5a;", "Onbekend BSN"),
    ("{sam};2026-01-01;;5b;", "alleen 5a"),
    ("{sam};2026-05-01;2026-04-01;5a;", "voor de begindatum"),
    ("{sam};2026-01-01;2026-12-31;5a;2027-02-01", "niet na de einddatum"),
    ("{sam};;2026-12-31;5a;", "begindatum ontbreekt"),
    ("{sam};31-02-2026;;5a;", "ongeldig"),
    ("{lotte};2026-01-01;;5a;", "Dit BSN staat al op regel 2"),
])
def test_one_bad_row_refuses_the_whole_file(demo, row, reason):
    before = _count()
    rows = [f"{demo.lotte.bsn};2026-01-01;;5a;", row.format(sam=demo.sam.bsn, lotte=demo.lotte.bsn)]
    report = import_vrijstellingen(_csv(*rows), dry_run=False)
    assert not report.ok
    refused = [r for r in report.rows if r.status == "refused"]
    assert len(refused) == 1 and refused[0].line == 3 and reason in refused[0].reason
    assert _count() == before


def test_a_child_with_an_open_case_is_refused_with_its_reference(demo):
    open_one = make_case(demo, "in_behandeling")
    report = import_vrijstellingen(_csv(f"{demo.sam.bsn};2026-01-01;;5a;"), dry_run=False)
    [row] = report.rows
    assert row.status == "refused" and open_one.reference in row.reason


def test_only_the_children_of_the_named_gemeente(app, demo):
    runner = app.test_cli_runner()
    path = app.instance_path
    import os
    import tempfile
    os.makedirs(path, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as fh:
        fh.write(_csv(f"{demo.noor.bsn};2026-01-01;;5a;"))
    result = runner.invoke(args=["import-vrijstellingen", fh.name, "--gemeente", "GM9001"])
    assert result.exit_code == 1 and "Onbekend BSN" in result.output
    result = runner.invoke(args=["import-vrijstellingen", fh.name, "--gemeente", "GM9002", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Er is niets opgeslagen" in result.output
    os.unlink(fh.name)


def test_tick_ends_an_imported_exemption_at_its_end_date(demo):
    end = T - timedelta(days=1)
    report = import_vrijstellingen(
        _csv(f"{demo.sam.bsn};{(T - timedelta(days=200)).isoformat()};{end.isoformat()};5a;"),
        dry_run=False)
    assert report.ok, report.lines()
    tick(today=T)
    db.session.expire_all()
    case = db.session.scalar(select(Case).where(Case.child_id == demo.sam.id))
    assert (case.state, case.data["reden_beeindiging"]) == ("beeindigd", "verlopen")


def test_the_import_event_opens_no_case_for_a_person(client, demo, auth_headers):
    """Only the import command uses it: the API's kennisgeving stays dien_in."""
    response = client.post("/api/v1/cases/1/events/importeer", json={},
                           headers=auth_headers("leerplicht@voorbeeldstad.test"))
    assert response.status_code in (404, 409)
