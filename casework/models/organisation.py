from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base

if TYPE_CHECKING:
    from .beheer import GemeenteInstellingen

ORGANISATION_KINDS = ("gemeente", "swv", "school", "jgz")
VAKANTIEREGIOS = ("noord", "midden", "zuid")

swv_gemeenten = Table(
    "swv_gemeenten",
    Base.metadata,
    Column("swv_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("gemeente_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)

jgz_gemeenten = Table(
    "jgz_gemeenten",
    Base.metadata,
    Column("jgz_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("gemeente_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)

# An SWV may be asked for advice by a deskundige from a neighbouring region.
swv_buren = Table(
    "swv_buren",
    Base.metadata,
    Column("swv_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("buur_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(f"kind IN {ORGANISATION_KINDS!r}", name="kind"),
        CheckConstraint("kind = 'school' OR gemeente_id IS NULL", name="gemeente_only_school"),
        CheckConstraint(f"vakantieregio IN {VAKANTIEREGIOS!r}", name="vakantieregio"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    naam: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(16), unique=True)  # gemeentecode / BRIN
    adres: Mapped[str] = mapped_column(String(200), default="")
    postcode_plaats: Mapped[str] = mapped_column(String(200), default="")
    telefoon: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    # gemeente setting: longest interval between ingangsdatum and herbeoordelingsdatum
    max_herbeoordeling_maanden: Mapped[int | None] = mapped_column(Integer)
    # school: the gemeente it stands in
    gemeente_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    # school: its region for the school holidays (schoolkalender.py); NULL = not known
    vakantieregio: Mapped[str | None] = mapped_column(String(8))

    gemeenten: Mapped[list[Organisation]] = relationship(
        secondary=swv_gemeenten,
        primaryjoin=lambda: Organisation.id == swv_gemeenten.c.swv_id,
        secondaryjoin=lambda: Organisation.id == swv_gemeenten.c.gemeente_id,
        viewonly=False,
    )
    jgz_gemeenten: Mapped[list[Organisation]] = relationship(
        secondary=jgz_gemeenten,
        primaryjoin=lambda: Organisation.id == jgz_gemeenten.c.jgz_id,
        secondaryjoin=lambda: Organisation.id == jgz_gemeenten.c.gemeente_id,
    )
    buren: Mapped[list[Organisation]] = relationship(
        secondary=swv_buren,
        primaryjoin=lambda: Organisation.id == swv_buren.c.swv_id,
        secondaryjoin=lambda: Organisation.id == swv_buren.c.buur_id,
    )

    # A gemeente's own settings (services/instellingen.py), read with a case.
    instellingen: Mapped[GemeenteInstellingen | None] = relationship(
        "GemeenteInstellingen", primaryjoin="Organisation.id == GemeenteInstellingen.gemeente_id",
        foreign_keys="GemeenteInstellingen.gemeente_id", uselist=False, viewonly=True)

    def __repr__(self) -> str:
        return f"<Organisation {self.kind} {self.naam!r}>"
