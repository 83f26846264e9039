"""The web UI's pages (blueprint `web`). Thin: load through policy, validate, call one service, redirect."""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from functools import partial
from types import SimpleNamespace

from flask import (
    Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for,
)
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from casework import policy, search
from casework.extensions import db
from casework.letters.render import LETTER_KINDS
from casework.models import Case, Child, MedicalNote, Organisation
from casework.services import audit as audit_service
from casework.services import cases as case_service
from casework.services import paging
from casework.services.errors import Conflict, DomainError, InvalidTransition, NotFound
from casework.workflows import WORKFLOWS, get_workflow

from ..forms.events import HINTS, event_form
from ..forms.kennisgeving import KennisgevingForm
from . import texts

bp = Blueprint("web", __name__)

PER_PAGE = 50
_GENERAL_ERROR = "Niet alle gegevens zijn goed ingevuld. Kijk de velden na."


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    from . import error_page
    from ..access import log_refusal

    if exc.status in (403, 404):
        log_refusal(exc.status)

    return error_page(exc.status, exc.message)


def _user():
    return current_user._get_current_object()


def _page_arg() -> int:
    value = request.args.get("pagina", "1")
    return max(int(value), 1) if value.isdigit() else 1


def _state_label(case: Case) -> str:
    return get_workflow(case.type).state_label(case.state)


def _status_label(user, case: Case) -> str:
    """The state as this user reads it: plain words for a parent, coarse for a school."""
    if user.role == "ouder":
        return texts.ouder_status(case) or _state_label(case)
    return policy.state_for(user, case)[1] or _state_label(case)


def _case_types(user) -> list[str]:
    """The case types that can appear in this user's work list."""
    if user.role == "school":
        return ["verzuim"]
    if user.role in ("leerplichtambtenaar", "ouder"):
        return list(WORKFLOWS)
    return [t for t in WORKFLOWS if t != "verzuim"]


def _filter_states(user) -> list[tuple[str, dict[str, str]]]:
    """The status filter's options, grouped per case type, in the terms this user sees."""
    groups = []
    for case_type in _case_types(user):
        wf = get_workflow(case_type)
        states: dict[str, str] = {}
        for state in wf.states:
            key, label = policy.state_for(user, SimpleNamespace(type=case_type), state)
            states.setdefault(key, label)
        groups.append((wf.label, states))
    return groups


def _kind_filters(user) -> dict[str, str]:
    """The "Soort" filter: only for those who see more than one kind of case."""
    if user.role == "leerplichtambtenaar":
        return dict(texts.CASE_KIND_FILTERS)
    if user.role == "school":
        return {k: v for k, v in texts.CASE_KIND_FILTERS.items() if k != "vrijstelling"}
    return {}


def _kind_condition(kind: str):
    if kind == "vrijstelling":
        return Case.type == "vrijstelling_5a"
    return and_(Case.type == "verzuim", Case.data["soort"].as_string() == kind)


# ------------------------------------------------------------------ home


@bp.get("/")
def home():
    role = _user().role
    if role == "ouder":
        return redirect(url_for("web.children"))
    if role in ("leerplichtambtenaar", "jeugdarts", "swv_adviseur", "school"):
        return redirect(url_for("web.cases"))
    if role == "beheerder":
        return redirect(url_for("web.audit"))
    return render_template("home.html")


# ------------------------------------------------------------------ work list


