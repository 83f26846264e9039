"""Who may see and do what. Every list and detail query is scoped here, nowhere else.

Invisible -> NotFound (404, existence is not revealed); visible but not allowed -> Forbidden (403).
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, false, or_, select, true
from sqlalchemy.orm import defer, joinedload

from .extensions import db, transaction_cache
from .models import (
    AccessLog, AuditEvent, Case, Child, Letter, Organisation, User, jgz_gemeenten, parent_children, swv_buren,
    swv_gemeenten,
)
from .services import instellingen
from .services.errors import Forbidden, NotFound
from .workflows import get_workflow
from .workflows.base import EventSpec

# ------------------------------------------------------------------ organisations


def gemeente_ids(user: User) -> list[int]:
    """The gemeenten a user works for (LPA, beheerder: their own; jeugdarts/SWV: those served)."""
    if user.role in ("leerplichtambtenaar", "beheerder"):
        return [user.organisation_id] if user.organisation_id else []
    if user.role == "jeugdarts":
        q = select(jgz_gemeenten.c.gemeente_id).where(jgz_gemeenten.c.jgz_id == user.organisation_id)
    elif user.role == "swv_adviseur":
        q = select(swv_gemeenten.c.gemeente_id).where(swv_gemeenten.c.swv_id == user.organisation_id)
    else:
        return []
    return list(db.session.scalars(q))


# Built once (a fire that assigns a jeugdarts runs it). The user and their JGZ are loaded whole:
# the letters of the step name both, so they are not loaded again one by one.
_DESKUNDIGE_QUERY = (
    select(User).join(jgz_gemeenten, jgz_gemeenten.c.jgz_id == User.organisation_id).where(
        User.id == bindparam("user_id"), User.role == "jeugdarts", User.active.is_(True),
        jgz_gemeenten.c.gemeente_id == bindparam("gemeente_id"),
    ).options(joinedload(User.organisation)))


def is_deskundige_for_gemeente(user_id: int, gemeente_id: int) -> bool:
    found = db.session.scalar(_DESKUNDIGE_QUERY, {"user_id": user_id, "gemeente_id": gemeente_id})
    if found is not None:  # held until the transaction ends, so the identity map keeps it
        transaction_cache("policy_deskundigen")[found.id] = found
    return found is not None


def swv_ids_for_gemeente(gemeente_id: int) -> list[int]:
    """The SWV(s) of the gemeente's region, then their neighbours."""
    own = list(db.session.scalars(
        select(swv_gemeenten.c.swv_id).where(swv_gemeenten.c.gemeente_id == gemeente_id)))
    buren = list(db.session.scalars(
        select(swv_buren.c.buur_id).where(swv_buren.c.swv_id.in_(own)))) if own else []
    return own + [b for b in buren if b not in own]


def is_swv_for_gemeente(swv_id: int, gemeente_id: int) -> bool:
    return swv_id in swv_ids_for_gemeente(gemeente_id)


def deskundigen_query(user: User) -> Select:
    """Jeugdartsen of the JGZ organisations serving the LPA's gemeenten."""
    if user.role != "leerplichtambtenaar":
        return select(User).where(false())
    return (
        select(User)
        .join(jgz_gemeenten, jgz_gemeenten.c.jgz_id == User.organisation_id)
        .where(User.role == "jeugdarts", User.active.is_(True),
               jgz_gemeenten.c.gemeente_id.in_(gemeente_ids(user)))
        .distinct()
        .order_by(User.naam)
    )


# ------------------------------------------------------------------ children


def child_scope(user: User) -> ColumnElement[bool]:
    if user.role == "leerplichtambtenaar":
        return Child.gemeente_id.in_(gemeente_ids(user))
    if user.role == "ouder":
        return Child.id.in_(select(parent_children.c.child_id).where(parent_children.c.user_id == user.id))
    if user.role == "school":
        return Child.school_id == user.organisation_id
    return false()


def may_report_absence(user: User, child: Child) -> bool:
    """School for its own pupil, LPA for a child living in one of its gemeenten."""
    if user is None:  # a system intake (DUO import) has checked the school itself
        return True
    if user.role not in ("school", "leerplichtambtenaar"):
        return False
    return db.session.scalar(select(exists().where(Child.id == child.id, child_scope(user)))) or False


def may_file_for_child(user: User, child: Child) -> bool:
    """Ouder for an own child, LPA for a child living in one of its gemeenten."""
    if user.role not in ("ouder", "leerplichtambtenaar"):
        return False
    return db.session.scalar(select(exists().where(Child.id == child.id, child_scope(user)))) or False


def get_child_for(user: User, child_id: int) -> Child:
    child = db.session.scalar(select(Child).where(Child.id == child_id, child_scope(user)))
    if child is None:
        raise NotFound("Dit kind is niet gevonden.")
    return child


