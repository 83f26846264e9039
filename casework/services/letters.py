"""Letters: recorded as pending with the event, enqueued after commit, rendered by the worker."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import bindparam, event, insert, inspect, select, update
from sqlalchemy.orm import Session

from flask import current_app

from casework import policy
from casework.extensions import db
from casework.models import Case, Letter, Organisation, User, parent_children, utcnow
from casework.workflows import get_workflow
from casework.workflows.base import EventSpec, age_on
from . import instellingen

_PENDING_KEY = "casework_letters_to_enqueue"


def _address_lines(*lines: str) -> list[str]:
    return [line for line in lines if line]


def _recipients(case: Case, role: str) -> list[dict]:
    """Who gets the letter: {role, user_id, org_id, naam, adres_regels}."""
    if role == "ouder":
        child = case.child
        parents = _parents(child)
        if not parents:  # a paper notice for a family without a portal account
            return [{"role": "ouder", "user_id": None, "org_id": None,
                     "naam": f"De ouder(s)/verzorger(s) van {child.naam}",
                     "adres_regels": _address_lines(child.adres, child.postcode_plaats)}]
        return [{"role": "ouder", "user_id": p.id, "org_id": None, "naam": p.naam,
                 "adres_regels": _address_lines(p.adres or child.adres,
                                                p.postcode_plaats or child.postcode_plaats)}
                for p in parents]
    if role == "leerling":
        # A pupil gets their own letter from 12 up to 18 (domain.md, workflow 2).
        child = case.child
        if not 12 <= age_on(child.geboortedatum, date.today()) < 18:
            return []
        return [{"role": "leerling", "user_id": None, "org_id": None, "naam": child.naam,
                 "adres_regels": _address_lines(child.adres, child.postcode_plaats)}]
    # A school gets letters only on what it reported itself, never on a case the LPA opened.
    if role == "school" and case.school and (case.type != "verzuim" or policy.school_submitted(case)):
        school = case.school
        return [{"role": "school", "user_id": None, "org_id": school.id,
                 "naam": f"{school.naam}, t.a.v. de verzuimcoördinator",
                 "adres_regels": _address_lines(school.adres, school.postcode_plaats)}]
    if role == "nieuwe_gemeente" and case.data.get("overgedragen_aan"):
        org = db.session.get(Organisation, case.data["overgedragen_aan"])
        return [{"role": "gemeente", "user_id": None, "org_id": org.id,
                 "naam": f"{org.naam}, t.a.v. team leerplicht",
                 "adres_regels": _address_lines(org.adres, org.postcode_plaats)}]
    if role == "deskundige" and case.deskundige:
        arts = case.deskundige
        org = arts.organisation
        return [{"role": "deskundige", "user_id": arts.id, "org_id": arts.organisation_id,
                 "naam": f"{arts.naam}, {org.naam}" if org else arts.naam,
                 "adres_regels": _address_lines(org.adres, org.postcode_plaats) if org else []}]
    if role == "swv" and case.swv:
        swv = case.swv
        return [{"role": "swv", "user_id": None, "org_id": swv.id,
                 "naam": f"{swv.naam}, t.a.v. de adviseur onderwijskundig perspectief",
                 "adres_regels": _address_lines(swv.adres, swv.postcode_plaats)}]
    return []


# The parents' names and addresses for their letters, built once; the child is a parameter.
_PARENTS_QUERY = (select(User.id, User.naam, User.adres, User.postcode_plaats)
                  .join(parent_children, parent_children.c.user_id == User.id)
                  .where(parent_children.c.child_id == bindparam("child_id")).order_by(User.id))


def _parents(child) -> list:
    """The child's parents by id: the loaded ones, or only the columns a letter needs (loading
    the users whole cost more than the letter's other facts together)."""
    if "parents" in inspect(child).dict:
        return sorted(child.parents, key=lambda u: u.id)
    return list(db.session.execute(_PARENTS_QUERY, {"child_id": child.id}))


def _afzender(case: Case, actor: User | None) -> dict:
    if actor is not None and actor.role in ("leerplichtambtenaar", "jeugdarts", "swv_adviseur"):
        org = actor.organisation
        functie = actor.functie or {"leerplichtambtenaar": "Leerplichtambtenaar",
                                    "jeugdarts": "Jeugdarts", "swv_adviseur": "Adviseur"}[actor.role]
        return {"naam": actor.naam, "functie": f"{functie}, {org.naam}" if org else functie,
                "telefoon": actor.telefoon or (org.telefoon if org else ""), "email": actor.email}
    lpa = db.session.scalar(
        select(User).where(User.organisation_id == case.gemeente_id, User.active.is_(True),
                           User.role == "leerplichtambtenaar").order_by(User.id).limit(1))
    gemeente = case.gemeente
    if lpa is not None:
        return {"naam": lpa.naam, "functie": f"Leerplichtambtenaar, {gemeente.naam}",
                "telefoon": lpa.telefoon or gemeente.telefoon, "email": lpa.email}
    return {"naam": "Team Leerplicht", "functie": gemeente.naam, "telefoon": gemeente.telefoon,
            "email": gemeente.email}