@bp.get("/zaken")
def cases():
    user = _user()
    state_groups = _filter_states(user)
    state = request.args.get("status", "")
    state = state if any(state in states for _, states in state_groups) else ""
    kinds = _kind_filters(user)
    kind = request.args.get("soort", "")
    kind = kind if kind in kinds else ""
    q = (request.args.get("q") or "").strip()[:100]

    query = policy.visible_cases(user)
    if state:
        query = query.where(policy.state_condition(user, state))
    if kind:
        query = query.where(_kind_condition(kind))
    if q:
        # Without toestemming the adviser may not learn who the child is, not even by searching.
        query = query.where(search.cases_matching(q, user))

    per_page = current_app.config.get("WEB_PER_PAGE", PER_PAGE)
    page = _page_arg()
    order = partial(policy.list_order, user)
    def with_child(cases):
        return cases.join(Child, Case.child_id == Child.id).options(
            contains_eager(Case.child), joinedload(Case.gemeente))

    listed, by_id = with_child(query), with_child(policy.visible_cases(user))
    # Counted on cases alone (no join with children): an index-only count at a million cases.
    found = paging.case_page(listed, order, page, per_page, search=bool(q),
                             count_query=query, by_id_query=by_id)
    pages = max(math.ceil(found.total / per_page), 1)
    if page > pages:  # past the end (an old link): the last page
        page = pages
        found = paging.case_page(listed, order, page, per_page,
                                 search=bool(q), count_query=query, by_id_query=by_id)
    rows, total = found.rows, found.total
    audit_service.log_reads(user, [(c.id, c.child_id, c.type) for c in rows],
                            "zaken_zoeken" if q else "zaken_lijst", via="web")
    db.session.commit()

    today = date.today()
    items = [{
        "case": c,
        "kind": c.child.naam if policy.sees_identity(user, c) else None,
        "soort": texts.case_kind_label(c),
        "reference": policy.reference_for(user, c),
        "status": _status_label(user, c),
        "overdue": c.due_on is not None and c.due_on < today and c.is_open and user.role != "school",
    } for c in rows]
    return render_template(
        "cases/list.html", items=items, state_groups=state_groups, state=state, kinds=kinds, kind=kind,
        q=q, page=page, pages=pages, total=total, capped=found.capped, title=texts.LIST_TITLES.get(user.role, "Zaken"),
        show_gemeente=user.role in ("jeugdarts", "swv_adviseur"),
        show_soort="verzuim" in _case_types(user),
        # A school's planning dates would tell it where a case went (domain.md: coarse only).
        show_due=user.role != "school",
        child_header="Leerling" if user.role == "school" else "Kind",
    )


# ------------------------------------------------------------------ case page


def _field_rows(case: Case, data: dict) -> list[dict]:
    """The case's data as label/value rows, in the order of the type's labels."""
    labels = texts.field_labels(case.type)
    order = list(labels)
    fields = []
    for key in sorted(data, key=lambda k: (order.index(k) if k in order else len(order), k)):
        value = data[key]
        if value is None or value == "" or value == [] or key == "duo_status":  # DUO status: in the header
            continue
        if key == "oorspronkelijke_soort" and value == data.get("soort"):
            continue  # only worth saying once a signaal became a melding
        if key == "deskundige_id":
            value = case.deskundige.naam if case.deskundige else value
        elif key == "swv_id":
            value = case.swv.naam if case.swv else value
        elif key == "vorige_swv_id":
            org = db.session.get(Organisation, value)
            value = org.naam if org else value
        elif key == "overgedragen_aan":
            org = db.session.get(Organisation, value)
            value = org.naam if org else value
        fields.append({"key": key, "label": labels.get(key, key.replace("_", " ").capitalize()),
                       "value": texts.format_case_value(case.type, key, value)})
    return fields


def _history(user, case: Case) -> list[dict]:
    """The case's steps as this user may see them; a school in coarse terms, the LPA with the
    route proposal and choice that the audit row holds."""
    wf = get_workflow(case.type)
    school = user.role == "school"
    history = []
    for row in policy.history_rows(user, case):
        to_label = policy.state_for(user, case, row.to_state)[1]
        from_label = policy.state_for(user, case, row.from_state)[1] if row.from_state else None
        if school:
            event = texts.SCHOOL_EVENT_LABELS.get(row.event, "Stap in de behandeling")
            from_label = None if from_label == to_label else from_label
        else:
            event = wf.events[row.event].label if row.event in wf.events else row.event
        note = None
        if user.role == "leerplichtambtenaar" and row.details:
            note = _decision_note(case.type, row.details)
        history.append({"event": event, "at": row.at, "from": from_label, "to": to_label, "note": note,
                        "role": texts.ROLE_LABELS.get(row.actor_role, row.actor_role)})
    return history