# ------------------------------------------------------------------ access log


def access_log_scope(user: User) -> ColumnElement[bool]:
    """The access-log rows a user may read. A parent: the reads of its own children by others
    (no security events, not its own reads). A beheerder (the gemeente's privacy officer): the
    rows about children of its gemeente, and the rows without a child (sign-in, refusals) of
    users of its gemeente. Everyone else: nothing."""
    if user.role == "ouder":
        own = select(parent_children.c.child_id).where(parent_children.c.user_id == user.id)
        return and_(AccessLog.child_id.in_(own), AccessLog.kind == "lezen",
                    or_(AccessLog.user_id.is_(None), AccessLog.user_id != user.id))
    if user.role == "beheerder" and user.organisation_id:
        gid = user.organisation_id
        users = (select(User.id).join(Organisation, User.organisation_id == Organisation.id)
                 .where(or_(Organisation.id == gid, Organisation.gemeente_id == gid)))
        return or_(AccessLog.child_id.in_(select(Child.id).where(Child.gemeente_id == gid)),
                   and_(AccessLog.child_id.is_(None), AccessLog.user_id.in_(users)))
    return false()


def access_log_child_for(user: User, child_id: int) -> Child:
    """The child whose access log the user asks for: a parent's own child, a child of the
    beheerder's gemeente; anything else is 404."""
    if user.role == "ouder":
        return get_child_for(user, child_id)
    if user.role == "beheerder" and user.organisation_id:
        child = db.session.scalar(select(Child).where(Child.id == child_id,
                                                      Child.gemeente_id == user.organisation_id))
        if child is not None:
            return child
    raise NotFound("Dit kind is niet gevonden.")


def beheer_child_by_bsn(user: User, bsn: str) -> Child | None:
    """A child of the beheerder's own gemeente by BSN (None: not in this gemeente)."""
    if user.role != "beheerder" or not user.organisation_id:
        return None
    return db.session.scalar(select(Child).where(Child.bsn == bsn,
                                                 Child.gemeente_id == user.organisation_id))


# ------------------------------------------------------------------ cases


def case_scope(user: User) -> ColumnElement[bool]:
    """The SQL condition for the cases this user may see at all."""
    if user.role == "leerplichtambtenaar":
        return Case.gemeente_id.in_(gemeente_ids(user))
    if user.role == "jeugdarts":
        return Case.deskundige_id == user.id
    if user.role == "swv_adviseur":
        # Only while the advice is asked or just given: afterwards the case carries the
        # verklaring, which the SWV never sees (domain.md).
        return and_(Case.swv_id == user.organisation_id, Case.state.in_(_SWV_STATES))
    if user.role == "ouder":
        return Case.child_id.in_(
            select(parent_children.c.child_id).where(parent_children.c.user_id == user.id))
    if user.role == "school":
        # Only what this school itself reported (a signaal or melding, also through DUO); not a
        # case the LPA opened, even for one of its pupils (the LPA's own text and pace).
        return and_(Case.type == "verzuim", Case.school_id == user.organisation_id,
                    Case.data["ingediend_door"].as_string().in_(SCHOOL_SUBMITTERS))
    return false()


# Who "the school" is as a verzuim case's submitter: the school itself, or DUO's intake of its report.
SCHOOL_SUBMITTERS = ("school", "duo_import")


def school_submitted(case: Case) -> bool:
    """Whether the case's school reported it itself (and so may see it and get its letters)."""
    return case.type == "verzuim" and (case.data or {}).get("ingediend_door") in SCHOOL_SUBMITTERS


_SWV_STATES = ("advies_gevraagd", "advies_uitgebracht")
_SWV_EVENTS = ("vraag_advies", "breng_advies_uit")


@lru_cache(maxsize=16)
def _history_query(role: str) -> Select:
    """history_query's statement per role, built once; the case id is a parameter."""
    q = select(AuditEvent).where(AuditEvent.case_id == bindparam("case_id")).order_by(AuditEvent.seq)
    if role == "swv_adviseur":
        q = q.where(AuditEvent.event.in_(_SWV_EVENTS))
    if role == "school":  # a school never learns that (or which) route was taken
        q = q.where(AuditEvent.event.not_in(("kies_route", "verwijs_door", "hervat_route")))
    return q


def history_query(user: User, case: Case) -> Select:
    """The audit rows a user sees as the case's history (the SWV: only the advice steps)."""
    return _history_query(user.role).params(case_id=case.id)


# Steps a school sees by name, whoever took them: its own report and what was done to it.
_SCHOOL_OWN_EVENTS = frozenset({"dien_in", "trek_in", "escaleer_naar_melding"})


