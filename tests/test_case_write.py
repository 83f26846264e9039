"""How a step writes its case (services/cases._write_case): one UPDATE with the version check, or
the session's flush where more than the case's own columns changed. Either way the database, the
session and the audit agree, and a stale version loses with a 409 that leaves nothing behind."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, update

from casework.extensions import db
from casework.models import Case
from casework.models.case import REPORT_FACTS, report_facts
from casework.services.cases import commit, fire
from casework.services.errors import Conflict
from factories import audit_rows, event_data, letters_of, make_case
from factories_verzuim import make_verzuim_case


@contextmanager
def _statements():
    """The statements this session sends inside the block (the session stays as it is)."""
    seen: list[str] = []

    def before(conn, cursor, statement, *args):  # noqa: ARG001
        seen.append(" ".join(statement.split()))

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _stored(case_id: int):
    return db.session.execute(select(Case.state, Case.version, Case.due_on, Case.deskundige_id)
                              .where(Case.id == case_id)).one()


def test_a_step_writes_its_case_in_one_update_and_leaves_the_session_clean(demo):
    case = make_case(demo, "kennisgeving_ontvangen")
    version = case.version
    with _statements() as seen:
        fire(case, "neem_in_behandeling", actor=demo.lpa,
             data=event_data(demo, case, "neem_in_behandeling"))
    updates = [s for s in seen if s.startswith("UPDATE cases")]
    assert len(updates) == 1 and "cases.version = " in updates[0], updates
    # The session holds what the table holds: nothing left to flush, the version one up.
    assert case not in db.session.dirty
    assert case.version == version + 1
    assert tuple(_stored(case.id)) == (case.state, case.version, case.due_on, case.deskundige_id)
    commit()
    assert _stored(case.id).state == "in_behandeling"
    assert audit_rows(case.id)[-1].event == "neem_in_behandeling"


def test_report_columns_follow_the_data_as_the_flush_made_them(demo):
    """The before_update hook's copies of data fields (the report columns) are written as well:
    closing a signaal sets afsluiting and afgesloten_op."""
    case = make_verzuim_case(demo, "ontvangen", soort="signaal")
    fire(case, "neem_ter_kennisgeving_aan", actor=demo.lpa,
         data={"reden": "Het verzuim is opgelost; geen verdere stappen nodig."})
    commit()
    stored = dict(zip(REPORT_FACTS, db.session.execute(
        select(*(getattr(Case, key) for key in REPORT_FACTS)).where(Case.id == case.id)).one()))
    assert stored == report_facts(case.data)
    assert stored["afsluiting"] == "ter_kennisgeving" and stored["afgesloten_op"] is not None


def test_a_stale_version_is_a_conflict_and_writes_nothing(demo):
    case = make_case(demo, "kennisgeving_ontvangen")
    rows_before, letters_before = len(audit_rows(case.id)), len(letters_of(case.id))
    # Someone else's step, behind this session's back: the table's version moves on.
    db.session.execute(update(Case).where(Case.id == case.id).values(version=Case.version + 1)
                       .execution_options(synchronize_session=False))
    with pytest.raises(Conflict):
        fire(case, "neem_in_behandeling", actor=demo.lpa,
             data=event_data(demo, case, "neem_in_behandeling"))
    db.session.rollback()
    assert _stored(case.id).state == "kennisgeving_ontvangen"
    assert len(audit_rows(case.id)) == rows_before
    assert len(letters_of(case.id)) == letters_before


def test_a_step_that_changes_more_than_the_case_goes_through_the_flush(demo):
    """A new object in the session (here another change, as a medical note would be) leaves the
    write to the session's unit of work, which writes both."""
    case = make_case(demo, "kennisgeving_ontvangen")
    child = case.child
    child.adres = "Nieuwe straat 1"
    fire(case, "neem_in_behandeling", actor=demo.lpa,
         data=event_data(demo, case, "neem_in_behandeling"))
    commit()
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "in_behandeling"
    assert db.session.get(Case, case.id).child.adres == "Nieuwe straat 1"