def _decision_note(case_type: str, details: dict) -> str | None:
    """The route proposal and choice an audit row holds, in words."""
    labels = get_workflow(case_type).states
    voorstel, gekozen = details.get("voorgestelde_route"), details.get("gekozen_route")
    if voorstel and gekozen and not details.get("afwijking"):
        return f"Gekozen volgens het voorstel: {labels.get(gekozen, gekozen)}."
    if voorstel and gekozen:
        reden = details.get("motivering_afwijking")
        reden = f"Reden: {reden}" if reden else "De reden staat bij de gegevens."
        return (f"Voorstel: {labels.get(voorstel, voorstel)}. Gekozen: {labels.get(gekozen, gekozen)}. "
                f"Afgeweken van het voorstel. {reden}")
    if gekozen:
        return f"Gekozen: {labels.get(gekozen, gekozen)}."
    return None


def _render_case(case: Case, *, posted: tuple[str, object] | None = None, error: str | None = None,
                 general_errors: list[str] | None = None, status: int = 200,
                 proposal: dict | None = None):
    """The case page for the current user; `posted` keeps a submitted form with its errors,
    `proposal` is a verzuim route proposal to show (views/verzuim.py)."""
    user = _user()
    wf = get_workflow(case.type)
    data = policy.visible_data(user, case)
    identity = policy.sees_identity(user, case)
    fields = _field_rows(case, data)

    notes = []
    if policy.may_see_medical_note(user, case):
        notes = db.session.scalars(select(MedicalNote).where(MedicalNote.case_id == case.id)
                                   .order_by(MedicalNote.created_at, MedicalNote.id)).all()

    history = _history(user, case)

    today = date.today()
    deadlines = [{"label": texts.DEADLINE_LABELS.get(kind, kind), "due": due, "overdue": due < today}
                 for kind, due in policy.visible_deadlines(user, case, current_app.config)]

    letters = [{
        "letter": letter,
        "title": LETTER_KINDS.get(letter.kind, letter.kind),
        "recipient": texts.RECIPIENT_LABELS.get(letter.recipient_role, letter.recipient_role),
        "status": texts.LETTER_STATUS.get(letter.status, letter.status),
    } for letter in policy.letters_for(user, case)]

    forms = []
    for name in policy.available_events(user, case):
        if posted is not None and posted[0] == name:
            form = posted[1]
        else:
            form = event_form(name, user, case)
        if form is not None:
            forms.append({"name": name, "label": form.title or wf.events[name].label, "form": form})
    forms.sort(key=lambda item: item["form"].confirm)  # the next steps first, final ones folded below

    if user.role == "ouder":
        uitleg, actie = texts.ouder_uitleg_case(case, data)
    elif user.role == "school":
        uitleg, actie = texts.SCHOOL_UITLEG.get(policy.state_for(user, case)[0], ""), False
    else:
        uitleg, actie = texts.STATE_UITLEG.get(case.state, ""), False
    extra = {}
    template = "cases/detail.html"
    if case.type == "verzuim":
        template = "cases/verzuim.html"
        extra = verzuim.case_context(user, case, data, forms, posted=posted, proposal=proposal)

    # NEN 7513: who read which sensitive part of the case, when.
    shown = []
    if identity:
        shown.append("identiteit")
    if "advies" in data:
        shown.append("advies")
    if "geschikt" in data or "weging_advies" in data:
        shown.append("verklaring")
    if notes:
        shown.append("medische_notitie")
    if data.get("oorzaak"):
        shown.append("verzuim_oorzaak")
    for what in shown:
        audit_service.log_access(user, case.id, what, via="web")
    db.session.commit()

    return render_template(
        template, case=case, child=case.child if identity else None,
        kenmerk=policy.reference_for(user, case),
        identity=identity, state_label=_status_label(user, case),
        uitleg=uitleg, actie=actie, fields=fields, notes=notes, history=history, deadlines=deadlines,
        letters=letters, forms=forms, hints=HINTS, error=error, general_errors=general_errors or [],
        posted_form=posted[1] if posted else None,
        list_title=texts.LIST_TITLES.get(user.role, "Zaken"), **extra,
    ), status