def history_rows(user: User, case: Case) -> list[AuditEvent]:
    """The audit rows a user sees as the case's history.

    A school: its own submissions and the steps that change the coarse state (ontvangen, in
    behandeling, afgesloten), never a step within the work (a route, monitoring, a talk).
    An SWV: only the steps of the current advice round, so that an anonymous round cannot be tied
    to an earlier one that named the child."""
    rows = list(db.session.scalars(_history_query(user.role), {"case_id": case.id}))
    if user.role == "school":
        rows = [r for r in rows if r.event in _SCHOOL_OWN_EVENTS
                or coarse_state(case.type, r.from_state) != coarse_state(case.type, r.to_state)]
    elif user.role == "swv_adviseur":
        start = swv_round_seq(case)
        rows = [r for r in rows if start is not None and r.seq >= start]
    return rows


def version_for(user: User | None, case: Case) -> int:
    """The version this user sees and sends back (If-Match / expected_version).

    A school's version counts only the steps it sees, so it does not move with hidden work;
    the service compares a school's expected version with this same number."""
    if user is not None and user.role == "school":
        return len(history_rows(user, case))
    return case.version


def updated_at_for(user: User, case: Case):
    """When the case last changed as far as this user can tell (a school: its last visible step)."""
    if user.role == "school":
        rows = history_rows(user, case)
        return rows[-1].at if rows else case.created_at
    return case.updated_at


def created_at_for(user: User, case: Case):
    """An SWV without toestemming sees the start of the current advice round, not the case's."""
    if user.role == "swv_adviseur" and not case.toestemming:
        start = swv_round_seq(case)
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                         AuditEvent.seq == start)) if start else None
        return row.at if row is not None else case.created_at
    return case.created_at


# ------------------------------------------------------------------ SWV advice rounds
_SWV_ROUND_EVENTS = ("vraag_advies", "vraag_ander_swv")


def swv_round_seq(case: Case) -> int | None:
    """The audit seq of the step that asked the current SWV for advice (the round's start)."""
    return db.session.scalar(select(AuditEvent.seq).where(
        AuditEvent.case_id == case.id, AuditEvent.event.in_(_SWV_ROUND_EVENTS))
        .order_by(AuditEvent.seq.desc()).limit(1))


def swv_round_reference(case: Case, round_seq: int | None = None) -> str:
    """An opaque kenmerk for one advice round: the same within the round, unrelated across
    rounds and to the case's own reference (a keyed hash the SWV cannot recompute)."""
    import hashlib
    import hmac

    from flask import current_app

    seq = swv_round_seq(case) if round_seq is None else round_seq
    key = (current_app.config.get("SECRET_KEY") or "").encode()
    digest = hmac.new(key, f"swv-ronde:{case.id}:{seq}".encode(), hashlib.sha256).hexdigest()
    return f"ADV-{digest[:10].upper()}"


def public_letter_case_id(user: User, letter: Letter, case: Case | None = None) -> int:
    """The case id a letter shows this user: for the SWV, the id of the round it was sent in."""
    if user.role != "swv_adviseur":
        return letter.case_id
    case = case if case is not None else db.session.get(Case, letter.case_id)
    rounds = (case.swv_rondes or []) if case is not None else []
    if not rounds or letter.audit_seq is None:
        return letter.case_id
    starts = list(db.session.scalars(select(AuditEvent.seq).where(
        AuditEvent.case_id == letter.case_id, AuditEvent.event.in_(_SWV_ROUND_EVENTS))
        .order_by(AuditEvent.seq)))
    n = sum(1 for seq in starts if seq <= letter.audit_seq)
    # The kept rounds are the last ones (a case asked before rounds were kept has fewer).
    index = n - 1 - (len(starts) - len(rounds))
    own = rounds[index]["id"] if 0 <= index < len(rounds) else None
    return own if own is not None else letter.case_id


def reference_for(user: User, case: Case) -> str | None:
    """The case's kenmerk as this user sees it: an SWV without toestemming gets the round's."""
    if user.role == "swv_adviseur" and not case.toestemming:
        return swv_round_reference(case)
    return case.reference


# What a school sees of its submissions: how far it is, never where it went (domain.md).
_COARSE_LABELS = {"ontvangen": "Ontvangen", "in_behandeling": "In behandeling",
                  "afgesloten": "Afgesloten"}


def coarse_state(case_type: str, state: str | None) -> str | None:
    if state is None:
        return None
    wf = get_workflow(case_type)
    if state in wf.terminal:
        return "afgesloten"
    if state == wf.events[wf.open_event].dest:
        return "ontvangen"
    return "in_behandeling"


