from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from .base import Base, utcnow

LETTER_STATUSES = ("pending", "rendered", "failed")


class Letter(Base):
    """A letter an event produced. Recorded as pending in the event's transaction, rendered by the worker."""

    __tablename__ = "letters"
    __table_args__ = (
        CheckConstraint(f"status IN {LETTER_STATUSES!r}", name="status"),
        CheckConstraint("status != 'rendered' OR (pdf IS NOT NULL AND sha256 IS NOT NULL)",
                        name="rendered_has_pdf"),
        Index("ix_letters_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    audit_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    recipient_role: Mapped[str] = mapped_column(String(32))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recipient_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Plain values as they were at the event, limited to what this recipient may see.
    context: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str | None] = mapped_column(String(64))
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the render was put on the queue (at the event's commit, or by the sweep); NULL: not on
    # it. The sweep re-queues a letter only when it is not on the queue (services/letters.py).
    queued_at: Mapped[datetime | None] = mapped_column(DateTime)
