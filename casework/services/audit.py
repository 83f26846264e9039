"""The audit trail: hash-chained transition rows per case, and the access log of sensitive reads."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import func, select

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


def log_access(user, case_id: int | None, what: str, via: str) -> None:
    db.session.add(AccessLog(user_id=user.id, case_id=case_id, what=what, via=via))