# Deadlines a role may see; a school sees none (its planning would tell where a verzuim case went).
_DEADLINES_FOR_ROLE = {
    "ouder": {"behandeling", "aanvulling", "herbeoordeling", "einddatum", "gesprek", "monitoring"},
    "swv_adviseur": {"advies"},
    "school": set(),
}


def visible_deadlines(user: User, case: Case, settings: dict) -> list[tuple[str, date]]:
    allowed = _DEADLINES_FOR_ROLE.get(user.role)
    return [(kind, due) for kind, due in get_workflow(case.type).deadlines(case, settings)
            if allowed is None or kind in allowed]


def state_condition(user: User, state: str) -> ColumnElement[bool]:
    """A state filter in the terms this user sees (a school filters on the coarse states)."""
    if user.role != "school":
        return Case.state == state
    from .workflows.verzuim import OPEN_STATES

    coarse = {"ontvangen": ["ontvangen"], "afgesloten": ["afgesloten"],
              "in_behandeling": [s for s in OPEN_STATES if s != "ontvangen"]}
    return Case.state.in_(coarse.get(state, []))


def state_for(user: User, case: Case, state: str | None = None) -> tuple[str | None, str | None]:
    """The state (and its Dutch label) as this user may see it."""
    state = case.state if state is None else state
    if user.role == "school":
        coarse = coarse_state(case.type, state)
        return coarse, _COARSE_LABELS.get(coarse, coarse)
    return state, get_workflow(case.type).state_label(state) if state else None


def list_order(user: User, columns=None) -> tuple:
    """The work list's order: the next deadline first; a school, which sees no deadlines (the
    order would show them), newest report first. `columns`: where id and due_on come from
    (default the cases table; a subquery's .c)."""
    c = columns if columns is not None else Case
    if user.role == "school":
        return (c.id.desc(),)
    return (c.due_on.asc().nulls_last(), c.id)


def visible_cases(user: User) -> Select:
    return select(Case).where(case_scope(user))


def get_case_for(user: User, case_id: int) -> Case:
    """The case under the id this user knows it by (public_case_id), or a 404. Its child, school
    and gemeente and the gemeente's settings come with it (every view of a case and every letter
    needs them; a verzuim case's letters go to its school)."""
    q = _case_query(user.role, user.id, user.organisation_id)
    case = db.session.scalar(q, {"case_id": case_id})
    if case is None:
        raise NotFound("Deze zaak is niet gevonden.")
    _seen(user)[case.id] = case.version
    instellingen.remember_loaded(case.gemeente)
    return case


@lru_cache(maxsize=4096)
def _case_query(role: str, user_id: int, organisation_id: int | None) -> Select:
    """get_case_for's statement, built once per user: the scope depends on nothing else (the
    role, the user and the organisation), the case id is a parameter. A user whose role or
    organisation changes gets a new one."""
    who = SimpleNamespace(role=role, id=user_id, organisation_id=organisation_id)
    return (select(Case).where(_case_id_condition(who, bindparam("case_id")), case_scope(who))
            .options(joinedload(Case.child), joinedload(Case.school),
                     joinedload(Case.gemeente).joinedload(Organisation.instellingen)))


def _seen(user: User) -> dict:
    """Cases this user's scope let through in this transaction: id → the version then."""
    return transaction_cache(f"policy_seen_{user.id}")


def case_in_scope(user: User, internal_id: int) -> Case | None:
    """The case by its own id (from a letter or a log row), if this user may see it at all."""
    return db.session.scalar(select(Case).where(Case.id == internal_id, case_scope(user)))


def _case_id_condition(user: User, case_id: int) -> ColumnElement[bool]:
    if user.role == "swv_adviseur":  # a round with its own id is not reachable by the case's
        return or_(and_(Case.id == case_id, Case.swv_ronde_id.is_(None)), Case.swv_ronde_id == case_id)
    return Case.id == case_id


def public_case_id(user: User | None, case: Case) -> int:
    """The id this user sees the case by: the SWV of a round with its own id gets that id."""
    if user is not None and user.role == "swv_adviseur" and case.swv_ronde_id is not None:
        return case.swv_ronde_id
    return case.id


def can_see_case(user: User, case: Case) -> bool:
    if case.id is None:
        return False
    # Let through by get_case_for in this transaction, and not changed since (a change moves
    # the version on flush and makes the case dirty before it): no second query.
    if _seen(user).get(case.id) == case.version and case not in db.session.dirty:
        return True
    return bool(db.session.scalar(select(exists().where(Case.id == case.id, case_scope(user)))))


# Verzuim events of "the school that submitted it" (domain.md): not of a case the LPA opened.
_SUBMITTER_EVENTS = frozenset({"trek_in", "escaleer_naar_melding"})


