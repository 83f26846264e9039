"""Children: the ones a user may see, and registering a new one (LPA, beheerder)."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from casework import policy, search
from casework.extensions import db
from casework.models import Child, Organisation, User, parent_children
from casework.services import audit as audit_service
from casework.services.audit import log_access
from casework.services import cases as case_service
from casework.services.cases import parse_payload
from casework.services.errors import ValidationFailed

from . import api_bp
from .schemas import ChildIn, ChildList, ChildOut, ChildQuery
from .serialize import child_out
from .util import current_user, doc, json_body, parse_query, respond


@api_bp.get("/children")
@doc(summary="Kinderen", tag="children", query=ChildQuery, response=ChildList, errors=(400,),
     description="Leerplichtambtenaar: kinderen in de eigen gemeenten; ouder: eigen kinderen; "
                 "school: eigen leerlingen.")
def list_children():
    user = current_user()
    params = parse_query(ChildQuery)
    conditions = [policy.child_scope(user)]
    if params.q:
        match = search.children_matching(params.q)
        if user.role == "leerplichtambtenaar" and params.q.isdigit():
            match = or_(match, Child.bsn.startswith(params.q, autoescape=True))
        conditions.append(match)
    total = db.session.scalar(select(func.count(Child.id)).where(*conditions))
    rows = db.session.scalars(
        select(Child).where(*conditions)
        .options(selectinload(Child.gemeente), selectinload(Child.school))
        .order_by(Child.achternaam, Child.voornaam, Child.id)
        .limit(params.per_page).offset((params.page - 1) * params.per_page))
    rows = list(rows)
    audit_service.log_reads(user, [(None, c.id, None) for c in rows],
                            ("bsn_zoeken" if params.q.isdigit() else "kinderen_zoeken")
                            if params.q else "kinderen_lijst")
    db.session.commit()
    return respond(ChildList(items=[child_out(c) for c in rows], total=total, page=params.page,
                             per_page=params.per_page))


def register_child(actor: User, data: ChildIn) -> Child:
    """Check the references of a new child and add it; flushes, the request commits."""
    errors: dict[str, list[str]] = {}
    gemeente = db.session.get(Organisation, data.gemeente_id)
    if gemeente is None or gemeente.kind != "gemeente":
        errors["gemeente_id"] = ["Kies een gemeente."]
    elif gemeente.id not in policy.gemeente_ids(actor):
        # LPA and beheerder alike: only the gemeente of their own organisation.
        errors["gemeente_id"] = [
            "U kunt alleen kinderen inschrijven die in uw eigen gemeente wonen."]
    if data.school_id is not None:
        school = db.session.get(Organisation, data.school_id)
        if school is None or school.kind != "school":
            errors["school_id"] = ["Kies een school."]
    own = policy.gemeente_ids(actor)
    parents = []
    if data.ouder_emails:
        # Only parents already known in the actor's own gemeente (a parent of a child living
        # there): anyone else is answered exactly like an e-mail without an account, so that
        # linking never discloses who a parent is, or where they live, to a new organisation.
        known = (select(parent_children.c.user_id).join(Child, Child.id == parent_children.c.child_id)
                 .where(Child.gemeente_id.in_(own)))
        parents = list(db.session.scalars(
            select(User).where(func.lower(User.email).in_(data.ouder_emails),
                               User.role == "ouder", User.id.in_(known))))
        missing = sorted(set(data.ouder_emails) - {p.email.lower() for p in parents})
        log_access(actor, None, "parent-link", "api")
        if missing:
            errors["ouder_emails"] = [
                "Deze e-mailadressen horen niet bij een ouder die in uw gemeente bekend is: "
                f"{', '.join(missing)}."]
    if not errors:
        # Each gemeente keeps its own record of a child (one per BSN and gemeente): the look-up
        # is only in the gemeente registered for, so a BSN known in another gemeente answers
        # exactly like an unknown one (a new record of this gemeente), and nothing of the other
        # gemeente's record is read, copied or linked. Only when everything else is in order.
        here = db.session.scalar(select(Child.id).where(Child.bsn == data.bsn,
                                                        Child.gemeente_id == data.gemeente_id))
        log_access(actor, None, "bsn-lookup", None, child_id=here)
        if here is not None:
            errors["bsn"] = [DUPLICATE_BSN]
    if errors:
        case_service.commit()  # the access log of the lookups; nothing else was changed
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    child = Child(bsn=data.bsn, voornaam=data.voornaam, achternaam=data.achternaam,
                  geboortedatum=data.geboortedatum, geslacht=data.geslacht, adres=data.adres,
                  postcode_plaats=data.postcode_plaats, gemeente_id=data.gemeente_id,
                  school_id=data.school_id, parents=parents)
    try:
        with db.session.begin_nested():  # (flushes what came before, outside the savepoint)
            db.session.add(child)
            db.session.flush()
    except IntegrityError as exc:
        # Only (bsn, gemeente) is unique: another request registered this BSN in this gemeente
        # at the same moment. The access-log row of the look-up stays.
        if not case_service.is_lost_race(exc):
            raise
        if child in db.session:
            db.session.expunge(child)
        case_service.commit()
        raise ValidationFailed(DUPLICATE_BSN, {"bsn": [DUPLICATE_BSN]}) from None
    return child


DUPLICATE_BSN = "Er is al een kind met dit BSN ingeschreven in uw gemeente."


@api_bp.post("/children")
@doc(summary="Kind inschrijven", tag="children", body=ChildIn, response=ChildOut, status=201,
     errors=(400, 422),
     description="Leerplichtambtenaar: alleen voor de eigen gemeente. "
                 "Een BSN moet de elfproef halen.")
def create_child():
    user = current_user()
    data = parse_payload(ChildIn, json_body())
    child = register_child(user, data)
    case_service.commit()
    return respond(child_out(child), 201)
