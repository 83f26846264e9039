"""School holidays: the national advice per region, and a school's own deviations
(casework/schoolkalender.py counts lesweken with them)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .organisation import VAKANTIEREGIOS

VAKANTIENAMEN = ("herfst", "kerst", "voorjaar", "mei", "zomer")


class Schoolvakantie(Base):
    """A regional row (regio set, school_id NULL) or a school's deviation (school_id set,
    regio NULL). A school row with the name of a regional holiday of the same school year
    replaces it for that school; a school row with another name is an extra holiday."""

    __tablename__ = "schoolvakanties"
    __table_args__ = (
        CheckConstraint("eind >= begin", name="eind_na_begin"),
        CheckConstraint(f"regio IN {VAKANTIEREGIOS!r}", name="regio"),
        CheckConstraint("(regio IS NULL) <> (school_id IS NULL)", name="regio_of_school"),
        Index("ix_schoolvakanties_periode", "eind", "begin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schooljaar: Mapped[str] = mapped_column(String(9))  # "2026-2027"
    naam: Mapped[str] = mapped_column(String(60))
    regio: Mapped[str | None] = mapped_column(String(8))
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    begin: Mapped[date] = mapped_column(Date)
    eind: Mapped[date] = mapped_column(Date)

    def __repr__(self) -> str:
        return f"<Schoolvakantie {self.schooljaar} {self.naam} {self.regio or self.school_id}>"
