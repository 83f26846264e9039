from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .organisation import Organisation
from .user import User

parent_children = Table(
    "parent_children",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("child_id", ForeignKey("children.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Child(Base):
    """A gemeente's own leerplicht record of a child living there. Each gemeente keeps its own
    administration: one record per (BSN, gemeente), so the same BSN may have a record in two
    gemeenten (a child that moved), and nothing joins them or shows one gemeente the other's."""

    __tablename__ = "children"
    __table_args__ = (
        CheckConstraint("geslacht IN ('M', 'V', 'X')", name="geslacht"),
        # BSN first: the same index serves a look-up by BSN alone (and a BSN prefix search).
        UniqueConstraint("bsn", "gemeente_id", name="uq_children_bsn_gemeente"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bsn: Mapped[str] = mapped_column(String(9))
    voornaam: Mapped[str] = mapped_column(String(100))
    achternaam: Mapped[str] = mapped_column(String(100), index=True)
    geboortedatum: Mapped[date] = mapped_column(Date)
    geslacht: Mapped[str] = mapped_column(String(1))
    adres: Mapped[str] = mapped_column(String(200), default="")
    postcode_plaats: Mapped[str] = mapped_column(String(200), default="")
    gemeente_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)

    gemeente: Mapped[Organisation] = relationship(foreign_keys=[gemeente_id])
    school: Mapped[Organisation | None] = relationship(foreign_keys=[school_id])
    parents: Mapped[list[User]] = relationship(secondary=parent_children)

    @property
    def naam(self) -> str:
        return f"{self.voornaam} {self.achternaam}"
