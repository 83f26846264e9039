"""The one way a case changes: fire(). Checks, state, audit row and letters in one transaction."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from transitions import MachineError

from casework import policy
from casework.extensions import db
from casework.models import Case, Child, MedicalNote, User, utcnow
from casework.models.case import copy_report_facts
from casework.workflows import WORKFLOWS, get_workflow
from casework.workflows.base import NEW, SYSTEM_ROLE, GuardContext

from . import audit, instellingen
from .errors import BadRequest, Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from .letters import record_letters
from .references import next_reference

_TYPE_ERRORS = ("_type", "_parsing", "json_invalid")

_MESSAGES = {
    "missing": "Dit veld is verplicht.",
    "string_too_short": "Dit veld mag niet leeg zijn.",
    "bool_type": "Kies ja of nee (true of false).",
    "bool_parsing": "Kies ja of nee (true of false).",
    "int_type": "Vul een geheel getal in.",
    "int_parsing": "Vul een geheel getal in.",
    "date_type": "Vul een datum in als JJJJ-MM-DD.",
    "date_parsing": "Vul een datum in als JJJJ-MM-DD.",
    "date_from_datetime_parsing": "Vul een datum in als JJJJ-MM-DD.",
    "string_type": "Vul tekst in.",
    "list_type": "Geef een lijst.",
    "literal_error": "Kies een van de toegestane waarden.",
}


def validation_error(exc: ValidationError) -> BadRequest | ValidationFailed:
    """Pydantic errors in Dutch, per field. Wrong types are a 400, missing or invalid values a 422."""
    fields: dict[str, list[str]] = {}
    wrong_type = False
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "body"
        kind = err["type"]
        wrong_type |= kind.endswith(_TYPE_ERRORS) and kind not in ("date_from_datetime_parsing",)
        if kind == "literal_error":
            allowed = err.get("ctx", {}).get("expected", "")
            message = f"Kies een van: {allowed}."
        elif kind == "value_error":
            message = str(err.get("ctx", {}).get("error", err["msg"]))
        elif kind == "string_too_long":
            message = f"Deze tekst is te lang: maximaal {err['ctx']['max_length']} tekens."
        elif kind == "too_long" and err.get("ctx", {}).get("field_type") == "Value":
            message = f"Deze tekst is te lang: maximaal {err['ctx']['max_length']} tekens."
        elif kind == "too_long":
            message = f"Deze lijst is te lang: maximaal {err['ctx']['max_length']} regels."
        elif kind == "less_than_equal":
            message = f"Deze waarde is te groot: hoogstens {err['ctx']['le']}."
        elif kind == "greater_than_equal":
            message = f"Deze waarde is te klein: minstens {err['ctx']['ge']}."
        else:
            message = _MESSAGES.get(kind, "Deze waarde is niet geldig.")
        fields.setdefault(name, []).append(message)
    cls = BadRequest if wrong_type else ValidationFailed
    return cls("Niet alle gegevens zijn goed ingevuld. Kijk de velden na.", fields)


def parse_payload(model: type[BaseModel], data: dict | str | bytes | BaseModel) -> BaseModel:
    if isinstance(data, model):
        return data
    try:
        if isinstance(data, (str, bytes)):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def _settings(case: Case):
    """The product settings with the case's gemeente's own values over them (services/instellingen.py)."""
    return instellingen.for_gemeente(case.gemeente_id)


def _today() -> date:
    return date.today()


def _run_guards(spec, ctx: GuardContext) -> None:
    errors: dict[str, list[str]] = {}
    for guard in spec.guards:
        for name, message in (guard(ctx) or {}).items():
            errors.setdefault(name, []).append(message)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, errors)


def _update_due(case: Case) -> None:
    deadlines = get_workflow(case.type).deadlines(case, _settings(case))
    case.due_on = min((due for _, due in deadlines), default=None)


def _transition(case: Case, spec, ctx: GuardContext, actor: User | None, actor_role: str,
                payload: BaseModel) -> None:
    """State change, audit row and letters; the caller's transaction holds them together."""
    wf = get_workflow(case.type)
    from_state = case.state
    is_new = case.id is None
    chosen = spec.dest(ctx) if callable(spec.dest) else spec.dest
    try:
        ok = wf.machine.events[spec.name].trigger(case, chosen_dest=chosen)
    except MachineError:
        raise InvalidTransition(_wrong_state_message(wf, case, spec, actor)) from None
    if not ok:  # conditions only choose the destination; guards ran before
        raise InvalidTransition(_wrong_state_message(wf, case, spec, actor))
    if spec.apply:
        spec.apply(ctx)
    case.is_open = case.state not in wf.terminal
    case.updated_at = utcnow()
    _update_due(case)
    if is_new:
        db.session.add(case)
        db.session.flush()
    payload_dump = payload.model_dump(mode="json")
    if "medische_notitie" in payload_dump:  # the digest covers it; the note itself lives apart
        note = payload_dump["medische_notitie"]
        if note:
            db.session.add(MedicalNote(case_id=case.id, author_id=actor.id, text=note))
    written = None if is_new else _write_case(case)
    if written is None:
        db.session.flush()
    # Relations may have changed through their id columns; reload those for the letters (an
    # unchanged one stays: expiring it would drop the loaded object and cost a read).
    stale = [relation for relation, column in _RELATION_COLUMNS.items()
             if written is None or column in written]
    if stale:  # (an empty list would expire every attribute)
        db.session.expire(case, stale)
    row = audit.append_audit(case.id, spec.name, None if from_state == NEW else from_state,
                             case.state, actor.id if actor else None, actor_role, payload_dump,
                             spec.audit_details(ctx) if spec.audit_details else None)
    if is_new:
        # From the counter, in this transaction: a rollback gives the number back (no gaps).
        # After the audit row, which holds the audit seal's lock (see services/references.py).
        case.reference = next_reference(wf.reference_prefix, case.created_at.year)
    # The audit row and seals are flushed with the letters (one unit of work).
    record_letters(case, spec, actor, row.seq, ctx.today)


