"""The floor: the least an app can do for casework's fire, work list and name search.

A minimal Flask + SQLAlchemy Core app over casework's own database (same tables, indexes,
driver, engine settings and database role), so that scripts/benchmark.py can print casework's
figures as ratios to it. It is a lower bound, not a second product: no workflow engine, no
guards beyond what makes the write valid, no ORM, no templates, hand-written SQL. What it does
per request is still the work casework must do (docs/performance.md, "The floor"):

POST /floor/cases/<id>/events/neem_ter_kennisgeving_aan  {"reden": "...", "expected_version": n}
    1. the bearer token: one indexed read (api_tokens joined with users);
    2. the case with its child, school and gemeente: one read, limited to the LPA's gemeente;
    3. version and state checked; the optimistic UPDATE of the case (state, is_open, version,
       updated_at, due_on, data and its report columns) WHERE id AND version;
    4. the audit row, hash-chained and keyed the way casework.services.audit does it: the
       case's seal and the global seal are locked (FOR UPDATE on PostgreSQL; SQLite's
       BEGIN IMMEDIATE holds the write lock), the row is inserted, both seals are updated;
    5. the letter to the school (status pending) with its context;
    6. the access-log row for the child's identity in the answer (casework logs it too);
    7. one commit; a small JSON answer.
GET /floor/cases?per_page=25[&q=text]
    the token; the count (up to LIST_COUNT_CAP, as casework's) and the first page of the LPA's
    cases ordered by due_on NULLS LAST, id, joined with the child's name; with q the same name/reference search SQL casework/search.py
    builds on each database; one access-log row per case shown; one commit.

The app reads the same settings as casework (config.load_config: CASEWORK_DATABASE_URL,
CASEWORK_AUDIT_KEY, CASEWORK_AUDIT_KEY_ID), so it runs as the same database role:

    CASEWORK_ENV=development gunicorn -c deploy/gunicorn.conf.py 'benchmarks.floor:create_app()'
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime, timezone

from flask import Flask, abort, jsonify, request
from sqlalchemy import (
    JSON, Boolean, Column, Date, DateTime, Integer, MetaData, String, Table, bindparam, create_engine,
    event, insert, text, update,
)
from sqlalchemy.dialects.postgresql import JSONB

from casework.extensions import _sqlite_begin, _sqlite_pragmas

GENESIS = "0" * 64
_MOD = 1 << 256
EVENT = "neem_ter_kennisgeving_aan"
SOURCE_STATE, DEST_STATE = "ontvangen", "afgesloten"
LETTER_KIND = "vz_ter_kennisgeving"

metadata = MetaData()
cases = Table(
    "cases", metadata, Column("id", Integer, primary_key=True), Column("state", String),
    Column("version", Integer), Column("is_open", Boolean), Column("updated_at", DateTime),
    Column("due_on", Date), Column("data", JSON().with_variant(JSONB(), "postgresql")),
    Column("afsluiting", String), Column("afgesloten_op", Date))
audit_events = Table(
    "audit_events", metadata, Column("id", Integer, primary_key=True), Column("case_id", Integer),
    Column("seq", Integer), Column("event", String), Column("from_state", String),
    Column("to_state", String), Column("actor_id", Integer), Column("actor_role", String),
    Column("at", DateTime), Column("payload_digest", String), Column("details", JSON(none_as_null=True)),
    Column("prev_hash", String), Column("hash", String), Column("key_id", String),
    Column("mac", String))
audit_seals = Table(
    "audit_seals", metadata, Column("case_id", Integer, primary_key=True),
    Column("n_rows", Integer), Column("n_cases", Integer), Column("head", String),
    Column("key_id", String), Column("mac", String), Column("updated_at", DateTime))
letters = Table(
    "letters", metadata, Column("id", Integer, primary_key=True), Column("case_id", Integer),
    Column("audit_seq", Integer), Column("kind", String), Column("recipient_role", String),
    Column("recipient_user_id", Integer), Column("recipient_org_id", Integer),
    Column("status", String), Column("attempts", Integer), Column("context", JSON),
    Column("created_at", DateTime), Column("queued_at", DateTime))
access_log = Table(
    "access_log", metadata, Column("id", Integer, primary_key=True), Column("user_id", Integer),
    Column("case_id", Integer), Column("child_id", Integer), Column("role", String),
    Column("organisation_id", Integer), Column("kind", String), Column("activity", String),
    Column("what", String), Column("via", String), Column("subject", String),
    Column("at", DateTime), Column("key_id", String), Column("mac", String))

ACCESS_FIELDS = ("kind", "what", "via", "user_id", "role", "organisation_id", "case_id",
                 "child_id", "activity", "subject")


# ------------------------------------------------------------------ the audit recipe


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class Keys:
    """The audit key's sub-keys (one per use), derived once."""

    def __init__(self, key: str, key_id: str) -> None:
        self.key_id = key_id
        self.sub = {purpose: hmac.new(key.encode(), f"casework-audit-{purpose}-v1".encode(),
                                      hashlib.sha256).digest()
                    for purpose in ("payload", "mac", "access")}

    def mac(self, purpose: str, message: str) -> str:
        return hmac.new(self.sub[purpose], message.encode(), hashlib.sha256).hexdigest()

    def access_row(self, values: dict) -> dict:
        at = values["at"]
        fields = [values[f] for f in ACCESS_FIELDS] + [at.isoformat() if at is not None else None]
        values["key_id"], values["mac"] = self.key_id, self.mac("access", canonical(fields))
        return values


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _date(value):
    """A date column from a text() query: a date on PostgreSQL, a JJJJ-MM-DD string on SQLite."""
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _iso(value):
    return value if value is None or isinstance(value, str) else value.isoformat()


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    return value


