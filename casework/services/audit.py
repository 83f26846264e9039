"""The audit trail: hash-chained transition rows per case, and the access log of sensitive reads."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from casework.extensions import db
from casework.models import AccessLog, AuditEvent, utcnow

GENESIS = "0" * 64


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def row_hash(row: AuditEvent) -> str:
    fields = [row.case_id, row.seq, row.event, row.from_state, row.to_state, row.actor_id,
              row.actor_role, row.at.isoformat(), row.payload_digest, row.prev_hash]
    if row.details is not None:  # rows without details hash exactly as before details existed
        fields.append(row.details)
    return digest(fields)


def append_audit(case_id: int, event: str, from_state: str | None, to_state: str,
                 actor_id: int | None, actor_role: str, payload: dict,
                 details: dict | None = None) -> AuditEvent:
    last = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.case_id == case_id)
        .order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    row = AuditEvent(
        case_id=case_id, seq=(last.seq + 1) if last else 1, event=event, from_state=from_state,
        to_state=to_state, actor_id=actor_id, actor_role=actor_role, at=utcnow(),
        payload_digest=digest(payload), prev_hash=last.hash if last else GENESIS, details=details,
    )
    row.hash = row_hash(row)
    db.session.add(row)
    return row


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad: dict | None


def verify_chains(batch: int = 5000) -> VerifyResult:
    """Recompute every chain in (case, seq) order, streaming; stop at the first broken row."""
    checked = 0
    prev_case, prev_hash, expected_seq = None, GENESIS, 1
    q = select(AuditEvent).order_by(AuditEvent.case_id, AuditEvent.seq).execution_options(yield_per=batch)
    # yield_per streams through a server-side cursor on PostgreSQL: close it also when we stop early.
    with db.session.scalars(q) as rows:
        for row in rows:
            if row.case_id != prev_case:
                prev_case, prev_hash, expected_seq = row.case_id, GENESIS, 1
            checked += 1
            if row.seq != expected_seq or row.prev_hash != prev_hash or row.hash != row_hash(row):
                return VerifyResult(False, checked, {"case_id": row.case_id, "seq": row.seq})
            prev_hash, expected_seq = row.hash, expected_seq + 1
    return VerifyResult(True, checked, None)


def history_count(case_id: int) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.case_id == case_id)) or 0


# ---------------------------------------------------------------- access log

# The processing activities (Logboek dataverwerkingen) a read or event can serve.
ACTIVITIES: dict[str, str] = {
    "vrijstelling_5a": "Vrijstelling van de leerplicht (artikel 5a): aanvraag, advies, besluit",
    "verzuim": "Verzuim: melding, onderzoek, aanpak",
    "leerlingadministratie": "Overzicht en registratie van kinderen van de gemeente of school",
    "rapportage": "Rapportages en tellingen met gegevens per kind",
    "duo_uitwisseling": "Uitwisseling met DUO (inlezen, proefimport, export)",
    "ouder_inzage": "Een ouder bekijkt de gegevens van het eigen kind",
    "beheer": "Beheer: gebruikers, scholen, logboek",
    "beveiliging": "Inloggen, uitloggen, tokens, geweigerde toegang",
}
# Activity by case type (the case's workflow).
CASE_ACTIVITY = {"vrijstelling_5a": "vrijstelling_5a", "verzuim": "verzuim"}

# Security events (kind "beveiliging"), as stored in `what`.
SECURITY_EVENTS = ("inloggen", "inloggen_mislukt", "inloggen_geblokkeerd", "uitloggen",
                   "token_aangemaakt", "token_ingetrokken", "toegang_geweigerd")


def current_channel() -> str:
    """api, web or cli: where the request came in."""
    from flask import has_request_context, request

    if not has_request_context():
        return "cli"
    return "api" if request.blueprint == "api" else "web"


def _who(user) -> dict:
    if user is None:
        return {"user_id": None, "role": None, "organisation_id": None}
    return {"user_id": user.id, "role": user.role, "organisation_id": user.organisation_id}


def _activity_for(user, activity: str | None, case_type: str | None = None) -> str:
    if activity:
        return activity
    if user is not None and user.role == "ouder":
        return "ouder_inzage"
    if user is not None and user.role == "beheerder" and not case_type:
        return "beheer"
    return CASE_ACTIVITY.get(case_type or "", "leerlingadministratie")


def log_access(user, case_id: int | None, what: str, via: str | None = None, *,
               child_id: int | None = None, activity: str | None = None) -> None:
    """One read by `user`: one INSERT in the request's transaction. The case's child and
    workflow (the processing activity) are filled in by the INSERT itself when not given."""
    from casework.models import Case

    values = {**_who(user), "case_id": case_id, "what": what[:64],
              "via": via or current_channel(), "kind": "lezen", "at": utcnow()}
    if case_id is not None and child_id is None:
        values["child_id"] = select(Case.child_id).where(Case.id == case_id).scalar_subquery()
    else:
        values["child_id"] = child_id
    if activity is None and case_id is not None and (user is None or user.role != "ouder"):
        values["activity"] = select(Case.type).where(Case.id == case_id).scalar_subquery()
    else:
        values["activity"] = _activity_for(user, activity)
    db.session.execute(insert(AccessLog).values(**values))


def log_reads(user, rows, what: str, via: str | None = None, *, activity: str | None = None) -> None:
    """A list page: one row per (case_id, child_id, case_type) shown, in one bulk INSERT.
    `rows` holds (case_id or None, child_id, case type or None)."""
    if user is None:
        return
    who, channel, now = _who(user), via or current_channel(), utcnow()
    params = [{**who, "case_id": case_id, "child_id": child_id, "what": what[:64], "via": channel,
               "kind": "lezen", "activity": _activity_for(user, activity, case_type), "at": now}
              for case_id, child_id, case_type in rows]
    if params:
        db.session.execute(insert(AccessLog), params)


def subject_hash(email: str) -> str:
    """A keyed hash of an e-mail address: the log can tell repeated attempts on one address
    apart without holding the address."""
    from flask import current_app

    key = str(current_app.config.get("SECRET_KEY", "")).encode()
    return hmac.new(key, (email or "").strip().lower().encode(), hashlib.sha256).hexdigest()


def log_security(event: str, user=None, *, email: str | None = None, detail: str | None = None,
                 via: str | None = None) -> None:
    """A security event in the request's transaction (the caller commits)."""
    what = event if not detail else f"{event}:{detail}"
    db.session.execute(insert(AccessLog).values(
        **_who(user), what=what[:64], via=via or current_channel(), kind="beveiliging",
        activity="beveiliging", at=utcnow(),
        subject=subject_hash(email) if (user is None and email) else None))