def may_fire(user: User, case: Case, spec: EventSpec) -> bool:
    """Whether this user's role fires this event; seeing the case already proves the relation."""
    if user.role == "school" and spec.name in _SUBMITTER_EVENTS and case.type == "verzuim":
        return (user.role in spec.roles
                and (case.data or {}).get("ingediend_door") in ("school", "duo_import"))
    return user.role in spec.roles


def available_events(user: User, case: Case) -> list[str]:
    wf = get_workflow(case.type)
    return [e.name for e in wf.events_from(case.state)
            if may_fire(user, case, e) and (e.applies is None or e.applies(case))]


def ensure_may_fire(user: User, case: Case, spec: EventSpec) -> None:
    """Relation first (an unrelated user learns nothing: 404), then the role (403)."""
    if not can_see_case(user, case):
        raise NotFound("Deze zaak is niet gevonden.")
    if not may_fire(user, case, spec):
        raise Forbidden(f"U mag de stap '{spec.label}' niet uitvoeren in deze zaak.")


def sees_identity(user: User, case: Case) -> bool:
    """The SWV adviser sees who the child is only with toestemming; the others who see the case do."""
    if user.role == "swv_adviseur":
        return bool(case.toestemming)
    return True


def may_see_medical_note(user: User, case: Case) -> bool:
    return user.role == "jeugdarts" and case.deskundige_id == user.id


def may_view_audit(user: User, case: Case) -> bool:
    if user.role == "beheerder":
        return case.gemeente_id in gemeente_ids(user)
    return user.role == "leerplichtambtenaar" and case.gemeente_id in gemeente_ids(user)


