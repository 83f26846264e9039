from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class AuditEvent(Base):
    """One row per transition, hash-chained per case. Database triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_audit_events_case_seq"),
        # Reports (services/reports.py): which events happened in a period. Covering every
        # column a count reads (seq: what came before or after in the same case), so that a
        # report reads this index and never the rows.
        Index("ix_audit_events_report", "event", "at", "case_id", "from_state", "to_state", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    payload_digest: Mapped[str] = mapped_column(String(64))
    # Decision facts an auditor reads directly (route proposal and choice); never personal data.
    details: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Keyed seal of this row (services/audit.py): HMAC-SHA256 over its hash with the audit key
    # named by key_id. Rows from before the keyed scheme have neither (their payload digest is
    # plain sha256; a row with key_id has a keyed payload digest).
    key_id: Mapped[str | None] = mapped_column(String(32))
    mac: Mapped[str | None] = mapped_column(String(64))


class AuditSeal(Base):
    """The sealed head of one case's chain (case_id > 0) or of all chains (case_id 0).

    Case seal: rows in the chain, hash of its last row, MAC over both. Global seal: rows in all
    chains, number of case seals and the sum of their MACs, with a MAC over those. Updated in
    the transaction that appends the row; the database refuses DELETE (and REPLACE) on it.
    No foreign key: the seal of a deleted case must stay to tell of the deletion.
    """

    __tablename__ = "audit_seals"

    case_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n_rows: Mapped[int] = mapped_column(Integer)
    n_cases: Mapped[int] = mapped_column(Integer, default=0)  # global seal only
    head: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    mac: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AccessLog(Base):
    """Reads of personal data and security events (NEN 7513, BIO2 8.15, Logboek dataverwerkingen).

    One row per child read (a list page of 25 writes 25 rows in one INSERT), so that "who looked
    at child X" is one index range. kind "lezen" is a read, "beveiliging" a security event
    (sign-in, sign-out, failed sign-in, lockout, token, refused access). Role and organisation
    are copied at the time of the read: a user may change role or organisation later.
    Append-only: database triggers refuse UPDATE, DELETE and (SQLite) REPLACE; only rows in
    batches pruned by `flask access-log prune` (an "opschoning" seal) may be deleted.
    Tamper-evident: every row has a MAC over its content (services/access_log.py), and sealed
    batches of rows are chained in AccessLogSeal."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_child_at", "child_id", "at"),
        Index("ix_access_log_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No user for a failed sign-in with an unknown e-mail address (see subject).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"))
    role: Mapped[str | None] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(16), default="lezen", server_default="lezen")
    # The processing activity the read served (services/audit.ACTIVITIES).
    activity: Mapped[str | None] = mapped_column(String(32))
    what: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))
    # Security events without a user: a keyed hash of the e-mail address, never the address.
    subject: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # HMAC-SHA256 over the row's content with the audit key named by key_id, computed at the
    # INSERT (services/access_log.row_mac): no lock, no read.
    key_id: Mapped[str | None] = mapped_column(String(32))
    mac: Mapped[str | None] = mapped_column(String(64))


class AccessLogSeal(Base):
    """A chained seal over a closed batch of access-log rows, or a prune record.

    kind "zegel": the rows with lo < id <= hi (n_rows of them; ids have gaps where a
    transaction rolled back), digest = sha256 over their ids and MACs in id order, last_at the
    newest row's time. kind "opschoning": the rows with lo < id <= hi were deleted by
    `flask access-log prune` (n_rows of them, by actor). Every seal holds the previous seal's
    MAC (prev_mac) and its own MAC with the audit key named by key_id. seq is set by the
    writer (previous + 1), so two sealers at once cannot both extend the chain. Append-only:
    the database refuses UPDATE and DELETE."""

    __tablename__ = "access_log_seals"
    __table_args__ = (Index("ix_access_log_seals_kind_hi", "kind", "hi"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    lo: Mapped[int] = mapped_column(Integer)
    hi: Mapped[int] = mapped_column(Integer)
    n_rows: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    last_at: Mapped[datetime | None] = mapped_column(DateTime)
    actor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    prev_mac: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    mac: Mapped[str] = mapped_column(String(64))
