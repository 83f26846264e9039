from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text,
    event, text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from .base import Base, utcnow
from .child import Child
from .organisation import Organisation
from .user import User

CASE_TYPES = ("vrijstelling_5a", "verzuim")

# Every state of every workflow; the workflow modules say which belong to which type.
ALL_STATES = (
    "kennisgeving_ontvangen", "niet_ontvankelijk", "in_behandeling", "advies_gevraagd",
    "advies_uitgebracht", "vrijgesteld", "geen_vrijstelling", "herbeoordeling", "ingetrokken",
    "beeindigd",
    "ontvangen", "in_onderzoek", "vrijwillige_hulp", "halt", "verplicht_kader", "proces_verbaal",
    "monitoring", "afgesloten",
)

# What reports read of a case besides its id, gemeente, type and created_at; the facts among
# them are copies of data (see REPORT_FACTS).
REPORT_INDEX_COLUMNS = (
    "state", "is_open", "child_id", "ingangsdatum", "einddatum", "beeindigd_op",
    "reden_beeindiging", "oorspronkelijke_soort", "verzuimsoort", "afsluiting", "periode_start",
    "omgezet_op", "afgesloten_op", "tegen", "id",  # id: PostgreSQL's index holds no row id
)
# Fields of data that reports count by, kept also as columns (date: a JJJJ-MM-DD string in data).
REPORT_FACTS = {
    "beeindigd_op": date, "reden_beeindiging": str,  # vrijstelling 5a
    "oorspronkelijke_soort": str, "verzuimsoort": str, "afsluiting": str,  # verzuim
    "periode_start": date, "omgezet_op": date, "afgesloten_op": date, "tegen": str,
}


def report_facts(data: dict | None) -> dict:
    """The REPORT_FACTS columns of a case with this data (None for a field it lacks)."""
    data = data or {}
    facts = {}
    for key, kind in REPORT_FACTS.items():
        value = data.get(key)
        if kind is date and isinstance(value, str):
            value = date.fromisoformat(value)
        facts[key] = value
    return facts