@bp.get("/zaken/<int:case_id>")
def case_detail(case_id: int):
    return _render_case(policy.get_case_for(_user(), case_id))


def _attach_errors(form, fields: dict[str, list[str]]) -> list[str]:
    """Put service errors next to their inputs; return those that belong to no input."""
    general = []
    for key, messages in fields.items():
        name = key.split(".")[0]
        for message in messages:
            if form is None or not form.add_error(name, message):
                general.append(message)
    return general


@bp.post("/zaken/<int:case_id>/stap/<event>")
def fire_event(case_id: int, event: str):
    user = _user()
    case = policy.get_case_for(user, case_id)
    spec = get_workflow(case.type).events.get(event)
    form = event_form(event, user, case, formdata=request.form) if spec else None
    if form is None:
        abort(404)

    error = None
    try:
        if event not in policy.available_events(user, case):
            # Not now or not for this role: the service says which (403, 409) and changes nothing.
            case_service.fire(case, event, actor=user, data={}, expected_version=form.version())
            abort(409)  # unreachable: an event that is not available cannot fire
        if not form.validate():
            error, status = _GENERAL_ERROR, 422
        elif form.confirm and not form.bevestiging.data:
            form.add_error("bevestiging", "Zet een vinkje bij ‘Ik weet het zeker’ als u deze stap wilt zetten.")
            error, status = "Bevestig eerst dat u deze stap zeker wilt zetten.", 422
        else:
            case_service.fire(case, event, actor=user, data=form.payload(),
                              expected_version=form.version())
            case_service.commit()
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        case = policy.get_case_for(user, case_id)
        message = exc.message
        if isinstance(exc, InvalidTransition) and user.role == "school":
            # The service names the exact state; a school may only learn the coarse one.
            message = (f"De stap ‘{form.title or spec.label}’ kan niet nu: de zaak staat op "
                       f"‘{_status_label(user, case)}’.")
        if isinstance(exc, Conflict) or exc.status == 403 or event not in policy.available_events(user, case):
            return _render_case(case, error=message, status=exc.status)
        general = _attach_errors(form, exc.fields)
        return _render_case(case, posted=(event, form), error=exc.message, general_errors=general,
                            status=exc.status)
    if error:
        db.session.rollback()
        return _render_case(case, posted=(event, form), error=error, status=status)

    flash(f"Gelukt: {form.title or spec.label}. De zaak staat nu op ‘{_status_label(user, case)}’.", "success")
    return redirect(url_for("web.case_detail", case_id=policy.public_case_id(user, case)))


# ------------------------------------------------------------------ kennisgeving


@bp.route("/kennisgeving/nieuw", methods=["GET", "POST"])
def new_kennisgeving():
    user = _user()
    paper = user.role == "leerplichtambtenaar"
    children = db.session.scalars(select(Child).where(policy.child_scope(user))
                                  .order_by(Child.achternaam, Child.voornaam).limit(500)).all()
    form = KennisgevingForm()
    if request.method == "GET" and request.args.get("kind", "").isdigit():
        form.child_id.data = int(request.args["kind"])
    form.setup(children, date.today(), paper=paper)
    if paper:
        form.toelichting.label.text = "Waarom kan het kind niet naar school? (uit de kennisgeving)"

    error, status, general, open_case = None, 200, [], None
    if form.is_submitted():
        if not form.validate():
            error, status = _GENERAL_ERROR, 422
        else:
            try:
                case = case_service.open_case(user, "vrijstelling_5a", form.payload())
                case_service.commit()
            except DomainError as exc:
                db.session.rollback()
                error, status = exc.message, exc.status
                general = _attach_errors(form, exc.fields)
                if exc.extra.get("open_case_id"):
                    open_case = {"id": exc.extra["open_case_id"],
                                 "reference": exc.extra.get("open_case_reference")}
            else:
                flash(f"Gelukt: de kennisgeving is ontvangen. Het kenmerk is {case.reference}.", "success")
                return redirect(url_for("web.case_detail", case_id=case.id))
    return render_template("kennisgeving/new.html", form=form, paper=paper, error=error,
                           general_errors=general, open_case=open_case, has_children=bool(children)), status