# ------------------------------------------------------------------ SQL

TOKEN_SQL = text(
    "SELECT u.id, u.role, u.organisation_id FROM api_tokens t JOIN users u ON u.id = t.user_id "
    "WHERE t.token_hash = :h AND t.revoked_at IS NULL AND t.expires_at > :now AND u.active"
).bindparams(bindparam("now", type_=DateTime))

CASE_SQL = text(
    "SELECT c.id, c.type, c.state, c.version, c.reference, c.data, c.child_id, c.school_id, "
    "c.gemeente_id, ch.voornaam, ch.achternaam, ch.geboortedatum, "
    "s.naam AS school_naam, s.adres AS school_adres, s.postcode_plaats AS school_pc, "
    "g.naam AS g_naam, g.adres AS g_adres, g.postcode_plaats AS g_pc, g.telefoon AS g_tel, "
    "g.email AS g_email "
    "FROM cases c JOIN children ch ON ch.id = c.child_id "
    "LEFT JOIN organisations s ON s.id = c.school_id "
    "JOIN organisations g ON g.id = c.gemeente_id "
    "WHERE c.id = :id AND c.gemeente_id = :g")
SEAL_SQL = {
    "postgresql": text("SELECT n_rows, n_cases, head, mac FROM audit_seals WHERE case_id = :c FOR UPDATE"),
    "sqlite": text("SELECT n_rows, n_cases, head, mac FROM audit_seals WHERE case_id = :c"),
}
LAST_ROW_SQL = text("SELECT seq, hash FROM audit_events WHERE case_id = :c ORDER BY seq DESC LIMIT 1")

_PAGE_COLUMNS = "c.id, c.type, c.reference, c.state, c.due_on, c.updated_at, c.child_id"
# The search conditions casework/search.py builds for an LPA (a text of 3 characters or more).
_NAME = "lower(children.voornaam || ' ' || children.achternaam) LIKE lower(:p) ESCAPE '\\'"