# States in which no exemption period can exist yet (or any more).
_NO_PERIOD_STATES = ("kennisgeving_ontvangen", "niet_ontvankelijk", "in_behandeling", "ingetrokken")


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(f"type IN {CASE_TYPES!r}", name="type"),
        CheckConstraint(f"state IN {ALL_STATES!r}", name="state"),
        CheckConstraint("einddatum IS NULL OR ingangsdatum IS NOT NULL", name="eind_na_ingang"),
        CheckConstraint(
            f"ingangsdatum IS NULL OR state NOT IN {_NO_PERIOD_STATES!r}", name="periode_in_staat"
        ),
        CheckConstraint("einddatum IS NULL OR einddatum >= ingangsdatum", name="eind_niet_voor_ingang"),
        # One open case of a type per child: the service gives the clear message, this is the backstop.
        # A running exemption (it has a period) does not block the renewal kennisgeving.
        Index(
            "uq_cases_open_vrijstelling_per_child", "child_id", unique=True,
            sqlite_where=text("is_open = 1 AND type = 'vrijstelling_5a' AND ingangsdatum IS NULL"),
            postgresql_where=text("is_open AND type = 'vrijstelling_5a' AND ingangsdatum IS NULL"),
        ),
        Index("ix_cases_school", "school_id", "type"),
        Index("ix_cases_worklist", "gemeente_id", "is_open", "due_on"),
        Index("ix_cases_state", "type", "state"),
        # Reports (services/reports.py): a gemeente's cases of a type by when they came in, with
        # every column a report reads, so that a report reads this index and never the rows
        # (cold, a gemeente's case rows are scattered over the whole table).
        Index("ix_cases_report", "gemeente_id", "type", "created_at", *REPORT_INDEX_COLUMNS),
        # The work list: a gemeente's cases by due date (NULLS LAST), then id; see the migration.
        Index("ix_cases_gemeente_due", "gemeente_id", "due_on", "id"),
        # Search: a child's cases within the user's gemeente, without reading the rows; a list
        # filtered on a state (migration 2026_12_05_list_indexes).
        Index("ix_cases_child_scope", "child_id", "gemeente_id", "due_on", "id"),
        Index("ix_cases_gemeente_state_due", "gemeente_id", "state", "type", "due_on", "id"),
        Index("uq_cases_swv_ronde_id", "swv_ronde_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    # The child's "voornaam achternaam", kept by triggers (migration 2026_12_05_search_scope) for
    # the name search within a gemeente on PostgreSQL; never loaded (casework/search.py).
    kind_naam: Mapped[str | None] = deferred(mapped_column(String(201)))
    gemeente_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Nearest deadline of the current state; the work list sorts on it.
    due_on: Mapped[date | None] = mapped_column(Date)
    # Relations that scope visibility (policy.py), kept as columns so lists filter in SQL.
    deskundige_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    swv_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Verzuim: the school the absence was reported for; it sees (only) the coarse state.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    toestemming: Mapped[bool | None] = mapped_column(Boolean)
    # The SWV's advice rounds: [{"swv", "toestemming", "id"}]. A round gets its own random id
    # (swv_ronde_id) when the same SWV was asked before with the other consent: the SWV then
    # cannot tie an anonymous round to a named one by the case's id (policy.public_case_id).
    swv_rondes: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    swv_ronde_id: Mapped[int | None] = mapped_column(Integer)
    # A renewal kennisgeving: the case of the exemption that runs while it is filed.
    vorige_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # Exemption period; the scheduler queries these.
    ingangsdatum: Mapped[date | None] = mapped_column(Date)
    einddatum: Mapped[date | None] = mapped_column(Date, index=True)
    herbeoordelingsdatum: Mapped[date | None] = mapped_column(Date, index=True)
    # Type-specific fields; policy.visible_data() decides which a user may read. jsonb on
    # PostgreSQL: reports read fields of every case of a gemeente, and json is parsed per ->>.
    data: Mapped[dict] = mapped_column(JSON().with_variant(JSONB(), "postgresql"), default=dict)
    # Copies of the data fields reports count by (REPORT_FACTS), set on every insert and update
    # from data itself (_copy_report_facts): one truth, which ix_cases_report can cover.
    beeindigd_op: Mapped[date | None] = mapped_column(Date)
    reden_beeindiging: Mapped[str | None] = mapped_column(String(32))
    oorspronkelijke_soort: Mapped[str | None] = mapped_column(String(16))
    verzuimsoort: Mapped[str | None] = mapped_column(String(32))
    afsluiting: Mapped[str | None] = mapped_column(String(32))
    periode_start: Mapped[date | None] = mapped_column(Date)
    omgezet_op: Mapped[date | None] = mapped_column(Date)
    afgesloten_op: Mapped[date | None] = mapped_column(Date)
    tegen: Mapped[str | None] = mapped_column(String(16))

    child: Mapped[Child] = relationship()
    gemeente: Mapped[Organisation] = relationship(foreign_keys=[gemeente_id])
    deskundige: Mapped[User | None] = relationship(foreign_keys=[deskundige_id])
    swv: Mapped[Organisation | None] = relationship(foreign_keys=[swv_id])
    school: Mapped[Organisation | None] = relationship(foreign_keys=[school_id])

    # Concurrent transitions: the UPDATE carries "WHERE version = n"; the loser gets a 409.
    __mapper_args__ = {"version_id_col": version}


def copy_report_facts(case: Case) -> None:
    """The report columns from data (REPORT_FACTS): on every insert and update."""
    for key, value in report_facts(case.data).items():
        if getattr(case, key) != value:
            setattr(case, key, value)


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _copy_report_facts(mapper, connection, case: Case) -> None:  # noqa: ARG001
    copy_report_facts(case)


class MedicalNote(Base):
    """The deskundige's medical note: only the jeugdarts assigned to the case ever reads it."""

    __tablename__ = "medical_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