# The columns a transition may change, by attribute name (all of Case's own columns).
_CASE_COLUMNS = {attr.key: attr.columns[0] for attr in inspect(Case).column_attrs}
_CASE_TABLE = Case.__table__
# Relations the letters read, by the column a transition sets them through.
_RELATION_COLUMNS = {"swv": "swv_id", "deskundige": "deskundige_id", "school": "school_id"}


def _write_case(case: Case) -> frozenset[str] | None:
    """The case's changes as one UPDATE with the version check the ORM would make ("WHERE
    version = n", the version one up), when the case is the only change in the session and only
    its columns changed; returns the columns written. None leaves it to the session's flush (a
    new note, a changed child, a relation set as an object). The before_update hook's report
    facts are copied first, as the flush would. A lost race raises StaleDataError, as the flush
    would (fire() makes it a 409).

    The unit of work costs more than the statement: a fire is mostly this one write."""
    session = db.session
    state = inspect(case)
    dirty = session.dirty
    if session.new or session.deleted or len(dirty) != 1 or case not in dirty:
        return None
    copy_report_facts(case)
    changed = list(state.committed_state)
    if not changed or "version" in changed or any(key not in _CASE_COLUMNS for key in changed):
        return None
    version = case.version
    params = {f"v_{key}": state.dict[key] for key in changed}
    params.update(_id=case.id, _version=version, v_version=version + 1)
    # On the session's connection: session.execute() would autoflush the case first.
    result = session.connection().execute(_case_update(tuple(sorted(changed))), params)
    if result.rowcount != 1:
        raise StaleDataError(f"De zaak {case.id} is intussen gewijzigd (versie {version}).")
    state.dict["version"] = version + 1
    # What the flush does after its UPDATE: the loaded values are now the committed ones.
    state._commit_all(state.dict, session.identity_map)
    return frozenset(changed)


@lru_cache(maxsize=256)
def _case_update(keys: tuple[str, ...]):
    """UPDATE cases SET <these columns and the version> WHERE id AND version, built once per
    set of columns (a few per event): building and keying it cost as much as running it."""
    return (update(_CASE_TABLE)
            .where(_CASE_TABLE.c.id == bindparam("_id"), _CASE_TABLE.c.version == bindparam("_version"))
            .values({_CASE_COLUMNS[key]: bindparam(f"v_{key}") for key in (*keys, "version")}))


def _wrong_state_message(wf, case, spec, actor: User | None = None) -> str:
    """Names the state as the actor may see it (a school never learns the route)."""
    label = policy.state_for(actor, case)[1] if actor is not None else wf.state_label(case.state)
    return f"De stap '{spec.label}' kan niet nu: de zaak staat op '{label}'."


def open_case(actor: User | None, case_type: str, data: dict | str | bytes | BaseModel, *,
              actor_role: str | None = None, event: str | None = None) -> Case:
    """The opening event (dien_in, or another one from NEW such as an import) of a new case.
    actor None: a system intake (actor_role names it)."""
    wf = WORKFLOWS.get(case_type)
    if wf is None:
        raise ValidationFailed("Onbekend soort zaak.", {"type": [f"Kies een van: {', '.join(WORKFLOWS)}."]})
    spec = wf.events[event or wf.open_event]
    if NEW not in spec.sources:
        raise InvalidTransition(f"De stap '{spec.label}' opent geen zaak.")
    actor_role = actor.role if actor is not None else actor_role
    if actor_role not in spec.roles:
        raise Forbidden("U mag dit soort zaak niet indienen.")
    payload = parse_payload(spec.payload, data)
    child = db.session.get(Child, payload.child_id)
    case = Case(type=case_type, state=NEW, child=child, gemeente_id=child.gemeente_id if child else None,
                data={}, version=1, is_open=True, created_at=utcnow())
    ctx = GuardContext(case=case, payload=payload, actor=actor, today=_today(), settings=_settings(case))
    _run_guards(spec, ctx)
    if wf.one_open_case_per_child:
        open_cases = list(db.session.scalars(select(Case).where(
            Case.child_id == child.id, Case.type == case_type, Case.is_open.is_(True))
            .order_by(Case.id)))
        # A case whose exemption runs (it has a period) leaves room for the renewal.
        existing = next((c for c in open_cases if c.ingangsdatum is None), None)
        if existing:
            raise Conflict(
                f"Voor dit kind loopt al een zaak ({existing.reference}). "
                "Een nieuwe kennisgeving kan pas als die zaak is afgerond.",
                open_case_id=existing.id, open_case_reference=existing.reference)
        if open_cases:
            case.vorige_case_id = _renewal_of(open_cases, payload).id
    try:
        _transition(case, spec, ctx, actor, actor_role, payload)
    except IntegrityError as exc:
        db.session.rollback()
        if not is_lost_race(exc):
            raise
        raise Conflict("Voor dit kind is zojuist al een zaak ingediend.") from None
    return case


