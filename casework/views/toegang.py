"""Who looked at a child's data: the parent's page, and the beheerder's query and CSV export of
the access log (NEN 7513). Parents see organisations and roles, never the names of staff."""
from __future__ import annotations

import math
import re

from flask import render_template, request, url_for
from sqlalchemy import func, select

from casework import policy
from casework.extensions import db
from casework.formatting import format_datum_tijd
from casework.models import User
from casework.services import audit as audit_service
from casework.services.tabular import Table

from .downloads import download
from .texts import ROLE_LABELS
from .web import _page_arg, _user, bp

PER_PAGE = 25
EXPORT_MAX = 100_000  # rows in one CSV export


def role_label(role: str | None) -> str:
    return ROLE_LABELS.get(role or "", role or "Onbekend")


def _pages(total: int) -> tuple[int, int]:
    pages = max(math.ceil(total / PER_PAGE), 1)
    return min(_page_arg(), pages), pages


@bp.get("/mijn-kinderen/<int:child_id>/wie-bekeek")
def child_access_log(child_id: int):
    user = _user()
    child = policy.access_log_child_for(user, child_id)
    scope = policy.access_log_scope(user)
    page, pages = _pages(audit_service.access_log_count(scope, child_id=child.id))
    entries, total = audit_service.access_log_page(scope, child_id=child.id, page=page,
                                                   per_page=PER_PAGE)
    return render_template("toegang/kind.html", child=child, entries=entries, total=total,
                           page=page, pages=pages, role_label=role_label)


def _beheer_query(user):
    """The filters of the beheerder's page: (child, target user id, errors, query args)."""
    bsn = (request.args.get("bsn") or "").strip()[:20]
    email = (request.args.get("gebruiker") or "").strip().lower()[:200]
    errors: dict[str, str] = {}
    child, target = None, None
    if bsn:
        if not re.fullmatch(r"\d{9}", bsn):
            errors["bsn"] = "Een BSN bestaat uit 9 cijfers."
        else:
            child = policy.beheer_child_by_bsn(user, bsn)
            if child is None:
                errors["bsn"] = "Er staat geen kind met dit BSN in uw gemeente."
    if email:
        target = db.session.scalar(select(User.id).where(func.lower(User.email) == email))
        if target is None:
            target = -1  # an unknown address: no rows, the same answer as a user outside the gemeente
    return child, target, errors, {"bsn": bsn, "gebruiker": email}


@bp.get("/beheer/toegangslog")
def beheer_access_log():
    user = _user()
    child, target, errors, args = _beheer_query(user)
    entries, total, page, pages = [], 0, 1, 1
    searched = bool(args["bsn"] or args["gebruiker"])
    if searched and not errors:
        scope = policy.access_log_scope(user)
        page, pages = _pages(audit_service.access_log_count(
            scope, child_id=child.id if child else None, user_id=target))
        entries, total = audit_service.access_log_page(
            scope, child_id=child.id if child else None, user_id=target, page=page,
            per_page=PER_PAGE)
        if child is not None:
            audit_service.log_access(user, None, "logboek_inzage", child_id=child.id,
                                     activity="beheer")
        db.session.commit()
    status = 422 if errors else 200
    return render_template("toegang/beheer.html", entries=entries, total=total, page=page,
                           pages=pages, args=args, errors=errors, searched=searched, child=child,
                           role_label=role_label, channel_labels=audit_service.CHANNEL_LABELS,
                           csv_url=url_for("web.beheer_access_log_csv", **args)), status


@bp.get("/beheer/toegangslog.csv")
def beheer_access_log_csv():
    user = _user()
    child, target, errors, args = _beheer_query(user)
    if errors or not (args["bsn"] or args["gebruiker"]):
        from . import error_page

        return error_page(422, next(iter(errors.values()), "Kies een kind (BSN) of een gebruiker (e-mailadres)."))
    entries, _ = audit_service.access_log_page(
        policy.access_log_scope(user), child_id=child.id if child else None, user_id=target,
        per_page=EXPORT_MAX)
    table = Table("Toegangslog", ["datum_tijd", "gebruiker", "rol", "organisatie", "kind_id",
                                  "zaak_id", "soort", "wat", "verwerking", "kanaal"], [
        [format_datum_tijd(e.at), e.user_name or ("(onbekend e-mailadres)" if e.subject else ""),
         role_label(e.role) if e.role else "", e.organisation or "", e.child_id, e.case_id, e.kind,
         e.what, e.activity or "", e.via] for e in entries], bom=True)
    if child is not None:
        audit_service.log_access(user, None, "logboek_inzage", child_id=child.id, activity="beheer")
    db.session.commit()
    return download(table, "toegangslog", xlsx=False)
