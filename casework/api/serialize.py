"""Cases, letters and children as the API shows them to one user; policy decides what is in."""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from casework import policy
from casework.extensions import db
from casework.models import AuditEvent, Case, Child, Letter, Organisation, User
from casework.workflows import WORKFLOWS, get_workflow

from .schemas import (
    AuditRow,
    CaseOut,
    CaseSummary,
    ChildIdentity,
    ChildOut,
    Deadline,
    HistoryItem,
    LetterOut,
    LetterRef,
    OrgRef,
)

def _coarse(case_type: str, state: str | None) -> str | None:
    return policy.coarse_state(case_type, state)


def state_for(user: User, case: Case) -> tuple[str, str]:
    return policy.state_for(user, case)


def org_ref(org: Organisation | None) -> OrgRef | None:
    return OrgRef(id=org.id, naam=org.naam) if org is not None else None


def child_identity(user: User, case: Case) -> ChildIdentity | None:
    if not policy.sees_identity(user, case):
        return None
    c = case.child
    return ChildIdentity(id=c.id, voornaam=c.voornaam, achternaam=c.achternaam,
                         geboortedatum=c.geboortedatum)


def case_summary(user: User, case: Case) -> CaseSummary:
    state, label = state_for(user, case)
    return CaseSummary(
        id=policy.public_case_id(user, case), type=case.type,
        reference=policy.reference_for(user, case), state=state,
        state_label=label, child=child_identity(user, case), gemeente=org_ref(case.gemeente),
        # A school's planning dates would tell it where the case went (policy: coarse only).
        due_on=None if user.role == "school" else case.due_on,
        updated_at=policy.updated_at_for(user, case),
    )


def _history(user: User, case: Case) -> list[HistoryItem]:
    rows = policy.history_rows(user, case)
    coarse = user.role == "school"
    # A school's history is numbered 1..n: gaps would show that hidden steps happened.
    return [
        HistoryItem(seq=n if coarse else r.seq, event=r.event,
                    from_state=_coarse(case.type, r.from_state) if coarse else r.from_state,
                    to_state=_coarse(case.type, r.to_state) if coarse else r.to_state,
                    at=r.at, actor_role=r.actor_role)
        for n, r in enumerate(rows, start=1)
    ]


def _deadlines(user: User, case: Case) -> list[Deadline]:
    today = date.today()
    found = policy.visible_deadlines(user, case, current_app.config)
    return [Deadline(kind=kind, due=due, overdue=due < today) for kind, due in found]


def full_case(user: User, case: Case) -> tuple[CaseOut, list[str]]:
    """The case for this user, and what sensitive parts it holds (for the access log)."""
    state, label = state_for(user, case)
    data = policy.visible_data(user, case)
    note = None
    if policy.may_see_medical_note(user, case):  # only the assigned jeugdarts: their own note
        from casework.models import MedicalNote

        note = db.session.scalars(select(MedicalNote.text).where(MedicalNote.case_id == case.id)
                                  .order_by(MedicalNote.created_at.desc(), MedicalNote.id.desc())
                                  .limit(1)).first()
        if note is not None:
            data = {**data, "medische_notitie": note}
    child = child_identity(user, case)
    out = CaseOut(
        id=policy.public_case_id(user, case), type=case.type,
        reference=policy.reference_for(user, case), state=state,
        state_label=label, created_at=policy.created_at_for(user, case),
        updated_at=policy.updated_at_for(user, case), version=policy.version_for(user, case),
        gemeente=org_ref(case.gemeente), child=child, data=data,
        available_events=policy.available_events(user, case), deadlines=_deadlines(user, case),
        history=_history(user, case),
        letters=[LetterRef(id=lt.id, kind=lt.kind, recipient_role=lt.recipient_role,
                           status=lt.status, sha256=lt.sha256)
                 for lt in policy.letters_for(user, case)],
    )
    sensitive = []
    if child is not None:
        sensitive.append("identiteit")
    if data.get("advies"):
        sensitive.append("advies")
    if "geschikt" in data or "verklaringsdatum" in data:
        sensitive.append("verklaring")
    if note is not None:
        sensitive.append("medische_notitie")
    return out, sensitive


def letter_out(user: User, letter: Letter) -> LetterOut:
    return LetterOut(id=letter.id, case_id=policy.public_letter_case_id(user, letter), kind=letter.kind,
                     recipient_role=letter.recipient_role, status=letter.status,
                     sha256=letter.sha256, created_at=letter.created_at,
                     rendered_at=letter.rendered_at)


def audit_row(row: AuditEvent) -> AuditRow:
    return AuditRow(seq=row.seq, event=row.event, from_state=row.from_state, to_state=row.to_state,
                    actor_id=row.actor_id, actor_role=row.actor_role, at=row.at,
                    payload_digest=row.payload_digest, prev_hash=row.prev_hash, hash=row.hash)


def child_out(child: Child) -> ChildOut:
    return ChildOut(id=child.id, voornaam=child.voornaam, achternaam=child.achternaam,
                    geboortedatum=child.geboortedatum, gemeente=org_ref(child.gemeente),
                    school=org_ref(child.school))
