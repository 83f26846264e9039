"""Tamper evidence for the access log, without serialising the reads that write it.

The access log gets a row on every read of personal data, so writing a row takes no lock and
reads nothing: the row carries a MAC (HMAC-SHA256 with the audit key, services/audit.py
access_row_mac) over its content, computed before the INSERT. Everything else happens later:

- sealing (`seal_pending`: the worker every minute, `flask tick`, `flask access-log seal`)
  closes a batch: the rows after the last sealed id that are older than
  ACCESS_LOG_SEAL_SETTLE_SECONDS (on PostgreSQL ids commit out of order: a transaction still
  in flight may hold a lower id; the settle time, and the start of the oldest open writing
  transaction, keep such rows out of the batch). The seal (AccessLogSeal, kind "zegel") holds
  the id range (lo < id <= hi), the row count, sha256 over "id:mac" of its rows in id order,
  the previous seal's MAC and its own MAC. Its seq is the previous seal's + 1 (primary key),
  so two sealers at once cannot fork the chain: the second one's INSERT fails;
- pruning (`prune`, `flask access-log prune`, as the database owner) deletes whole sealed
  batches past ACCESS_LOG_RETENTION_DAYS and adds a prune record (kind "opschoning") to the
  same chain: the range, the number of rows, who. The database itself refuses any DELETE of
  a row above the highest pruned id (trigger), and the app role has no DELETE right at all;
- `verify` walks seals and rows in order and names the first problem: a changed row (its
  MAC), a row missing from or added to a sealed batch (count, digest), swapped rows (digest),
  a seal missing, changed or forged (seq, MAC, prev_mac), a gap between batches, rows left in
  or put back into a pruned range, and rows older than ACCESS_LOG_SEAL_LATE_MINUTES that are
  not sealed (a removed last seal, or no sealing).

What stays undetectable, as for the audit trail: removing the newest seal(s) together with
all their rows (the tail), or rolling the whole database back; keep the verify output (last
seal and id) elsewhere to catch that. Key rotation as the audit trail: rows and seals keep
their key id; an old key must stay in CASEWORK_AUDIT_KEYS_OLD while rows or seals with it
exist (until they are pruned).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, text

from casework.models import AccessLog, AccessLogSeal, utcnow

from .audit import (
    ACCESS_FIELDS, GENESIS, _hmac, access_row_mac, audit_keys, canonical, with_access_mac,
)

SEAL, PRUNE = "zegel", "opschoning"
MAX_BATCH = 50_000  # rows per seal at most; a backlog becomes several seals
LOG = AccessLog.__table__
SEALS = AccessLogSeal.__table__
SEAL_COLUMNS = ("seq", "kind", "lo", "hi", "n_rows", "digest", "last_at", "actor", "created_at",
                "prev_mac")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def seal_mac(key: str, seal) -> str:
    fields = [seal[c] for c in SEAL_COLUMNS]
    fields[6], fields[8] = _iso(seal["last_at"]), _iso(seal["created_at"])
    return _hmac(key, "access-seal", canonical(fields))


class _Digest:
    def __init__(self) -> None:
        self.h, self.n = hashlib.sha256(), 0

    def add(self, row_id: int, mac: str | None) -> None:
        self.h.update(f"{row_id}:{mac}\n".encode())
        self.n += 1

    def hexdigest(self) -> str:
        return self.h.hexdigest()


def _head(conn) -> tuple[int, str, int, int]:
    """(last seq, its MAC, highest sealed id, highest pruned id)."""
    last = conn.execute(select(SEALS.c.seq, SEALS.c.mac).order_by(SEALS.c.seq.desc()).limit(1)).first()
    sealed = conn.execute(select(func.max(SEALS.c.hi)).where(SEALS.c.kind == SEAL)).scalar()
    pruned = conn.execute(select(func.max(SEALS.c.hi)).where(SEALS.c.kind == PRUNE)).scalar()
    return (last.seq if last else 0), (last.mac if last else GENESIS), sealed or 0, pruned or 0


def _oldest_open_write(conn) -> datetime | None:
    """PostgreSQL: when the oldest other transaction that has written began (its access-log
    rows, if any, are not visible yet). Only sessions of the own role are visible: the app
    role writes the access log."""
    dialect = conn.dialect if hasattr(conn, "dialect") else conn.get_bind().dialect
    if dialect.name != "postgresql":
        return None
    return conn.execute(text(
        "SELECT min(xact_start) AT TIME ZONE 'UTC' FROM pg_stat_activity WHERE backend_xid IS NOT "
        "NULL AND pid <> pg_backend_pid() AND datname = current_database()")).scalar()


def _insert_seal(conn, key_id: str, key: str, values: dict) -> dict:
    values = {**values, "key_id": key_id}
    values["mac"] = seal_mac(key, values)
    conn.execute(insert(SEALS).values(**values))
    return values


def seal_pending(conn, config, *, now: datetime | None = None, settle_seconds: int | None = None,
                 max_batch: int = MAX_BATCH) -> tuple[int, int]:
    """Seal the closed rows after the last seal; returns (seals made, rows sealed). `conn` is a
    Connection or the Session (the caller commits). Another sealer at the same moment makes
    this INSERT fail (same seq): roll back, the rows are sealed by the other one."""
    key_id, keys = audit_keys(config)
    now = now or utcnow()
    settle = config.get("ACCESS_LOG_SEAL_SETTLE_SECONDS", 60) if settle_seconds is None else settle_seconds
    cutoff = now - timedelta(seconds=settle)
    oldest = _oldest_open_write(conn)
    if oldest is not None and oldest < cutoff:
        cutoff = oldest - timedelta(seconds=1)
    seq, prev_mac, lo, _pruned = _head(conn)
    made = rows_sealed = 0
    while True:
        batch = conn.execute(select(LOG.c.id, LOG.c.mac, LOG.c.at).where(LOG.c.id > lo)
                             .order_by(LOG.c.id).limit(max_batch)).all()
        taken = []
        for row in batch:
            if row.at > cutoff:
                break
            taken.append(row)
        if not taken:
            break
        digest = _Digest()
        for row in taken:
            digest.add(row.id, row.mac)
        seq += 1
        sealed = _insert_seal(conn, key_id, keys[key_id], {
            "seq": seq, "kind": SEAL, "lo": lo, "hi": taken[-1].id, "n_rows": digest.n,
            "digest": digest.hexdigest(), "last_at": max(r.at for r in taken), "actor": None,
            "created_at": now, "prev_mac": prev_mac})
        made, rows_sealed = made + 1, rows_sealed + digest.n
        lo, prev_mac = sealed["hi"], sealed["mac"]
        if len(taken) < max_batch:
            break
    return made, rows_sealed


# ------------------------------------------------------------------ checking


@dataclass
class LogVerifyResult:
    ok: bool
    rows: int  # rows checked
    seals: int  # seals checked
    problem: str | None = None  # Dutch, plain language: the first problem
    last_seal: int = 0  # seq of the last seal
    sealed_to: int = 0  # highest sealed row id
    pruned_to: int = 0  # highest pruned row id


class _Broken(Exception):
    pass


def _check_row(keys: dict, row) -> None:
    if row.mac is None or row.key_id is None:
        raise _Broken(f"regel {row.id} heeft geen sleutelzegel: de regel is buiten de applicatie "
                      "om geschreven")
    key = keys.get(row.key_id)
    if key is None:
        raise _Broken(f"regel {row.id} is verzegeld met een onbekende sleutel '{row.key_id}' "
                      "(zet die in CASEWORK_AUDIT_KEYS_OLD)")
    if not hmac.compare_digest(access_row_mac(key, row._mapping), row.mac):
        raise _Broken(f"regel {row.id} is veranderd: het sleutelzegel van de regel klopt niet")


def verify(conn, config, *, now: datetime | None = None, batch: int = 5000) -> LogVerifyResult:
    """Check every seal and every row; stop at the first problem. Streams both in order."""
    _key_id, keys = audit_keys(config)
    now = now or utcnow()
    late = now - timedelta(minutes=config.get("ACCESS_LOG_SEAL_LATE_MINUTES", 60))
    counts = {"rows": 0, "seals": 0}
    expected_seq, prev_mac, sealed_to, pruned_so_far = 1, GENESIS, 0, 0
    pruned_to = conn.execute(select(func.max(SEALS.c.hi)).where(SEALS.c.kind == PRUNE)).scalar() or 0
    columns = [LOG.c.id, LOG.c.at, LOG.c.key_id, LOG.c.mac] + [LOG.c[f] for f in ACCESS_FIELDS]
    try:
        left = conn.execute(select(LOG.c.id).where(LOG.c.id <= pruned_to).order_by(LOG.c.id)
                            .limit(1)).scalar()
        if left is not None:
            raise _Broken(f"regel {left} valt in het opgeschoonde deel (tot en met regel {pruned_to}) "
                          "maar staat er nog: de regel is teruggezet of bijgeschreven")
        rows_q = select(*columns).where(LOG.c.id > pruned_to).order_by(LOG.c.id)
        seals_q = select(SEALS).order_by(SEALS.c.seq)
        with conn.execute(rows_q.execution_options(yield_per=batch)) as rows, \
                conn.execute(seals_q.execution_options(yield_per=batch)) as seals:
            row = next(rows, None)
            for seal in seals:
                s = seal._mapping
                counts["seals"] += 1
                if s["seq"] != expected_seq:
                    raise _Broken(f"zegel {expected_seq} ontbreekt: de zegels zijn verwijderd of "
                                  "veranderd" if s["seq"] > expected_seq else
                                  f"zegel {s['seq']} staat er dubbel")
                key = keys.get(s["key_id"])
                if key is None:
                    raise _Broken(f"zegel {s['seq']} is gemaakt met een onbekende sleutel "
                                  f"'{s['key_id']}' (zet die in CASEWORK_AUDIT_KEYS_OLD)")
                if not hmac.compare_digest(seal_mac(key, s), s["mac"]):
                    raise _Broken(f"zegel {s['seq']} klopt niet: de zegel is buiten de applicatie "
                                  "om gemaakt of veranderd")
                if s["prev_mac"] != prev_mac:
                    raise _Broken(f"zegel {s['seq']} sluit niet aan op zegel {s['seq'] - 1}: de keten "
                                  "van zegels is verbroken")
                if s["kind"] == SEAL:
                    if s["lo"] != sealed_to:
                        raise _Broken(f"zegel {s['seq']} begint na regel {s['lo']}, de vorige zegel "
                                      f"eindigt bij regel {sealed_to}: de keten is verbroken")
                    if s["hi"] > pruned_to:
                        digest = _Digest()
                        while row is not None and row.id <= s["hi"]:
                            counts["rows"] += 1
                            _check_row(keys, row)
                            digest.add(row.id, row.mac)
                            row = next(rows, None)
                        where = f"zegel {s['seq']} (regels {s['lo'] + 1} tot en met {s['hi']})"
                        if digest.n < s["n_rows"]:
                            raise _Broken(f"in {where} ontbreken {s['n_rows'] - digest.n} van de "
                                          f"{s['n_rows']} regels: ze zijn verwijderd zonder opschoning")
                        if digest.n > s["n_rows"]:
                            raise _Broken(f"in {where} staan {digest.n - s['n_rows']} regels te veel: "
                                          "ze zijn buiten de applicatie om bijgeschreven")
                        if digest.hexdigest() != s["digest"]:
                            raise _Broken(f"de regels van {where} zijn verwisseld of vervangen")
                    sealed_to = s["hi"]
                elif s["kind"] == PRUNE:
                    if s["lo"] != pruned_so_far or s["hi"] > sealed_to:
                        raise _Broken(f"opschoning {s['seq']} past niet bij de zegels ervoor")
                    pruned_so_far = s["hi"]
                else:
                    raise _Broken(f"zegel {s['seq']} heeft een onbekende soort '{s['kind']}'")
                prev_mac, expected_seq = s["mac"], expected_seq + 1
            while row is not None:  # the unsealed tail: each row's MAC, and not too old
                counts["rows"] += 1
                _check_row(keys, row)
                if row.at < late:
                    raise _Broken(f"regel {row.id} van {row.at:%d-%m-%Y %H:%M} is niet verzegeld: de "
                                  "laatste zegel is verwijderd, of het verzegelen loopt niet (worker, "
                                  "flask tick of flask access-log seal)")
                row = next(rows, None)
    except _Broken as broken:
        return LogVerifyResult(False, counts["rows"], counts["seals"], str(broken),
                               expected_seq - 1, sealed_to, pruned_to)
    return LogVerifyResult(True, counts["rows"], counts["seals"], None, expected_seq - 1,
                           sealed_to, pruned_to)


# ------------------------------------------------------------------ pruning


class PruneRefused(Exception):
    pass


def prune(conn, config, *, actor: str, now: datetime | None = None) -> tuple[int, int]:
    """Delete the sealed batches whose newest row is older than the retention, oldest first,
    with a prune record in the seal chain and a security event in the log. Run as the owner
    role (the app role may not DELETE). Returns (rows deleted, highest deleted id)."""
    key_id, keys = audit_keys(config)
    now = now or utcnow()
    cutoff = now - timedelta(days=config["ACCESS_LOG_RETENTION_DAYS"])
    seq, prev_mac, _sealed_to, pruned_to = _head(conn)
    batches = conn.execute(select(SEALS.c.hi, SEALS.c.n_rows, SEALS.c.last_at, SEALS.c.mac)
                           .where(SEALS.c.kind == SEAL, SEALS.c.hi > pruned_to)
                           .order_by(SEALS.c.seq)).all()
    taken = []
    for b in batches:
        if b.last_at is not None and b.last_at >= cutoff:
            break
        taken.append(b)
    if not taken:
        return 0, pruned_to
    upto, count = taken[-1].hi, sum(b.n_rows for b in taken)
    actor = (actor or "onbekend")[:64]
    # The prune record first: the database allows a DELETE only up to the highest pruned id.
    _insert_seal(conn, key_id, keys[key_id], {
        "seq": seq + 1, "kind": PRUNE, "lo": pruned_to, "hi": upto, "n_rows": count,
        "digest": taken[-1].mac, "last_at": max(b.last_at for b in taken if b.last_at) if any(
            b.last_at for b in taken) else None, "actor": actor, "created_at": now,
        "prev_mac": prev_mac})
    # The security event before the DELETE: on SQLite a new id is the highest one left + 1, so a
    # row above the pruned range must stay, or new rows would get ids inside it.
    conn.execute(insert(LOG).values(**with_access_mac({
        "user_id": None, "role": None, "organisation_id": None, "case_id": None, "child_id": None,
        "kind": "beveiliging", "activity": "beveiliging", "via": "cli", "subject": None,
        "what": f"toegangslog_opgeschoond:{count}:{actor}"[:64], "at": utcnow()},
        key_id, keys[key_id])))
    deleted = conn.execute(delete(LOG).where(LOG.c.id > pruned_to, LOG.c.id <= upto)).rowcount
    if deleted != count:
        raise PruneRefused(f"er zouden {deleted} regels verwijderd worden, de zegels tellen er {count}: "
                           "niets verwijderd (controleer eerst met flask access-log verify)")
    return count, upto



def seal_now() -> int:
    """Seal in the app's own session and commit; returns the rows sealed. Another sealer busy
    at the same moment took the same seq (IntegrityError): nothing now, its seal covers them."""
    from flask import current_app
    from sqlalchemy.exc import IntegrityError

    from casework.extensions import db

    try:
        _made, rows = seal_pending(db.session, current_app.config)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return 0
    return rows