def log_security_now(event: str, user=None, **kw) -> None:
    """A security event on a refused request: what the request did is rolled back (errors
    change nothing), the event is committed."""
    db.session.rollback()
    log_security(event, user, **kw)
    db.session.commit()


# ---------------------------------------------------------------- reading the access log

# What was read or done, in plain words (parents and the beheerder read these).
WHAT_LABELS = {
    "identiteit": "Naam en gegevens van het kind in een zaak",
    "advies": "Advies in een zaak",
    "verklaring": "Verklaring van de jeugdarts",
    "medische_notitie": "Medische gegevens",
    "brief": "Een brief",
    "zaken_lijst": "Lijst met zaken",
    "zaken_zoeken": "Zoeken in zaken",
    "kinderen_lijst": "Lijst met kinderen",
    "kinderen_zoeken": "Zoeken naar een kind op naam",
    "bsn_zoeken": "Zoeken naar een kind op BSN",
    "kind_registreren": "Controle van het BSN bij het registreren van een kind",
    "duo_proefimport": "Proefimport van een bestand van DUO",
    "duo_import": "Import van een bestand van DUO",
    "duo_export": "Verzuimstatus voor DUO",
    "duo_vrijstellingen": "Vrijstellingen voor DUO",
    "logboek_inzage": "Het logboek van wie gegevens bekeek",
    "inloggen": "Ingelogd",
    "inloggen_mislukt": "Inloggen mislukt",
    "inloggen_geblokkeerd": "Inloggen geweigerd na te veel pogingen",
    "uitloggen": "Uitgelogd",
    "token_aangemaakt": "Token aangemaakt",
    "token_ingetrokken": "Token ingetrokken",
    "toegang_geweigerd": "Toegang geweigerd",
}
CHANNEL_LABELS = {"api": "Koppeling (API)", "web": "Website", "cli": "Opdracht op de server"}


def what_label(what: str) -> str:
    code = what.split(":", 1)[0]
    return WHAT_LABELS.get(code, code.replace("_", " "))


@dataclass
class AccessEntry:
    id: int
    at: object
    kind: str
    what: str
    what_label: str
    activity: str | None
    activity_label: str
    via: str
    role: str | None
    organisation: str | None
    child_id: int | None
    case_id: int | None
    user_id: int | None
    user_name: str | None  # never shown to parents
    subject: str | None


def _log_conditions(scope, child_id: int | None, user_id: int | None) -> list:
    conditions = [scope]
    if child_id is not None:
        conditions.append(AccessLog.child_id == child_id)
    if user_id is not None:
        conditions.append(AccessLog.user_id == user_id)
    return conditions


def access_log_count(scope, *, child_id: int | None = None, user_id: int | None = None) -> int:
    return db.session.scalar(select(func.count(AccessLog.id))
                             .where(*_log_conditions(scope, child_id, user_id))) or 0


def access_log_page(scope, *, child_id: int | None = None, user_id: int | None = None,
                    page: int = 1, per_page: int | None = 25) -> tuple[list[AccessEntry], int]:
    """The rows in `scope` (policy.access_log_scope), newest first; per_page None: all."""
    from casework.models import Organisation, User

    conditions = _log_conditions(scope, child_id, user_id)
    total = access_log_count(scope, child_id=child_id, user_id=user_id)
    query = (select(AccessLog, Organisation.naam, User.naam)
             .outerjoin(Organisation, Organisation.id == AccessLog.organisation_id)
             .outerjoin(User, User.id == AccessLog.user_id)
             .where(*conditions).order_by(AccessLog.at.desc(), AccessLog.id.desc()))
    if per_page is not None:
        query = query.limit(per_page).offset((max(page, 1) - 1) * per_page)
    entries = [AccessEntry(
        id=row.id, at=row.at, kind=row.kind, what=row.what, what_label=what_label(row.what),
        activity=row.activity, activity_label=ACTIVITIES.get(row.activity or "", ""),
        via=row.via, role=row.role, organisation=org, child_id=row.child_id, case_id=row.case_id,
        user_id=row.user_id, user_name=name, subject=row.subject)
        for row, org, name in db.session.execute(query)]
    return entries, total