def letter_context(case: Case, kind: str, recipient: dict, actor: User | None, today: date) -> dict:
    """Plain values for the template, limited to what this recipient may see."""
    g = case.gemeente
    child = case.child
    anonymous = recipient["role"] == "swv" and not case.toestemming
    facts = get_workflow(case.type).letter_facts(kind, case, recipient)
    context = {
        "gemeente": {"naam": g.naam, "adres": g.adres, "postcode_plaats": g.postcode_plaats,
                     "telefoon": g.telefoon, "email": g.email},
        "datum": today,
        # Without toestemming the SWV gets the advice round's own kenmerk, not the case's.
        "kenmerk": policy.swv_round_reference(case) if anonymous else case.reference,
        "ontvanger": {"naam": recipient["naam"], "adres_regels": recipient["adres_regels"]},
        "afzender": _afzender(case, actor),
        # A letter of the gemeente (not one a jeugdarts or adviser sends) is signed on behalf of
        # the college when the gemeente set a signatory (/beheer/instellingen).
        "ondertekening": (None if actor is not None and actor.role in ("jeugdarts", "swv_adviseur")
                          else instellingen.ondertekening(case.gemeente_id)),
        "kind": None if anonymous else {"voornaam": child.voornaam, "achternaam": child.achternaam,
                                        "geboortedatum": child.geboortedatum},
        **facts,
    }
    return _jsonable(context)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    return value


def revive(value):
    """Turn stored context back into template values (dates as dates)."""
    if isinstance(value, dict):
        if set(value) == {"__date__"}:
            return date.fromisoformat(value["__date__"])
        return {k: revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [revive(v) for v in value]
    return value


def record_letters(case: Case, spec: EventSpec, actor: User | None, audit_seq: int,
                   today: date) -> list[int]:
    """One pending letter per letter of the step and recipient; their ids are enqueued after the
    commit. Plain INSERTs: the rows are read back by id, never through the session."""
    ids = []
    now = utcnow()
    for letter_spec in spec.letters:
        if letter_spec.when is not None and not letter_spec.when(case):
            continue
        for recipient in _recipients(case, letter_spec.recipient):
            ids.append(db.session.execute(_LETTER_INSERT, {
                "case_id": case.id, "audit_seq": audit_seq, "kind": letter_spec.kind,
                "recipient_role": recipient["role"], "recipient_user_id": recipient["user_id"],
                "recipient_org_id": recipient["org_id"], "status": "pending", "attempts": 0,
                "created_at": now, "queued_at": now,
                "context": letter_context(case, letter_spec.kind, recipient, actor, today),
            }).scalar_one())
    db.session.info.setdefault(_PENDING_KEY, []).extend(ids)
    return ids


_LETTER_INSERT = insert(Letter.__table__).returning(Letter.__table__.c.id)


# ---------------------------------------------------------------- after commit: enqueue

@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING_KEY, [])
    if ids:
        from casework.letters.tasks import enqueue_render

        for letter_id in ids:
            enqueue_render(letter_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def sweep_letters(older_than_seconds: int = 60, max_attempts: int | None = None) -> list[int]:
    """Put back on the queue the letters that are not on it: pending or failed, with attempts
    left, and never queued (the queue was down), or queued longer than older_than_seconds ago
    while the queue is empty (it lost them: a crash, a broker restart). Each letter is claimed
    with one UPDATE, so two sweeps (two workers starting) never queue a letter twice."""
    from casework.extensions import queue
    from casework.letters.tasks import enqueue_render

    now = utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    limit = max_attempts or current_app.config["LETTER_MAX_ATTEMPTS"]
    lost = Letter.queued_at.is_(None)
    if _queue_is_empty(queue.huey):
        lost = lost | (Letter.queued_at <= cutoff)
    wanted = (Letter.status.in_(("pending", "failed")), Letter.attempts < limit, lost)
    ids = sorted(db.session.scalars(
        update(Letter).where(*wanted).values(status="pending", queued_at=now)
        .returning(Letter.id), execution_options={"synchronize_session": "fetch"}))
    db.session.commit()
    for letter_id in ids:
        enqueue_render(letter_id)
    return ids


def _queue_is_empty(huey) -> bool:
    try:
        return huey.pending_count() == 0
    except Exception:  # noqa: BLE001 - the queue is down: what it held is not lost yet
        return False


def failed_letters(gemeente_ids: list[int], limit: int | None = None) -> list[Letter]:
    """Letters of these gemeenten that failed every attempt (the beheerder's list)."""
    attempts = limit or current_app.config["LETTER_MAX_ATTEMPTS"]
    return list(db.session.scalars(
        select(Letter).join(Case, Case.id == Letter.case_id)
        .where(Letter.status == "failed", Letter.attempts >= attempts, Case.gemeente_id.in_(gemeente_ids))
        .order_by(Letter.created_at.desc(), Letter.id.desc())))


def retry_letter(letter: Letter) -> None:
    """Give a letter that failed every attempt a fresh set of attempts; the sweep queues it."""
    letter.status, letter.attempts, letter.queued_at = "pending", 0, None
