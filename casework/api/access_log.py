"""GET /children/<id>/access-log: who looked at a child's data (the parent's right of access;
the beheerder of the child's gemeente). Parents get organisation and role, never staff names."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from casework import policy
from casework.extensions import db
from casework.services import audit as audit_service

from . import api_bp
from .schemas import Out, Timestamp
from .util import current_user, doc, parse_query, respond


class AccessLogQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(25, ge=1, le=100)


class AccessLogEntryOut(Out):
    at: Timestamp
    organisatie: str | None
    rol: str | None = Field(description="Rol van wie keek (code), bijvoorbeeld leerplichtambtenaar.")
    wat: str = Field(description="Wat werd bekeken (code), bijvoorbeeld zaken_lijst of identiteit.")
    wat_omschrijving: str
    verwerking: str | None = Field(description="De verwerking waarvoor het was, bijvoorbeeld verzuim.")
    kanaal: str = Field(description="api, web of cli")
    zaak_id: int | None = None
    gebruiker: str | None = Field(None, description="Alleen voor de beheerder; nooit voor ouders.")


class AccessLogOut(Out):
    child_id: int
    items: list[AccessLogEntryOut]
    total: int
    page: int
    per_page: int


@api_bp.get("/children/<int:child_id>/access-log")
@doc(summary="Wie bekeek de gegevens van dit kind", tag="children", query=AccessLogQuery,
     response=AccessLogOut, errors=(400, 404),
     description="Ouder: alleen eigen kinderen, met organisatie en rol (geen namen van "
                 "medewerkers). Beheerder: kinderen van de eigen gemeente.")
def child_access_log(child_id: int):
    user = current_user()
    params = parse_query(AccessLogQuery)
    child = policy.access_log_child_for(user, child_id)
    entries, total = audit_service.access_log_page(
        policy.access_log_scope(user), child_id=child.id, page=params.page,
        per_page=params.per_page)
    staff = user.role != "ouder"
    if staff:
        audit_service.log_access(user, None, "logboek_inzage", child_id=child.id, activity="beheer")
        db.session.commit()
    return respond(AccessLogOut(child_id=child.id, total=total, page=params.page,
                                per_page=params.per_page, items=[AccessLogEntryOut(
        at=e.at, organisatie=e.organisation, rol=e.role, wat=e.what, wat_omschrijving=e.what_label,
        verwerking=e.activity, kanaal=e.via, zaak_id=e.case_id if staff else None,
        gebruiker=e.user_name if staff else None) for e in entries]))
