"""The last case number handed out per reference prefix and year (PREFIX-YYYY-NNNNN).

services/references.py takes the next number in the same transaction as the case it names, so
a transaction that rolls back (a DUO dry run, a refused step, a lost race) gives its number
back and the references of a year have no gaps.
"""
from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ReferenceCounter(Base):
    __tablename__ = "reference_counters"
    __table_args__ = (
        CheckConstraint("last >= 0", name="last_niet_negatief"),
    )

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, nullable=False)

    def __repr__(self) -> str:
        return f"<ReferenceCounter {self.prefix}-{self.year} {self.last}>"