def search_where(dialect: str, q: str) -> str:
    """PostgreSQL: the gemeente's cases whose reference or copy of the child's name (kind_naam)
    contains q (GIN trigram indexes that hold the gemeente). SQLite: the FTS5 trigram tables; for
    an ASCII text their match decides, for another text the LIKE checks it as well."""
    if dialect == "postgresql":
        return ("c.gemeente_id = :g AND (lower(c.reference) LIKE lower(:p) ESCAPE '\\' "
                "OR lower(c.kind_naam) LIKE lower(:p) ESCAPE '\\')")
    if q.isascii():
        return ("c.gemeente_id = :g AND (c.id IN (SELECT cases_fts.rowid FROM cases_fts WHERE "
                "cases_fts MATCH :phrase) OR c.child_id IN (SELECT children_fts.rowid FROM "
                "children_fts WHERE children_fts MATCH :phrase))")
    return ("c.gemeente_id = :g AND ((c.id IN (SELECT cases_fts.rowid FROM cases_fts WHERE cases_fts "
            "MATCH :phrase) AND lower(c.reference) LIKE lower(:p) ESCAPE '\\') OR c.child_id IN "
            "(SELECT children.id FROM children WHERE children.id IN (SELECT children_fts.rowid FROM "
            "children_fts WHERE children_fts MATCH :phrase) AND " + _NAME + "))")


def like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# ------------------------------------------------------------------ the app


