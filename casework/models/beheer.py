"""What the beheerder (or `flask admin`) changed, and the settings of a gemeente.

AdminChange: one row per change of an organisation, user, child, parent link, gemeente setting,
school holiday or letter retry: who, when, what, and each changed field as [old, new]. The rows
form one chain: seq is the previous row's + 1 (primary key, so two writers cannot fork it) and
each row's MAC (HMAC-SHA256 with the audit key) covers its content and the previous row's MAC,
so a changed, removed or inserted row shows in `flask admin verify-changes`. Append-only:
database triggers refuse UPDATE and DELETE, and the app role may only SELECT and INSERT.
Passwords, codes and tokens never appear in a change, only that they were set.

GemeenteInstellingen: what a gemeente sets for itself; an empty value means the product's
default (the CASEWORK_* setting of the same meaning)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from .base import Base, utcnow


class AdminChange(Base):
    __tablename__ = "beheer_wijzigingen"
    __table_args__ = (Index("ix_beheer_wijzigingen_gemeente_seq", "gemeente_id", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # None: `flask admin` on the server (the operator, not a web user).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_naam: Mapped[str] = mapped_column(String(200))
    # The gemeente whose beheerders see the change (None: a change outside any gemeente).
    gemeente_id: Mapped[int | None] = mapped_column(Integer)
    onderwerp: Mapped[str] = mapped_column(String(32))  # organisatie, gebruiker, kind, ...
    onderwerp_id: Mapped[int | None] = mapped_column(Integer)
    actie: Mapped[str] = mapped_column(String(32))  # toegevoegd, gewijzigd, verwijderd, ...
    omschrijving: Mapped[str] = mapped_column(String(300))
    wijzigingen: Mapped[dict] = mapped_column(JSON)  # {field: [old, new]}
    prev_mac: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    mac: Mapped[str] = mapped_column(String(64))


class GemeenteInstellingen(Base):
    __tablename__ = "gemeente_instellingen"

    gemeente_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                             primary_key=True, autoincrement=False)
    advies_termijn_dagen: Mapped[int | None] = mapped_column(Integer)
    herbeoordeling_lead_dagen: Mapped[int | None] = mapped_column(Integer)
    verlenging_herinnering_dagen: Mapped[int | None] = mapped_column(Integer)
    ondertekenaar_naam: Mapped[str] = mapped_column(String(200), default="")
    ondertekenaar_functie: Mapped[str] = mapped_column(String(200), default="")
    # The letterhead logo: PNG or JPEG bytes, checked and size-limited on upload. Loaded only
    # when asked for: the settings come with every case read (policy.get_case_for).
    logo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    logo_type: Mapped[str | None] = mapped_column(String(32))