def audit_case_for(user: User, case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not may_view_audit(user, case):
        raise NotFound("Deze zaak is niet gevonden.")
    return case


# Which keys of case.data each role reads. The medical note is not in data at all.
_DATA_FIELDS = {
    "leerplichtambtenaar": None,  # everything in data except what is excluded below
    "jeugdarts": None,
    "ouder": {
        "schooljaar", "toelichting", "eerder_vrijgesteld", "ontvangen_op", "te_laat",
        "reden_niet_ontvankelijk", "aanvullen_voor", "aanvulling", "toestemming_door", "advies",
        "advies_soort", "mogelijkheden", "geschikt", "reden_beeindiging", "toelichting_beeindiging",
        "beeindigd_op", "ingetrokken_op", "advies_voor", "verlengt_zaak", "herinnering_verlenging_op",
        "verlengen_voor", "vrijstelling_beeindigd_op",
    },
    "swv_adviseur": {
        "schooljaar", "samenvatting", "toestemming_door", "advies_gevraagd_op", "advies_voor",
        "advies", "advies_soort", "mogelijkheden",
    },
    # A school sees what it submitted, never the cause, the route or the help.
    "school": {
        "soort", "oorspronkelijke_soort", "verzuimsoort", "uren", "keer_te_laat", "periode_start",
        "periode_eind", "omschrijving", "verzuimbeleid_situatie", "ontvangen_op", "omgezet_op",
        "afgesloten_op",
    },
}
# Parents of a verzuim case: what was reported and what they were told in letters; not the
# LPA's analysis or the route proposal.
_OUDER_VERZUIM = {
    "soort", "verzuimsoort", "uren", "keer_te_laat", "periode_start", "periode_eind",
    "omschrijving", "ontvangen_op", "gesprek_gepland_op", "gesprek_tijd", "gesprek_plaats", "route",
    "afspraken", "tegen", "monitoren_tot", "resultaat", "toelichting_resultaat", "afgesloten_op",
    "hulp_loopt_door",
    "omgezet_op",
}
_EXCLUDED = {"leerplichtambtenaar": {"weging_advies"}, "jeugdarts": set()}


def visible_data(user: User, case: Case) -> dict:
    if case.type == "verzuim":
        return _visible_verzuim_data(user, case)
    allowed = _DATA_FIELDS.get(user.role, set())
    data = dict(case.data or {})
    if allowed is None:
        data = {k: v for k, v in data.items() if k not in _EXCLUDED.get(user.role, set())}
    else:
        data = {k: v for k, v in data.items() if k in allowed}
    if user.role in ("leerplichtambtenaar", "jeugdarts", "ouder"):
        for key in ("ingangsdatum", "einddatum", "herbeoordelingsdatum"):
            value = getattr(case, key)
            data[key] = value.isoformat() if value else None
    if user.role in ("leerplichtambtenaar", "jeugdarts"):
        data["deskundige_id"] = case.deskundige_id
        data["swv_id"] = case.swv_id
    if user.role in ("leerplichtambtenaar", "jeugdarts", "swv_adviseur", "ouder"):
        data["toestemming"] = case.toestemming
    return data


def _visible_verzuim_data(user: User, case: Case) -> dict:
    from .workflows.verzuim import duo_status

    data = dict(case.data or {})
    if user.role == "school":
        data = {k: v for k, v in data.items() if k in _DATA_FIELDS["school"]}
    elif user.role == "ouder":
        data = {k: v for k, v in data.items() if k in _OUDER_VERZUIM}
    elif user.role != "leerplichtambtenaar":
        return {}
    data["duo_status"] = duo_status(case)
    return data


# ------------------------------------------------------------------ letters


def letter_scope(user: User) -> ColumnElement[bool]:
    """Letters a user may open, on top of seeing the case."""
    if user.role == "leerplichtambtenaar":
        return true()
    if user.role == "ouder":
        return and_(Letter.recipient_role == "ouder",
                    or_(Letter.recipient_user_id == user.id, Letter.recipient_user_id.is_(None)))
    if user.role == "jeugdarts":
        return and_(Letter.recipient_role == "deskundige", Letter.recipient_user_id == user.id)
    if user.role == "swv_adviseur":
        return and_(Letter.recipient_role == "swv", Letter.recipient_org_id == user.organisation_id)
    if user.role == "school":
        return and_(Letter.recipient_role == "school", Letter.recipient_org_id == user.organisation_id)
    return false()


@lru_cache(maxsize=4096)
def _letters_query(role: str, user_id: int, organisation_id: int | None) -> Select:
    """letters_for's statement, built once per user (like _case_query). Without the letters'
    context, which only the worker reads."""
    who = SimpleNamespace(role=role, id=user_id, organisation_id=organisation_id)
    q = (select(Letter).where(Letter.case_id == bindparam("case_id"), letter_scope(who))
         .order_by(Letter.id).options(defer(Letter.context)))
    if role == "swv_adviseur":  # only the current advice round's letters (history_rows)
        q = q.where(Letter.audit_seq >= bindparam("from_seq"))
    return q


def letters_for(user: User, case: Case) -> list[Letter]:
    params = {"case_id": case.id}
    if user.role == "swv_adviseur":
        params["from_seq"] = swv_round_seq(case) or 0
    return list(db.session.scalars(_letters_query(user.role, user.id, user.organisation_id), params))


def get_letter_for(user: User, letter_id: int) -> Letter:
    q = select(Letter).join(Case, Case.id == Letter.case_id).where(Letter.id == letter_id,
                                                                   letter_scope(user))
    if user.role == "leerplichtambtenaar":
        # A case handed over from another gemeente arrives as a letter addressed to this one.
        q = q.where(or_(case_scope(user), and_(Letter.recipient_role == "gemeente",
                                               Letter.recipient_org_id.in_(gemeente_ids(user)))))
    elif user.role != "swv_adviseur":
        # An SWV keeps the letters addressed to it after the case has moved past the advice.
        q = q.where(case_scope(user))
    letter = db.session.scalar(q)
    if letter is None:
        raise NotFound("Deze brief is niet gevonden.")
    return letter


# ------------------------------------------------------------------ organisations list


def organisations_query(kind: str | None) -> Select:
    q = select(Organisation).order_by(Organisation.naam)
    return q.where(Organisation.kind == kind) if kind else q


# ------------------------------------------------------------------ school holidays (beheerder)


def beheer_scholen_query(user: User) -> Select:
    """The schools whose holidays and region this beheerder keeps: those of its own gemeente."""
    if user.role != "beheerder":
        return select(Organisation).where(false())
    return select(Organisation).where(Organisation.kind == "school",
                                      Organisation.gemeente_id.in_(gemeente_ids(user))
                                      ).order_by(Organisation.naam)


def get_beheer_school(user: User, school_id: int) -> Organisation:
    school = db.session.scalar(beheer_scholen_query(user).where(Organisation.id == school_id))
    if school is None:
        raise NotFound("Deze school is niet gevonden.")
    return school


def get_schoolvakantie_for(user: User, vakantie_id: int):
    """A regional row (shared by every gemeente), or a deviation of a school of the beheerder's
    own gemeente; anything else is a 404."""
    from .models import Schoolvakantie

    row = db.session.get(Schoolvakantie, vakantie_id) if user.role == "beheerder" else None
    if row is not None and row.school_id is not None:
        get_beheer_school(user, row.school_id)
    if row is None:
        raise NotFound("Deze vakantie is niet gevonden.")
    return row


# ------------------------------------------------------------------ administration (beheerder)


def beheer_organisaties_query(user: User, kind: str | None = None) -> Select:
    """The organisations this beheerder keeps: its own gemeente, the schools in it, and the
    SWVs and JGZ organisations that serve it. Anything else is not there for the beheerder."""
    if user.role != "beheerder" or not user.organisation_id:
        return select(Organisation).where(false())
    gid = user.organisation_id
    served_swv = select(swv_gemeenten.c.swv_id).where(swv_gemeenten.c.gemeente_id == gid)
    served_jgz = select(jgz_gemeenten.c.jgz_id).where(jgz_gemeenten.c.gemeente_id == gid)
    q = select(Organisation).where(or_(
        Organisation.id == gid,
        and_(Organisation.kind == "school", Organisation.gemeente_id == gid),
        and_(Organisation.kind == "swv", Organisation.id.in_(served_swv)),
        and_(Organisation.kind == "jgz", Organisation.id.in_(served_jgz)),
    )).order_by(Organisation.kind, Organisation.naam)
    return q.where(Organisation.kind == kind) if kind else q


def get_beheer_organisatie(user: User, organisation_id: int) -> Organisation:
    org = db.session.scalar(beheer_organisaties_query(user).where(Organisation.id == organisation_id))
    if org is None:
        raise NotFound("Deze organisatie is niet gevonden.")
    return org


def beheer_keuze_query(user: User, kind: str) -> Select:
    """The gemeenten (or SWVs) a beheerder may tick as served (or as neighbours) on an SWV or JGZ
    organisation: all of them, by name. Names and codes are public registers; nothing else of
    another gemeente is shown."""
    if user.role != "beheerder" or not user.organisation_id or kind not in ("gemeente", "swv"):
        return select(Organisation).where(false())
    return select(Organisation).where(Organisation.kind == kind).order_by(Organisation.naam)


def beheer_gebruikers_query(user: User) -> Select:
    """The accounts this beheerder keeps: the staff of the organisations it keeps (parents are
    kept through their children: beheer_ouders_van)."""
    if user.role != "beheerder" or not user.organisation_id:
        return select(User).where(false())
    orgs = beheer_organisaties_query(user).with_only_columns(Organisation.id).order_by(None)
    return select(User).where(User.role != "ouder", User.organisation_id.in_(orgs))


def get_beheer_gebruiker(user: User, user_id: int) -> User:
    found = db.session.scalar(beheer_gebruikers_query(user).where(User.id == user_id))
    if found is None:
        raise NotFound("Deze gebruiker is niet gevonden.")
    return found


def beheer_child(user: User, child_id: int) -> Child:
    """A child of the beheerder's own gemeente (its record there); anything else is 404."""
    child = None
    if user.role == "beheerder" and user.organisation_id:
        child = db.session.scalar(select(Child).where(Child.id == child_id,
                                                      Child.gemeente_id == user.organisation_id))
    if child is None:
        raise NotFound("Dit kind is niet gevonden.")
    return child


# ------------------------------------------------------------------ reports


def report_gemeente_id(user: User, gemeente_id: int | None) -> int:
    """The gemeente whose leerplichttelling this user reads: the LPA its own gemeenten, the
    beheerder its own gemeente; none given: the first of them. Any other gemeente: 404."""
    allowed = gemeente_ids(user) if user.role in ("leerplichtambtenaar", "beheerder") else []
    if gemeente_id is None and allowed:
        return allowed[0]
    if gemeente_id not in allowed:
        raise NotFound("Deze telling is niet gevonden.")
    return gemeente_id


def report_swv_id(user: User) -> int:
    """The SWV whose regional view this user reads: only the adviser's own."""
    if user.role != "swv_adviseur" or user.organisation_id is None:
        raise NotFound("Dit overzicht is niet gevonden.")
    return user.organisation_id


# ------------------------------------------------------------------ routes
# Every endpoint of the app and who may reach it: PUBLIC, AUTHENTICATED or a set of roles.
# access.py applies it before every request; an endpoint missing here answers 404, and a test
# fails when a route exists that this table does not cover.
PUBLIC = "public"
AUTHENTICATED = "authenticated"
_ALL = AUTHENTICATED
_LPA = frozenset({"leerplichtambtenaar"})
_CASE_ROLES = frozenset({"leerplichtambtenaar", "jeugdarts", "swv_adviseur", "ouder"})

ROUTE_RULES: dict[str, str | frozenset[str]] = {
    # health and sign-in
    "api.healthz": PUBLIC,
    "api.create_token": PUBLIC,
    "api.openapi": PUBLIC,
    "api.revoke_token": _ALL,
    # cases
    "api.list_cases": _ALL,
    "api.create_case": frozenset({"ouder", "leerplichtambtenaar", "school"}),
    "api.get_case": _ALL,
    "api.fire_event": _ALL,
    "api.case_audit": frozenset({"leerplichtambtenaar", "beheerder"}),
    "api.route_proposal": _LPA,
    # letters
    "api.get_letter": _ALL,
    "api.get_letter_pdf": _ALL,
    # reference data
    "api.list_children": _ALL,
    "api.child_access_log": frozenset({"ouder", "beheerder"}),
    "api.create_child": frozenset({"leerplichtambtenaar", "beheerder"}),
    "api.list_organisations": _ALL,
    "api.list_deskundigen": _LPA,
    "api.audit_verify": frozenset({"beheerder"}),
    # DUO intake and status report
    "api.duo_import": _LPA,
    "api.duo_export": _LPA,
    "api.duo_vrijstellingen": _LPA,
    # reports: the gemeente's leerplichttelling, the SWV's regional view
    "api.report_leerplichttelling": frozenset({"leerplichtambtenaar", "beheerder"}),
    "api.report_swv": frozenset({"swv_adviseur"}),
    # web UI
    "auth.login": PUBLIC,
    "auth.second_step": PUBLIC,  # only with a pending sign-in (the right password just now)
    "auth.enrol_at_login": PUBLIC,  # idem
    "auth.logout": _ALL,
    "auth.account": _ALL,
    "auth.enrol": _ALL,
    "auth.new_recovery_codes": _ALL,
    "auth.logout_everywhere": _ALL,
    "auth.keepalive": _ALL,
    "auth.users": frozenset({"beheerder"}),
    "auth.reset_totp": frozenset({"beheerder"}),
    "auth.uitnodiging": PUBLIC,  # only with a working invitation link
    "auth.uitnodiging_code": PUBLIC,  # only with the e-mail address and a working code
    "web.gebruiker_nieuw": frozenset({"beheerder"}),
    "web.gebruiker_wijzig": frozenset({"beheerder"}),
    "web.gebruiker_deactiveer": frozenset({"beheerder"}),
    "web.gebruiker_activeer": frozenset({"beheerder"}),
    "web.gebruiker_opnieuw_uitnodigen": frozenset({"beheerder"}),
    "web.beheer_kinderen": frozenset({"beheerder"}),
    "web.beheer_kind": frozenset({"beheerder"}),
    "web.beheer_kind_nieuw": frozenset({"beheerder"}),
    "web.beheer_ouder_koppelen": frozenset({"beheerder"}),
    "web.beheer_ouder_ontkoppelen": frozenset({"beheerder"}),
    "web.beheer_wijzigingen": frozenset({"beheerder"}),
    "web.beheer_organisaties": frozenset({"beheerder"}),
    "web.beheer_organisatie_nieuw": frozenset({"beheerder"}),
    "web.beheer_organisatie_wijzig": frozenset({"beheerder"}),
    "web.beheer_instellingen": frozenset({"beheerder"}),
    "web.beheer_instellingen_logo": frozenset({"beheerder"}),
    "web.beheer_voorbeeldbrief": frozenset({"beheerder"}),
    "auth.change_password": _ALL,
    "auth.forgot_password": PUBLIC,
    "auth.reset_password": PUBLIC,
    "web.home": _ALL,
    "web.cases": _CASE_ROLES | {"school"},
    "web.case_detail": _CASE_ROLES | {"school"},
    "web.fire_event": _CASE_ROLES | {"school"},
    "web.new_kennisgeving": frozenset({"ouder", "leerplichtambtenaar"}),
    "web.new_verzuim": frozenset({"school", "leerplichtambtenaar"}),
    "web.route_proposal": _LPA,
    "web.letter_pdf": _CASE_ROLES | {"school"},
    "web.children": frozenset({"ouder", "leerplichtambtenaar", "school"}),
    "web.audit": frozenset({"beheerder"}),
    "web.child_access_log": frozenset({"ouder"}),
    "web.beheer_access_log": frozenset({"beheerder"}),
    "web.beheer_access_log_csv": frozenset({"beheerder"}),
    "web.schoolvakanties": frozenset({"beheerder"}),
    "web.schoolvakantie_nieuw": frozenset({"beheerder"}),
    "web.schoolvakantie_wijzig": frozenset({"beheerder"}),
    "web.schoolvakantie_verwijder": frozenset({"beheerder"}),
    "web.school_vakantieregio": frozenset({"beheerder"}),
    "web.beheer_brieven": frozenset({"beheerder"}),
    "web.beheer_brief_opnieuw": frozenset({"beheerder"}),
    "web.duo_import": _LPA,
    "web.duo_export": _LPA,
    "web.duo_vrijstellingen": _LPA,
    "web.telling": frozenset({"leerplichtambtenaar", "beheerder"}),
    "web.telling_csv": frozenset({"leerplichtambtenaar", "beheerder"}),
    "web.telling_xlsx": frozenset({"leerplichtambtenaar", "beheerder"}),
    "web.swv_overzicht": frozenset({"swv_adviseur"}),
    "metrics": PUBLIC,  # only when CASEWORK_METRICS=1; its own token (metrics.py)
}
