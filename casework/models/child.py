from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Integer, String, Table
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
    __tablename__ = "children"
    __table_args__ = (CheckConstraint("geslacht IN ('M', 'V', 'X')", name="geslacht"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bsn: Mapped[str] = mapped_column(String(9), unique=True)
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
