"""Cases: list, open, read, fire an event, read the audit chain."""
from __future__ import annotations

from functools import partial

from sqlalchemy import select

from casework import policy, search
from casework.extensions import db
from casework.models import AuditEvent, Case, User
from casework.services import audit as audit_service
from casework.services import cases as case_service
from casework.services import paging
from casework.services.errors import BadRequest, ValidationFailed

from . import api_bp
from .openapi import create_case_body, event_body, event_param
from casework.workflows.verzuim import RouteVoorstelVraag

from .schemas import AuditList, CaseList, CaseOut, CaseQuery, RouteProposalOut
from .serialize import audit_row, case_summary, full_case
from .util import current_user, doc, json_body, parse_query, respond


@api_bp.get("/cases")
@doc(summary="Zaken", tag="cases", query=CaseQuery, response=CaseList, errors=(400,),
     description="Alleen de zaken die u mag zien, de eerstvolgende termijn eerst "
                 "(zonder termijn achteraan). Een school ziet alleen wat zij zelf meldde, de "
                 "nieuwste melding eerst; `due_before` geeft een school 422 (een school ziet geen "
                 "termijnen), `state` werkt voor een school met de grove toestanden "
                 "(ontvangen, in_behandeling, afgesloten).")
def list_cases():
    user = current_user()
    params = parse_query(CaseQuery)
    conditions = [policy.case_scope(user)]
    if params.type:
        conditions.append(Case.type == params.type)
    if params.state:
        conditions.append(policy.state_condition(user, params.state))
    if params.due_before:
        if user.role == "school":  # a school's filters obey the field policy: no deadlines
            raise ValidationFailed(
                "Een school kan niet zoeken op termijn: die termijnen ziet een school niet.",
                {"due_before": ["Dit filter is er niet voor scholen. Laat het weg."]})
        conditions.append(Case.due_on < params.due_before)
    if params.q:
        conditions.append(search.cases_matching(params.q, user))
    cases = select(Case).where(*conditions)
    found = paging.case_page(
        cases,
        # NULLS LAST is ix_cases_gemeente_due's own order: PostgreSQL reads the page from it.
        partial(policy.list_order, user), params.page, params.per_page, search=bool(params.q),
        by_id_query=policy.visible_cases(user))
    rows = paging.with_children_and_gemeenten(found.rows)
    items = [case_summary(user, case) for case in rows]
    audit_service.log_reads(user, [(c.id, c.child_id, c.type) for c in rows],
                            "zaken_zoeken" if params.q else "zaken_lijst")
    db.session.commit()
    return respond(CaseList(items=items, total=found.total, total_capped=found.capped,
                            page=params.page, per_page=params.per_page))


def _case_response(user: User, case: Case, status: int = 200):
    """The full case; reads of identity, advice or verklaring are logged in the same commit."""
    out, sensitive = full_case(user, case)
    for what in sensitive:
        audit_service.log_access(user, case.id, what, via="api")
    case_service.commit()
    return respond(out, status)


@api_bp.post("/cases")
@doc(summary="Zaak openen (kennisgeving)", tag="cases", body=create_case_body,
     response=CaseOut, status=201, errors=(400, 409, 422),
     description="Een tweede kennisgeving voor een kind met een open zaak geeft 409 met "
                 "`open_case_id` en `open_case_reference`. Verzuim telt in lesweken: weken "
                 "waarin de school van de leerling vakantie heeft tellen niet mee. Een melding "
                 "`16_uur_4_weken` gaat over hoogstens 4 aaneengesloten lesweken (anders 422 op "
                 "`periode_eind`); een signaal van 16 uur of meer binnen 4 lesweken, of zonder "
                 "periode, is een melding (422 op `uren`).")
def create_case():
    user = current_user()
    body = json_body()
    case_type = body.get("type")
    if case_type is None:
        raise ValidationFailed("Kies het soort zaak.", {"type": ["Dit veld is verplicht."]})
    if not isinstance(case_type, str):
        raise BadRequest("Kies het soort zaak.", {"type": ["Vul tekst in."]})
    case = case_service.open_case(user, case_type, body)
    return _case_response(user, case, 201)


@api_bp.get("/cases/<int:case_id>")
@doc(summary="Zaak", tag="cases", response=CaseOut)
def get_case(case_id: int):
    user = current_user()
    case = policy.get_case_for(user, case_id)
    return _case_response(user, case)


def _expected_version(body: dict) -> int | None:
    value = body.pop("expected_version", None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("De versie moet een geheel getal zijn.",
                         {"expected_version": ["Vul een geheel getal in."]})
    return value


@api_bp.post("/cases/<int:case_id>/events/<event>")
@doc(summary="Stap uitvoeren", tag="cases", body=event_body, response=CaseOut,
     errors=(400, 403, 409, 422), path_params={"event": event_param},
     description="Volgorde van de controles: zaak zichtbaar (404), stap bestaat (404), rol mag "
                 "de stap (403), versie (409 conflict), toestand (409 invalid_transition), "
                 "gegevens en regels (400/422). Welke payload bij welke stap hoort staat in "
                 "`x-payloads`.")
def fire_event(case_id: int, event: str):
    user = current_user()
    case = policy.get_case_for(user, case_id)
    body = json_body()
    expected = _expected_version(body)
    case_service.fire(case, event, actor=user, data=body, expected_version=expected)
    return _case_response(user, case)


@api_bp.post("/cases/<int:case_id>/route-voorstel")
@doc(summary="Routevoorstel (MAS)", tag="cases", body=RouteVoorstelVraag, response=RouteProposalOut,
     errors=(400, 403, 409, 422),
     description="Het signaleringsinstrument van mas.md: uit de oorzaak die de "
                 "leerplichtambtenaar vastlegt volgt een voorgestelde route met reden. Wie bij "
                 "`kies_route` een andere route kiest, geeft `motivering_afwijking`.")
def route_proposal(case_id: int):
    user = current_user()
    case = policy.get_case_for(user, case_id)
    return respond(RouteProposalOut(**case_service.propose_route(case, user, json_body())))


@api_bp.get("/cases/<int:case_id>/audit")
@doc(summary="Auditketen van een zaak", tag="cases", response=AuditList,
     description="Eén rij per overgang, in volgorde; het toegangslog staat hier los van.")
def case_audit(case_id: int):
    user = current_user()
    case = policy.audit_case_for(user, case_id)
    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq))
    return respond(AuditList(items=[audit_row(r) for r in rows]))
