"""Verzuim pages of the `web` blueprint: a school's signaal or melding, the route proposal, and
what the verzuim case page adds for each role (MAS phase, proposal, DUO status)."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from casework import policy
from casework.extensions import db
from casework.models import Child
from casework.services import cases as case_service
from casework.services.errors import DomainError
from casework.workflows.verzuim import STATES

from ..forms.verzuim import KiesRouteForm, RouteVoorstelForm, VerzuimForm
from . import texts
from .web import _GENERAL_ERROR, _attach_errors, _render_case, _user, bp

VOORSTEL_PREFIX = "route_voorstel"


# ------------------------------------------------------------------ signaal or melding


@bp.route("/verzuim/nieuw", methods=["GET", "POST"])
def new_verzuim():
    user = _user()
    children = db.session.scalars(select(Child).where(policy.child_scope(user))
                                  .order_by(Child.achternaam, Child.voornaam).limit(500)).all()
    form = VerzuimForm()
    if request.method == "GET" and request.args.get("leerling", "").isdigit():
        form.child_id.data = int(request.args["leerling"])
    form.setup(children)

    error, status, general = None, 200, []
    if form.is_submitted():
        if not form.validate():
            error, status = _GENERAL_ERROR, 422
        else:
            try:
                case = case_service.open_case(user, "verzuim", form.payload())
                case_service.commit()
            except DomainError as exc:
                db.session.rollback()
                error, status = exc.message, exc.status
                general = _attach_errors(form, exc.fields)
            else:
                wat = "het signaal" if case.data.get("soort") == "signaal" else "de verzuimmelding"
                flash(f"Gelukt: {wat} is verstuurd naar de leerplichtambtenaar. "
                      f"Het kenmerk is {case.reference}.", "success")
                return redirect(url_for("web.case_detail", case_id=case.id))
    return render_template("verzuim/new.html", form=form, error=error, general_errors=general,
                           has_children=bool(children), soort_uitleg=texts.SOORT_UITLEG,
                           school=user.role == "school"), status


# ------------------------------------------------------------------ route proposal (MAS step "plannen")


@bp.post("/zaken/<int:case_id>/routevoorstel")
def route_proposal(case_id: int):
    """Step 1 of kies_route: what the LPA found; answers with the case page, proposal included.

    Nothing is written: the proposal is computed again (and audited) when the route is chosen.
    """
    user = _user()
    case = policy.get_case_for(user, case_id)
    if case.type != "verzuim" or "kies_route" not in policy.available_events(user, case):
        label = STATES.get(case.state, case.state) if case.type == "verzuim" else case.state
        return _render_case(case, error=f"Een routevoorstel kan nu niet: de zaak staat op '{label}'.",
                            status=409)
    form = RouteVoorstelForm(formdata=request.form, prefix=VOORSTEL_PREFIX)
    if not form.validate():
        return _render_case(case, posted=(VOORSTEL_PREFIX, form), error=_GENERAL_ERROR, status=422)
    try:
        proposal = case_service.propose_route(case, user, form.voorstel_payload())
    except DomainError as exc:
        if exc.status == 404:
            raise
        general = _attach_errors(form, exc.fields)
        return _render_case(case, posted=(VOORSTEL_PREFIX, form), error=exc.message,
                            general_errors=general, status=exc.status)
    return _render_case(case, posted=(VOORSTEL_PREFIX, form), proposal=proposal)


# ------------------------------------------------------------------ the case page's verzuim parts


def _as_date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _voorstel_form_from(case, cause: dict | None) -> RouteVoorstelForm:
    """Step 1, empty (with sensible defaults) or refilled with a cause carried by step 2."""
    if cause is None:
        gepland = _as_date((case.data or {}).get("gesprek_gepland_op"))
        cause = {"gesprek_gevoerd_op": gepland if gepland and gepland <= date.today() else None}
    else:
        cause = {**cause, "gesprek_gevoerd_op": _as_date(cause.get("gesprek_gevoerd_op"))}
    data = {"oorzaak_categorie": "onbekend", **{q: "nee" for q in RouteVoorstelForm.QUESTIONS},
            **{k: v for k, v in cause.items() if v not in (None, "")}, "expected_version": str(case.version)}
    return RouteVoorstelForm(formdata=None, prefix=VOORSTEL_PREFIX, data=data)


def _route_flow(user, case, item: dict, posted, proposal: dict | None) -> dict:
    """The two steps of kies_route: step 1 (cause) always, step 2 (route) once there is a proposal."""
    step2: KiesRouteForm = item["form"]
    if posted is not None and posted[0] == "kies_route":
        # Step 2 came back with errors: show the proposal again, and the cause's errors at step 1's inputs.
        step1 = _voorstel_form_from(case, step2.cause())
        for name in KiesRouteForm.CAUSE:
            if step2[name].errors:
                step1.add_error(name, step2[name].errors[0])
                step2[name].errors = []
        try:
            proposal = case_service.propose_route(case, user, step1.voorstel_payload())
        except DomainError:
            proposal = None
    elif posted is not None and posted[0] == VOORSTEL_PREFIX:
        step1 = posted[1]
        if proposal is not None:
            version = (step1.expected_version.data or "").strip()
            step2 = KiesRouteForm(formdata=None, prefix="kies_route", data={
                **step1.cause(), "route": proposal["route"],
                "expected_version": version if version.isdigit() else str(case.version)})
            step2.setup(user, case)
    else:
        step1 = _voorstel_form_from(case, None)
    return {**item, "form": step2, "voorstel_form": step1, "proposal": proposal}


# The steps in MAS order: the one that moves the case forward first, the detour (omzetten) after it.
_STEP_ORDER = ("start_onderzoek", "kies_route", "verwijs_door", "start_monitoring", "escaleer_naar_melding")


def case_context(user, case, data: dict, forms: list[dict], *, posted, proposal) -> dict:
    """What verzuim.html needs on top of the common case page (reorders `forms` in place)."""
    forms.sort(key=lambda item: (item["form"].confirm, _STEP_ORDER.index(item["name"])
                                 if item["name"] in _STEP_ORDER else len(_STEP_ORDER)))
    ctx: dict = {
        "soort_label": texts.SOORT_TITELS.get(data.get("soort"), "Verzuim"),
        "duo_status": (texts.DUO_STATUS_LABELS.get(data.get("duo_status"))
                       if user.role in ("leerplichtambtenaar", "school") else None),
        "route_flow": None,
    }
    for i, item in enumerate(forms):
        if item["name"] == "kies_route":
            forms[i] = ctx["route_flow"] = _route_flow(user, case, item, posted, proposal)
            proposal = forms[i]["proposal"]
    if user.role == "leerplichtambtenaar":
        ctx.update(phases=texts.MAS_PHASES, phase_uitleg=texts.MAS_PHASE_UITLEG,
                   phase=texts.mas_phase(case.state, proposal=proposal is not None),
                   next_step=texts.lpa_next_step(case.state, data, proposal=proposal is not None))
    return ctx
