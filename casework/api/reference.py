"""Reference data and administration: organisations, deskundigen, audit verification, health."""
from __future__ import annotations

from flask import Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from casework import policy
from casework.extensions import db, queue
from casework.models import User
from casework.services import audit as audit_service

from . import api_bp
from .schemas import (
    BadRow,
    DeskundigeList,
    DeskundigeOut,
    HealthOut,
    OrganisationList,
    OrganisationOut,
    OrganisationQuery,
    VerifyOut,
)
from .serialize import org_ref
from .util import current_user, doc, parse_query, respond


@api_bp.get("/organisations")
@doc(summary="Organisaties", tag="reference", query=OrganisationQuery, response=OrganisationList,
     errors=(400,), description="Alleen namen; voor iedere ingelogde gebruiker.")
def list_organisations():
    params = parse_query(OrganisationQuery)
    rows = db.session.scalars(policy.organisations_query(params.kind))
    return respond(OrganisationList(
        [OrganisationOut(id=o.id, naam=o.naam, kind=o.kind) for o in rows]))


@api_bp.get("/deskundigen")
@doc(summary="Deskundigen", tag="reference", response=DeskundigeList,
     description="De jeugdartsen van de JGZ-organisaties die voor uw gemeenten werken.")
def list_deskundigen():
    user = current_user()
    query = policy.deskundigen_query(user).options(selectinload(User.organisation))
    rows = db.session.scalars(query)
    return respond(DeskundigeList([
        DeskundigeOut(id=u.id, naam=u.naam, organisation=org_ref(u.organisation)) for u in rows]))


@api_bp.get("/audit/verify")
@doc(summary="Auditketens controleren", tag="admin", response=VerifyOut,
     description="Rekent elke keten opnieuw na en noemt de eerste rij die niet klopt.")
def audit_verify():
    result = audit_service.verify_chains()
    first_bad = BadRow(**result.first_bad) if result.first_bad else None
    return respond(VerifyOut(ok=result.ok, checked=result.checked, first_bad=first_bad,
                             problem=result.problem))


@doc(summary="Gezondheid", tag="admin", response=HealthOut, errors=(503,),
     description="Zonder inloggen. 503 als de database of de wachtrij voor brieven niet "
                 "antwoordt (dan staat `queue: \"error\"` erbij).")
def healthz():
    db_ok = queue_ok = True
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        db_ok = False
    try:
        queue.huey.pending_count()
    except Exception:  # noqa: BLE001 - any failure of the queue's storage means: down
        queue_ok = False
    out = HealthOut(status="ok" if db_ok and queue_ok else "error", db="ok" if db_ok else "error",
                    queue=None if queue_ok else "error")
    return Response(out.model_dump_json(exclude_none=True), status=200 if out.status == "ok" else 503,
                    mimetype="application/json")


@api_bp.record_once
def _register_healthz(state) -> None:
    # /healthz lives at the root (load balancers probe it), outside the blueprint's /api/v1
    # prefix; the endpoint keeps the blueprint's name so ROUTE_RULES and the error handlers apply.
    state.app.add_url_rule("/healthz", endpoint="api.healthz", view_func=healthz, methods=["GET"])
