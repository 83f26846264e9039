"""The record of what beheerders change (AdminChange, models/beheer.py): writing a change in the
transaction that makes it, listing a gemeente's changes, and checking the chain.

A change is written with `record(...)`, after the change itself is flushed and before the
commit: both commit together or not at all. `fields(obj, names)` takes a snapshot of an object
before and after; `diff` gives only what changed, as {field: [old, new]}."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, insert, select, text

from casework.extensions import db
from casework.models import AdminChange, utcnow

from .audit import GENESIS, _hmac, audit_keys, canonical

TABLE = AdminChange.__table__
MAC_FIELDS = ("seq", "at", "actor_id", "actor_naam", "gemeente_id", "onderwerp", "onderwerp_id",
              "actie", "omschrijving", "wijzigingen", "prev_mac", "key_id")
# Never written as a value: only that it changed.
SECRET = "(gewijzigd)"


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return f"{len(value)} bytes"
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted(_plain(v) for v in value)
    return value


def fields(obj, names) -> dict:
    """A snapshot of `names` of `obj`, as plain JSON values."""
    return {name: _plain(getattr(obj, name)) for name in names}


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for every field whose value differs (a field missing on one side is None)."""
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)}


def row_mac(key: str, row: dict) -> str:
    values = [row[c] for c in MAC_FIELDS]
    values[1] = row["at"].isoformat()
    return _hmac(key, "beheer", canonical(values))


def _lock() -> None:
    """One writer at a time extends the chain (changes are rare; PostgreSQL: a transaction lock)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(74657301)"))


def record(actor, onderwerp: str, onderwerp_id: int | None, actie: str, omschrijving: str,
           wijzigingen: dict | None = None, *, gemeente_id: int | None = None) -> None:
    """Append one change in the current transaction (the caller commits). `actor` None: the
    operator on the server (`flask admin`)."""
    _lock()
    last = db.session.execute(select(TABLE.c.seq, TABLE.c.mac).order_by(TABLE.c.seq.desc()).limit(1)).first()
    key_id, keys = audit_keys()
    row = {
        "seq": (last.seq + 1) if last else 1, "at": utcnow().replace(microsecond=0),
        "actor_id": getattr(actor, "id", None),
        "actor_naam": (actor.naam if actor is not None else "beheer op de server (flask admin)")[:200],
        "gemeente_id": gemeente_id if gemeente_id is not None else getattr(actor, "organisation_id", None),
        "onderwerp": onderwerp[:32], "onderwerp_id": onderwerp_id, "actie": actie[:32],
        "omschrijving": omschrijving[:300], "wijzigingen": wijzigingen or {},
        "prev_mac": last.mac if last else GENESIS, "key_id": key_id,
    }
    row["mac"] = row_mac(keys[key_id], row)
    db.session.execute(insert(TABLE).values(**row))


def gemeente_changes(gemeente_id: int, page: int = 1, per_page: int = 50) -> tuple[list, int]:
    """A gemeente's changes, newest first, and their number."""
    where = TABLE.c.gemeente_id == gemeente_id
    total = db.session.scalar(select(func.count()).select_from(TABLE).where(where))
    rows = db.session.execute(select(TABLE).where(where).order_by(TABLE.c.seq.desc())
                              .limit(per_page).offset((page - 1) * per_page)).mappings().all()
    return list(rows), total


@dataclass
class ChangesVerified:
    ok: bool
    checked: int
    first_bad: int | None = None
    reason: str = ""


def verify(batch: int = 5000) -> ChangesVerified:
    """Walk the chain in order: every seq follows the previous one, every row holds the previous
    row's MAC and its own MAC is right. The first problem is named."""
    _, keys = audit_keys()
    expected_seq, prev, checked = 1, GENESIS, 0
    query = select(TABLE).order_by(TABLE.c.seq).execution_options(yield_per=batch)
    with db.session.execute(query).mappings() as rows:
        for row in rows:
            if row["seq"] != expected_seq:
                return ChangesVerified(False, checked, expected_seq,
                                       f"wijziging {expected_seq} ontbreekt")
            key = keys.get(row["key_id"])
            if key is None:
                return ChangesVerified(False, checked, row["seq"],
                                       f"sleutel {row['key_id']} is onbekend")
            if row["prev_mac"] != prev:
                return ChangesVerified(False, checked, row["seq"], "de keten is onderbroken")
            if row_mac(key, dict(row)) != row["mac"]:
                return ChangesVerified(False, checked, row["seq"], "de inhoud is veranderd")
            prev, expected_seq, checked = row["mac"], expected_seq + 1, checked + 1
    return ChangesVerified(True, checked)