def make_engine(url: str):
    """The engine exactly as casework.extensions.Database.init_app makes it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})
        # casework's own connection set-up (pragmas, BEGIN IMMEDIATE): the same engine.
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def create_app(config: dict | None = None) -> Flask:
    if config is None:
        from config import load_config

        config = load_config()
    engine = make_engine(config["DATABASE_URL"])
    dialect = engine.dialect.name
    keys = Keys(config["AUDIT_KEY"], config.get("AUDIT_KEY_ID") or "k1")
    count_cap = int(config.get("LIST_COUNT_CAP") or 10 ** 9)
    app = Flask("casework_floor")
    app.extensions["floor_engine"] = engine

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    def user_of(conn):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            abort(401)
        row = conn.execute(TOKEN_SQL, {"h": hashlib.sha256(token.strip().encode()).hexdigest(),
                                       "now": utcnow()}).first()
        if row is None:
            abort(401)
        return row

    @app.post("/floor/cases/<int:case_id>/events/neem_ter_kennisgeving_aan")
    def fire(case_id: int):
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            abort(400)
        expected = body.pop("expected_version", None)
        reden = body.get("reden")
        if not isinstance(reden, str) or not reden.strip():
            abort(422)
        with engine.begin() as conn:
            user = user_of(conn)
            if user.role != "leerplichtambtenaar":
                abort(403)
            case = conn.execute(CASE_SQL, {"id": case_id, "g": user.organisation_id}).first()
            if case is None or case.type != "verzuim":
                abort(404)
            if expected is not None and expected != case.version:
                abort(409)
            if case.state != SOURCE_STATE:
                abort(409)
            now, today = utcnow(), date.today()
            data = dict(case.data if isinstance(case.data, dict) else json.loads(case.data))
            data.update(reden_afsluiting=reden, afsluiting="ter_kennisgeving",
                        afgesloten_op=today.isoformat())
            done = conn.execute(
                update(cases).where(cases.c.id == case_id, cases.c.version == case.version)
                .values(state=DEST_STATE, is_open=False, version=case.version + 1, updated_at=now,
                        due_on=None, data=data, afsluiting="ter_kennisgeving",
                        afgesloten_op=today))
            if done.rowcount != 1:
                abort(409)
            seq = append_audit(conn, case_id, SOURCE_STATE, DEST_STATE, user, {"reden": reden}, now)
            school_address = [x for x in (case.school_adres, case.school_pc) if x]
            context = _jsonable({
                "gemeente": {"naam": case.g_naam, "adres": case.g_adres,
                             "postcode_plaats": case.g_pc, "telefoon": case.g_tel,
                             "email": case.g_email},
                "datum": today, "kenmerk": case.reference,
                "ontvanger": {"naam": f"{case.school_naam}, t.a.v. de verzuimcoördinator",
                              "adres_regels": school_address},
                "kind": {"voornaam": case.voornaam, "achternaam": case.achternaam,
                         "geboortedatum": _date(case.geboortedatum)},
                "reden": reden})
            letter_id = conn.execute(
                insert(letters).values(case_id=case_id, audit_seq=seq, kind=LETTER_KIND,
                                       recipient_role="school", recipient_user_id=None,
                                       recipient_org_id=case.school_id, status="pending",
                                       attempts=0, context=context, created_at=now,
                                       queued_at=now)
                .returning(letters.c.id)).scalar_one()
            conn.execute(insert(access_log).values(**keys.access_row({
                "user_id": user.id, "role": user.role, "organisation_id": user.organisation_id,
                "case_id": case_id, "child_id": case.child_id, "what": "identiteit", "via": "api",
                "kind": "lezen", "activity": "verzuim", "subject": None, "at": now})))
        return jsonify(id=case_id, state=DEST_STATE, version=case.version + 1, audit_seq=seq,
                       letters=[letter_id], reference=case.reference,
                       child={"id": case.child_id, "voornaam": case.voornaam,
                              "achternaam": case.achternaam,
                              "geboortedatum": _iso(case.geboortedatum)})

    def append_audit(conn, case_id, from_state, to_state, user, payload, now) -> int:
        seal = conn.execute(SEAL_SQL[dialect], {"c": case_id}).first()
        if seal is not None:
            seq, prev_hash = seal.n_rows + 1, seal.head
        else:
            last = conn.execute(LAST_ROW_SQL, {"c": case_id}).first()
            seq, prev_hash = ((last.seq + 1) if last else 1), (last.hash if last else GENESIS)
        payload_digest = keys.mac("payload", canonical(payload))
        row_hash = hashlib.sha256(canonical(
            [case_id, seq, EVENT, from_state, to_state, user.id, user.role, now.isoformat(),
             payload_digest, prev_hash]).encode()).hexdigest()
        whole = conn.execute(SEAL_SQL[dialect], {"c": 0}).first()
        conn.execute(insert(audit_events).values(
            case_id=case_id, seq=seq, event=EVENT, from_state=from_state, to_state=to_state,
            actor_id=user.id, actor_role=user.role, at=now, payload_digest=payload_digest,
            details=None, prev_hash=prev_hash, hash=row_hash, key_id=keys.key_id,
            mac=keys.mac("mac", f"row|{row_hash}")))
        case_mac = keys.mac("mac", f"case|{case_id}|{seq}|{row_hash}")
        if whole is None:
            whole_rows, whole_cases, acc, new_whole = 0, 0, GENESIS, True
        else:
            whole_rows, whole_cases, acc, new_whole = whole.n_rows, whole.n_cases or 0, whole.head, False
        values = {"n_rows": seq, "head": row_hash, "key_id": keys.key_id, "mac": case_mac,
                  "updated_at": now}
        if seal is None:
            conn.execute(insert(audit_seals).values(case_id=case_id, n_cases=0, **values))
            whole_cases += 1
        else:
            acc = f"{(int(acc, 16) - int(seal.mac, 16)) % _MOD:064x}"
            conn.execute(update(audit_seals).where(audit_seals.c.case_id == case_id).values(**values))
        whole_rows += 1
        head = f"{(int(acc, 16) + int(case_mac, 16)) % _MOD:064x}"
        whole_values = {"n_rows": whole_rows, "n_cases": whole_cases, "head": head,
                        "key_id": keys.key_id, "updated_at": now,
                        "mac": keys.mac("mac", f"global|{whole_rows}|{whole_cases}|{head}")}
        if new_whole:
            conn.execute(insert(audit_seals).values(case_id=0, **whole_values))
        else:
            conn.execute(update(audit_seals).where(audit_seals.c.case_id == 0).values(**whole_values))
        return seq

    @app.get("/floor/cases")
    def list_cases():
        per_page = min(max(request.args.get("per_page", 25, type=int), 1), 100)
        page = max(request.args.get("page", 1, type=int), 1)
        q = (request.args.get("q") or "").strip()
        with engine.begin() as conn:
            user = user_of(conn)
            if user.role != "leerplichtambtenaar":
                abort(403)
            params = {"g": user.organisation_id, "limit": per_page, "offset": (page - 1) * per_page}
            order = "ORDER BY c.due_on ASC NULLS LAST, c.id"
            # The page from cases alone (ix_cases_gemeente_due's order), the children and the
            # gemeente after it by id: a join in the page query lets SQLite's planner start from
            # the wrong table.
            page_sql = f"SELECT {_PAGE_COLUMNS} FROM cases c WHERE "
            if q:
                # As casework/services/paging.py: the page's ids with the exact total as a window
                # count (one pass over the matches), then those cases.
                if len(q) < 3:
                    abort(400)  # the floor measures the indexed search only
                params.update(p=like_pattern(q), phrase='"' + q.replace('"', '""') + '"')
                # The matches first (MATERIALIZED), then sorted, as paging.py: without it the
                # planner may walk the gemeente's due-date index for the LIMIT above the window.
                found = conn.execute(text(
                    f"WITH matches AS MATERIALIZED (SELECT c.id, c.due_on FROM cases c "
                    f"WHERE {search_where(dialect, q)}) SELECT c.id, count(*) OVER () AS total "
                    f"FROM matches c {order} LIMIT :limit OFFSET :offset"), params).all()
                total = found[0].total if found else 0
                ids = [r.id for r in found]
                by_id = {r.id: r for r in conn.execute(
                    text(page_sql + "c.id IN :ids").bindparams(bindparam("ids", expanding=True)),
                    {"ids": ids}).all()} if ids else {}
                rows = [by_id[i] for i in ids if i in by_id]
            else:
                # The count stops at the cap, as casework's (LIST_COUNT_CAP).
                found = conn.execute(text(
                    "SELECT count(*) FROM (SELECT c.id FROM cases c WHERE c.gemeente_id = :g "
                    "LIMIT :cap) AS t"), {"g": user.organisation_id, "cap": count_cap + 1}).scalar_one()
                total = min(found, count_cap)
                rows = conn.execute(text(page_sql + f"c.gemeente_id = :g {order} "
                                         "LIMIT :limit OFFSET :offset"), params).all()
            children = {r.id: r for r in conn.execute(
                text("SELECT id, voornaam, achternaam, geboortedatum FROM children WHERE id IN :ids")
                .bindparams(bindparam("ids", expanding=True)),
                {"ids": sorted({r.child_id for r in rows})}).all()} if rows else {}
            gemeente_naam = conn.execute(text("SELECT naam FROM organisations WHERE id = :g"),
                                         {"g": user.organisation_id}).scalar()
            now = utcnow()
            what = "zaken_zoeken" if q else "zaken_lijst"
            if rows:
                conn.execute(insert(access_log), [keys.access_row({
                    "user_id": user.id, "role": user.role, "organisation_id": user.organisation_id,
                    "case_id": r.id, "child_id": r.child_id, "what": what, "via": "api",
                    "kind": "lezen", "activity": r.type, "subject": None, "at": now})
                    for r in rows])
        items = [{"id": r.id, "type": r.type, "reference": r.reference, "state": r.state,
                  "due_on": _iso(r.due_on), "updated_at": _iso(r.updated_at),
                  "child": {"id": r.child_id, "voornaam": children[r.child_id].voornaam,
                            "achternaam": children[r.child_id].achternaam,
                            "geboortedatum": _iso(children[r.child_id].geboortedatum)},
                  "gemeente": {"id": user.organisation_id, "naam": gemeente_naam}}
                 for r in rows]
        return jsonify(items=items, total=total, page=page, per_page=per_page)

    return app
