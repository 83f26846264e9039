"""The web UI's pages (blueprint `web`). Thin: load through policy, validate, call one service, redirect."""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

from flask import (
    Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for,
)
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from casework import policy
from casework.extensions import db
from casework.letters.render import LETTER_KINDS
from casework.models import AuditEvent, Case, Child, MedicalNote
from casework.services import audit as audit_service
from casework.services import cases as case_service
from casework.services.errors import Conflict, DomainError
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

    return error_page(exc.status, exc.message)


def _user():
    return current_user._get_current_object()


def _page_arg() -> int:
    value = request.args.get("pagina", "1")
    return max(int(value), 1) if value.isdigit() else 1


def _state_label(case: Case) -> str:
    return get_workflow(case.type).state_label(case.state)


def _all_states() -> dict[str, str]:
    states: dict[str, str] = {}
    for wf in WORKFLOWS.values():
        states.update(wf.states)
    return states


# ------------------------------------------------------------------ home


@bp.get("/")
def home():
    role = _user().role
    if role == "ouder":
        return redirect(url_for("web.children"))
    if role in ("leerplichtambtenaar", "jeugdarts", "swv_adviseur"):
        return redirect(url_for("web.cases"))
    if role == "beheerder":
        return redirect(url_for("web.audit"))
    return render_template("home.html")


# ------------------------------------------------------------------ work list