# ------------------------------------------------------------------ children


@bp.get("/mijn-kinderen")
def children():
    user = _user()
    q = (request.args.get("q") or "").strip()[:100]
    query = select(Child).where(policy.child_scope(user))
    if q and user.role != "ouder":
        query = query.where(or_(search.children_matching(q), Child.bsn == q))
    # Child.id last: namesakes come in the same order whichever plan the search gets.
    kids = db.session.scalars(query.order_by(Child.achternaam, Child.voornaam, Child.id)
                              .limit(PER_PAGE)).all()
    by_child: dict[int, list[Case]] = defaultdict(list)
    if kids:
        for case in db.session.scalars(policy.visible_cases(user)
                                       .where(Case.child_id.in_([k.id for k in kids]))
                                       .order_by(Case.created_at.desc(), Case.id.desc())):
            by_child[case.child_id].append(case)
    rows = []
    for kid in kids:
        kid_cases = [{
            "case": c,
            "soort": texts.case_kind_label(c),
            "status": _status_label(user, c),
            "uitleg": texts.ouder_uitleg_case(c, policy.visible_data(user, c))[0]
            if user.role == "ouder" and c.is_open else "",
        } for c in by_child[kid.id]]
        rows.append({"child": kid, "cases": kid_cases,
                     "open_case": next((c for c in by_child[kid.id] if c.is_open
                                        and c.type == "vrijstelling_5a"), None)})
    # One row per child shown and per case of it shown; one INSERT.
    audit_service.log_reads(
        user, [(None, k.id, None) for k in kids if not by_child[k.id]]
        + [(c.id, c.child_id, c.type) for k in kids for c in by_child[k.id]],
        ("bsn_zoeken" if q.isdigit() else "kinderen_zoeken") if q and user.role != "ouder"
        else "kinderen_lijst", via="web")
    db.session.commit()
    title = {"ouder": "Mijn kinderen", "school": "Leerlingen"}.get(user.role, "Kinderen")
    return render_template("children/list.html", rows=rows, title=title, q=q,
                           searchable=user.role != "ouder", capped=len(kids) == PER_PAGE,
                           may_file=user.role in ("ouder", "leerplichtambtenaar"),
                           may_report=user.role in ("school", "leerplichtambtenaar"))


# ------------------------------------------------------------------ letters


@bp.get("/brieven/<int:letter_id>.pdf")
def letter_pdf(letter_id: int):
    user = _user()
    letter = policy.get_letter_for(user, letter_id)
    if letter.status != "rendered":
        failed = letter.status == "failed"
        return render_template("brieven/pending.html", letter=letter, failed=failed), 409
    case = policy.case_in_scope(user, letter.case_id)
    if case is None and user.role != "swv_adviseur":  # an SWV keeps the letters addressed to it
        raise NotFound("Deze brief is niet gevonden.")
    audit_service.log_access(user, letter.case_id, "brief", via="web")
    pdf = letter.pdf
    db.session.commit()
    # An SWV's file name carries no kenmerk: a letter of an earlier round must not name this one.
    kenmerk = case.reference if case is not None and user.role != "swv_adviseur" else None
    filename = f"{kenmerk or 'brief'}-{letter.id}.pdf"
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
    })


# ------------------------------------------------------------------ administration


@bp.route("/beheer/audit", methods=["GET", "POST"])
def audit():
    result = None
    if request.method == "POST":
        result = audit_service.verify_chains()
    return render_template("beheer/audit.html", result=result)


# The verzuim pages add their routes to this blueprint (kept apart to keep this module short).
from . import verzuim  # imported last: it imports this module
