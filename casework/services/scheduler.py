"""Time-driven events: the scheduler is an actor like any other and goes through fire()."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from casework.extensions import db
from casework.models import Case

from . import instellingen
from .cases import commit, fire
from .errors import DomainError


def tick(today: date | None = None) -> list[str]:
    """Expire exemptions past their end date, start herbeoordelingen that are near; report overdue.

    Each case commits on its own, so running twice does nothing more and one bad case stops nothing.
    """
    today = today or date.today()
    lines: list[str] = []

    # During a herbeoordeling's advice steps the exemption runs on, and ends at its end date.
    expired = list(db.session.scalars(
        select(Case.id).where(Case.type == "vrijstelling_5a",
                              Case.state.in_(("vrijgesteld", "herbeoordeling", "advies_gevraagd",
                                              "advies_uitgebracht")),
                              Case.einddatum.is_not(None), Case.einddatum < today).order_by(Case.id)))
    for case_id in expired:
        lines.append(_fire_one(case_id, "beeindig", {"reden": "verlopen"}, "beëindigd (verlopen)"))

    # Each gemeente may set its own lead times (/beheer/instellingen): select with the longest,
    # then keep the cases whose own gemeente's lead has come.
    lead = _leads("herbeoordeling_lead_dagen", "HERBEOORDELING_LEAD_DAYS")
    due = [case_id for case_id, gemeente_id, on in db.session.execute(
        select(Case.id, Case.gemeente_id, Case.herbeoordelingsdatum)
        .where(Case.type == "vrijstelling_5a", Case.state == "vrijgesteld",
               Case.herbeoordelingsdatum.is_not(None),
               Case.herbeoordelingsdatum <= today + timedelta(days=lead.longest)).order_by(Case.id))
        if on <= today + timedelta(days=lead(gemeente_id))]
    for case_id in due:
        lines.append(_fire_one(case_id, "start_herbeoordeling", {}, "herbeoordeling gestart"))

    # Renewal reminder: once, some weeks before a fixed end date, unless a renewal is filed.
    from sqlalchemy import exists
    from sqlalchemy.orm import aliased

    renewal = aliased(Case)
    remind = _leads("verlenging_herinnering_dagen", "VERLENGING_HERINNERING_DAGEN")
    reminders = [case_id for case_id, gemeente_id, end in db.session.execute(
        select(Case.id, Case.gemeente_id, Case.einddatum)
        .where(Case.type == "vrijstelling_5a", Case.state == "vrijgesteld",
               Case.einddatum.is_not(None), Case.einddatum >= today,
               Case.einddatum <= today + timedelta(days=remind.longest),
               Case.data["herinnering_verlenging_op"].as_string().is_(None),
               ~exists().where(renewal.vorige_case_id == Case.id))
        .order_by(Case.id))
        if end <= today + timedelta(days=remind(gemeente_id))]
    for case_id in reminders:
        lines.append(_fire_one(case_id, "herinner_verlenging", {}, "herinnering verlenging verstuurd"))

    # A niet-ontvankelijk notice not completed in time is closed (its due date is aanvullen_voor).
    niet_aangevuld = list(db.session.scalars(
        select(Case.id).where(Case.type == "vrijstelling_5a", Case.state == "niet_ontvankelijk",
                              Case.due_on.is_not(None), Case.due_on < today).order_by(Case.id)))
    for case_id in niet_aangevuld:
        lines.append(_fire_one(case_id, "sluit_niet_aangevuld", {}, "gesloten (niet aangevuld)"))

    overdue = Counter(db.session.execute(
        select(Case.type, Case.state).where(Case.is_open.is_(True), Case.due_on < today)).all())
    for (case_type, state), n in sorted(overdue.items()):
        lines.append(f"Over tijd: {n} zaak/zaken {case_type} in '{state}'.")
    lines.append(f"Klaar: {len(expired)} beëindigd, {len(due)} herbeoordeling(en) gestart, "
                 f"{len(niet_aangevuld)} niet-aangevulde kennisgeving(en) gesloten.")
    return lines


class _leads:
    """Days of a lead time per gemeente: its own setting, else the product's."""

    def __init__(self, column: str, setting: str) -> None:
        self.default = current_app.config[setting]
        self.own = instellingen.per_gemeente(column)
        self.longest = max([self.default, *self.own.values()])

    def __call__(self, gemeente_id: int | None) -> int:
        return self.own.get(gemeente_id, self.default)


def _fire_one(case_id: int, event: str, data: dict, done: str) -> str:
    case = db.session.get(Case, case_id)
    try:
        fire(case, event, actor=None, data=data)
        commit()
    except DomainError as exc:
        db.session.rollback()
        return f"Zaak {case_id}: niet gelukt ({exc.message})."
    return f"Zaak {case.reference}: {done}."