@bp.get("/zaken")
def cases():
    user = _user()
    states = _all_states()
    state = request.args.get("status", "")
    state = state if state in states else ""
    q = (request.args.get("q") or "").strip()[:100]

    query = policy.visible_cases(user).join(Child, Case.child_id == Child.id)
    if state:
        query = query.where(Case.state == state)
    if q:
        needle = q.lower()
        name = or_(func.lower(Child.voornaam).contains(needle, autoescape=True),
                   func.lower(Child.achternaam).contains(needle, autoescape=True),
                   func.lower(Child.voornaam + " " + Child.achternaam).contains(needle, autoescape=True))
        if user.role == "swv_adviseur":
            # Without toestemming the adviser may not learn who the child is, not even by searching.
            name = Case.toestemming.is_(True) & name
        query = query.where(or_(func.lower(Case.reference).contains(needle, autoescape=True), name))

    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    per_page = current_app.config.get("WEB_PER_PAGE", PER_PAGE)
    pages = max(math.ceil(total / per_page), 1)
    page = min(_page_arg(), pages)
    rows = db.session.scalars(
        query.options(contains_eager(Case.child), joinedload(Case.gemeente))
        .order_by(Case.due_on.is_(None), Case.due_on, Case.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).unique().all()

    today = date.today()
    items = [{
        "case": c,
        "kind": c.child.naam if policy.sees_identity(user, c) else None,
        "status": texts.OUDER_STATUS.get(c.state, _state_label(c)) if user.role == "ouder" else _state_label(c),
        "overdue": c.due_on is not None and c.due_on < today and c.is_open,
    } for c in rows]
    return render_template(
        "cases/list.html", items=items, states=states, state=state, q=q, page=page, pages=pages,
        total=total, title=texts.LIST_TITLES.get(user.role, "Zaken"),
        show_gemeente=user.role in ("jeugdarts", "swv_adviseur"),
    )


# ------------------------------------------------------------------ case page


def _render_case(case: Case, *, posted: tuple[str, object] | None = None, error: str | None = None,
                 general_errors: list[str] | None = None, status: int = 200):
    """The case page for the current user; `posted` keeps a submitted form with its errors."""
    user = _user()
    wf = get_workflow(case.type)
    data = policy.visible_data(user, case)
    identity = policy.sees_identity(user, case)

    fields = []
    order = list(texts.FIELD_LABELS)
    for key in sorted(data, key=lambda k: (order.index(k) if k in order else len(order), k)):
        value = data[key]
        if value is None or value == "" or value == []:
            continue
        if key == "deskundige_id":
            value = case.deskundige.naam if case.deskundige else value
        elif key == "swv_id":
            value = case.swv.naam if case.swv else value
        fields.append({"key": key, "label": texts.FIELD_LABELS.get(key, key.replace("_", " ").capitalize()),
                       "value": texts.format_value(key, value)})

    notes = []
    if policy.may_see_medical_note(user, case):
        notes = db.session.scalars(select(MedicalNote).where(MedicalNote.case_id == case.id)
                                   .order_by(MedicalNote.created_at, MedicalNote.id)).all()

    history = [{
        "event": wf.events[row.event].label if row.event in wf.events else row.event,
        "at": row.at,
        "role": texts.ROLE_LABELS.get(row.actor_role, row.actor_role),
        "from": wf.state_label(row.from_state) if row.from_state else None,
        "to": wf.state_label(row.to_state),
    } for row in db.session.scalars(policy.history_query(user, case))]

    today = date.today()
    allowed_deadlines = texts.DEADLINES_FOR_ROLE.get(user.role)
    deadlines = [{"label": texts.DEADLINE_LABELS.get(kind, kind), "due": due, "overdue": due < today}
                 for kind, due in wf.deadlines(case, current_app.config)
                 if allowed_deadlines is None or kind in allowed_deadlines]

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
            forms.append({"name": name, "label": wf.events[name].label, "form": form})

    uitleg, actie = (texts.ouder_uitleg(case.state, data) if user.role == "ouder"
                     else (texts.STATE_UITLEG.get(case.state, ""), False))

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
    for what in shown:
        audit_service.log_access(user, case.id, what, via="web")
    db.session.commit()

    return render_template(
        "cases/detail.html", case=case, child=case.child if identity else None,
        identity=identity, state_label=(texts.OUDER_STATUS.get(case.state) if user.role == "ouder"
                                        else None) or wf.state_label(case.state),
        uitleg=uitleg, actie=actie, fields=fields, notes=notes, history=history, deadlines=deadlines,
        letters=letters, forms=forms, hints=HINTS, error=error, general_errors=general_errors or [],
        posted_form=posted[1] if posted else None,
        list_title=texts.LIST_TITLES.get(user.role, "Zaken"),
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
        if isinstance(exc, Conflict) or exc.status == 403 or event not in policy.available_events(user, case):
            return _render_case(case, error=exc.message, status=exc.status)
        general = _attach_errors(form, exc.fields)
        return _render_case(case, posted=(event, form), error=exc.message, general_errors=general,
                            status=exc.status)
    if error:
        db.session.rollback()
        return _render_case(case, posted=(event, form), error=error, status=status)

    flash(f"Gelukt: {spec.label}. De zaak staat nu op ‘{_state_label(case)}’.", "success")
    return redirect(url_for("web.case_detail", case_id=case.id))


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
        needle = q.lower()
        query = query.where(or_(func.lower(Child.voornaam).contains(needle, autoescape=True),
                                func.lower(Child.achternaam).contains(needle, autoescape=True),
                                func.lower(Child.voornaam + " " + Child.achternaam).contains(
                                    needle, autoescape=True),
                                Child.bsn == q))
    kids = db.session.scalars(query.order_by(Child.achternaam, Child.voornaam).limit(PER_PAGE)).all()
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
            "status": (texts.OUDER_STATUS.get(c.state) if user.role == "ouder" else None) or _state_label(c),
            "uitleg": texts.ouder_uitleg(c.state, policy.visible_data(user, c))[0]
            if user.role == "ouder" and c.is_open else "",
        } for c in by_child[kid.id]]
        rows.append({"child": kid, "cases": kid_cases,
                     "open_case": next((c for c in by_child[kid.id] if c.is_open
                                        and c.type == "vrijstelling_5a"), None)})
    title = "Mijn kinderen" if user.role == "ouder" else "Kinderen"
    return render_template("children/list.html", rows=rows, title=title, q=q,
                           searchable=user.role != "ouder", capped=len(kids) == PER_PAGE)


# ------------------------------------------------------------------ letters


@bp.get("/brieven/<int:letter_id>.pdf")
def letter_pdf(letter_id: int):
    user = _user()
    letter = policy.get_letter_for(user, letter_id)
    if letter.status != "rendered":
        failed = letter.status == "failed"
        return render_template("brieven/pending.html", letter=letter, failed=failed), 409
    case = policy.get_case_for(user, letter.case_id)
    audit_service.log_access(user, letter.case_id, "brief", via="web")
    pdf = letter.pdf
    db.session.commit()
    filename = f"{case.reference or 'brief'}-{letter.id}.pdf"
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