def _renewal_of(running: list[Case], payload: BaseModel) -> Case:
    """The running exemption a new kennisgeving renews: only for a later school year."""
    latest = max(running, key=lambda c: (c.data or {}).get("schooljaar", ""))
    current = (latest.data or {}).get("schooljaar", "")
    if getattr(payload, "schooljaar", "") <= current:
        raise Conflict(
            f"Voor dit kind loopt een vrijstelling ({latest.reference}) voor het schooljaar "
            f"{current}. Een nieuwe kennisgeving (verlenging) kan alleen voor een later schooljaar.",
            open_case_id=latest.id, open_case_reference=latest.reference)
    return latest


def fire(case: Case, event: str, *, actor: User | None, data=None,
         expected_version: int | None = None) -> Case:
    """Fire an event on a case the actor may see. actor None means the scheduler."""
    wf = get_workflow(case.type)
    spec = wf.events.get(event)
    if spec is None:
        raise NotFound(f"De stap '{event}' bestaat niet voor dit soort zaak.")
    actor_role = actor.role if actor else SYSTEM_ROLE
    if actor is not None:
        policy.ensure_may_fire(actor, case, spec)
    elif SYSTEM_ROLE not in spec.roles:
        raise Forbidden("Deze stap kan niet automatisch.")
    # A school sends the version it sees (policy.version_for), which hidden steps do not move.
    if expected_version is not None and expected_version != policy.version_for(actor, case):
        raise Conflict("De zaak is intussen gewijzigd. Laad de zaak opnieuw en probeer het nog eens.")
    if case.state not in spec.sources:
        raise InvalidTransition(_wrong_state_message(wf, case, spec, actor))
    if spec.applies is not None and not spec.applies(case):
        raise InvalidTransition(spec.not_applicable or f"De stap '{spec.label}' past niet bij deze zaak.")
    payload = parse_payload(spec.payload, data if data is not None else {})
    ctx = GuardContext(case=case, payload=payload, actor=actor, today=_today(), settings=_settings(case))
    _run_guards(spec, ctx)
    try:
        _transition(case, spec, ctx, actor, actor_role, payload)
    except (StaleDataError, IntegrityError, OperationalError) as exc:
        db.session.rollback()
        if not is_lost_race(exc):
            raise
        raise Conflict("Iemand anders heeft deze zaak net gewijzigd. Laad de zaak opnieuw.") from None
    return case


def is_lost_race(exc: Exception) -> bool:
    """Whether a database error means another request changed the case first.

    A version conflict, a unique key another request took (audit seq, the open-case index) or a
    lock are races; a CHECK or foreign-key violation is a bug and must not pass for one.
    """
    if isinstance(exc, StaleDataError):
        return True
    text = str(exc).lower()
    if isinstance(exc, IntegrityError):
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
        # On SQLite the audit table's trigger refuses a duplicate (case, seq) before the unique
        # index does: the app never replaces a row, so that too is another request's row.
        return (sqlstate == "23505" or "unique constraint failed" in text
                or "append-only: replace refused" in text)
    if isinstance(exc, OperationalError):
        return "locked" in text or "could not serialize" in text
    return False


def commit() -> None:
    """The request boundary: one commit; a lost race becomes a 409 and nothing of it is written."""
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError, OperationalError) as exc:
        db.session.rollback()
        if not is_lost_race(exc):
            raise
        raise Conflict("Iemand anders heeft deze zaak net gewijzigd. Laad de zaak opnieuw.") from exc


def propose_route(case: Case, actor: User, data) -> dict:
    """The MAS route proposal for a verzuim case in onderzoek, from what the LPA records."""
    from casework.workflows import verzuim

    if case.type != verzuim.CASE_TYPE:
        raise NotFound("Een routevoorstel hoort bij een verzuimzaak.")
    spec = verzuim.EVENTS["kies_route"]
    policy.ensure_may_fire(actor, case, spec)
    if case.state not in spec.sources:  # a proposal belongs to choosing the route (as on the web)
        raise InvalidTransition(_wrong_state_message(get_workflow(case.type), case, spec, actor))
    payload = parse_payload(verzuim.RouteVoorstelVraag, data if data is not None else {})
    ctx = GuardContext(case=case, payload=payload, actor=actor, today=_today(), settings=_settings(case))
    route, reden = verzuim.proposal_for(ctx)
    return {"route": route, "label": verzuim.STATES[route], "reden": reden}
