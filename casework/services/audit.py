"""The audit trail: hash-chained transition rows per case, and the access log of sensitive reads.

Tamper evidence without trusting the database (threat model: someone who can write to the
database, up to its owner role, but does not hold the audit key, which lives in the settings):

- every row has a sha256 `hash` over its fields and the previous row's hash (the chain), and a
  `mac`: HMAC-SHA256 over that hash with the audit key named by `key_id`. Re-hashing a chain
  with the public recipe leaves every MAC wrong;
- every case has a seal (AuditSeal): its number of rows and the hash of its last row, with a
  MAC. Deleting or replacing the last row, or the whole chain, no longer matches the seal;
- one global seal (case_id 0): all rows, the number of case seals and the sum of their MACs,
  with a MAC. Deleting a case with its chain and seal, or putting back an older case seal,
  changes that sum. What stays undetectable is only rolling the whole database back to an
  earlier state (every chain and seal together): keep `audit verify` output elsewhere for that;
- the state of each case must be the to_state of its last row;
- the payload digest of a keyed row is an HMAC too, so a payload (a medical note) cannot be
  found by trying candidates against it.

Seals are updated in the same transaction as the row; the global seal is locked for it, so
appends are serialized (a short lock per transition). Key rotation: set a new
CASEWORK_AUDIT_KEY and CASEWORK_AUDIT_KEY_ID, move the old pair to CASEWORK_AUDIT_KEYS_OLD
("id:key,..."); new rows and seals use the new key, old ones keep verifying with the old.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm.util import identity_key
from sqlalchemy.orm.attributes import set_committed_value

from casework.extensions import db
from casework.models import AccessLog, AuditEvent, AuditSeal, Case, utcnow
from config import parse_audit_keys_old

GENESIS = "0" * 64
GLOBAL_SEAL = 0  # AuditSeal.case_id of the seal over all chains
_MOD = 1 << 256


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def row_hash(row: AuditEvent) -> str:
    fields = [row.case_id, row.seq, row.event, row.from_state, row.to_state, row.actor_id,
              row.actor_role, row.at.isoformat(), row.payload_digest, row.prev_hash]
    if row.details is not None:  # rows without details hash exactly as before details existed
        fields.append(row.details)
    return digest(fields)


# ------------------------------------------------------------------ keys


def audit_keys(config=None) -> tuple[str, dict[str, str]]:
    """(current key id, {key id: key}) from the settings: the current key and the old ones."""
    cfg = config if config is not None else current_app.config
    key, key_id = cfg.get("AUDIT_KEY"), cfg.get("AUDIT_KEY_ID") or "k1"
    if not key:
        raise RuntimeError("CASEWORK_AUDIT_KEY ontbreekt: zonder sleutel kan de audit niet "
                           "verzegeld worden.")
    keys = {key_id: key}
    for old_id, old_key in parse_audit_keys_old(cfg.get("AUDIT_KEYS_OLD")).items():
        keys.setdefault(old_id, old_key)
    return key_id, keys


@lru_cache(maxsize=32)
def _subkey(key: str, purpose: str) -> bytes:
    """One key per use (row and seal MACs, payload digests), derived from the audit key."""
    return hmac.new(key.encode(), f"casework-audit-{purpose}-v1".encode(), hashlib.sha256).digest()


def _hmac(key: str, purpose: str, message: str) -> str:
    return hmac.new(_subkey(key, purpose), message.encode(), hashlib.sha256).hexdigest()


class Sealer:
    """MACs with the settings' keys; `None` from a check means the key id is unknown."""

    def __init__(self, config=None) -> None:
        self.key_id, self.keys = audit_keys(config)

    def payload_digest(self, payload) -> str:
        return _hmac(self.keys[self.key_id], "payload", canonical(payload))

    def row_mac(self, key_id: str, hash_: str) -> str | None:
        key = self.keys.get(key_id)
        return _hmac(key, "mac", f"row|{hash_}") if key else None

    def case_mac(self, key_id: str, case_id: int, rows: int, head: str) -> str | None:
        key = self.keys.get(key_id)
        return _hmac(key, "mac", f"case|{case_id}|{rows}|{head}") if key else None

    def global_mac(self, key_id: str, rows: int, cases: int, head: str) -> str | None:
        key = self.keys.get(key_id)
        return _hmac(key, "mac", f"global|{rows}|{cases}|{head}") if key else None


def payload_digest(payload) -> str:
    """The keyed digest an audit row stores of its payload (HMAC-SHA256 with the audit key)."""
    return Sealer().payload_digest(payload)


def add_mac(acc: str, mac: str, sign: int = 1) -> str:
    """The global seal's head: the sum of all case seal MACs modulo 2**256, as 64 hex digits."""
    return f"{(int(acc, 16) + sign * int(mac, 16)) % _MOD:064x}"


# ------------------------------------------------------------------ writing


def _locked_seals(case_id: int):
    """The case's seal and the global one (rows, not objects), locked in one statement (the
    global first, the same order for every writer)."""
    found = {row.case_id: row for row in db.session.execute(_SEALS_QUERY, {"case_id": case_id})}
    return found.get(case_id), found.get(GLOBAL_SEAL)


_SEALS_QUERY = (select(AuditSeal.__table__)
                .where(AuditSeal.case_id.in_((GLOBAL_SEAL, bindparam("case_id"))))
                .order_by(AuditSeal.case_id).with_for_update())


def append_audit(case_id: int, event: str, from_state: str | None, to_state: str,
                 actor_id: int | None, actor_role: str, payload: dict,
                 details: dict | None = None) -> AuditEvent:
    sealer = Sealer()
    seal, whole = _locked_seals(case_id)
    if seal is not None:  # the seal, not the table, says where the chain ends
        seq, prev_hash = seal.n_rows + 1, seal.head
    else:
        last = db.session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
        seq, prev_hash = ((last.seq + 1) if last else 1), (last.hash if last else GENESIS)
    row = AuditEvent(
        case_id=case_id, seq=seq, event=event, from_state=from_state,
        to_state=to_state, actor_id=actor_id, actor_role=actor_role, at=utcnow(),
        payload_digest=sealer.payload_digest(payload), prev_hash=prev_hash, details=details,
        key_id=sealer.key_id,
    )
    row.hash = row_hash(row)
    row.mac = sealer.row_mac(sealer.key_id, row.hash)
    # A plain INSERT (the row is never changed, and no relationship holds it): the session's
    # unit of work would cost more than the statement. The returned row is not in the session.
    db.session.execute(_AUDIT_INSERT, {column: getattr(row, column) for column in _AUDIT_COLUMNS})
    _seal(sealer, case_id, seal, whole, row.seq, row.hash)
    return row


_AUDIT_INSERT = insert(AuditEvent.__table__)
_AUDIT_COLUMNS = tuple(c.key for c in AuditEvent.__table__.columns if c.key != "id")


def _seal(sealer: Sealer, case_id: int, seal, whole, rows: int, head: str) -> None:
    """The case's seal and the global one after a new row, written with plain statements (the
    unit of work would cost more than they do); a seal the session holds as an object (a check
    earlier in the transaction) is updated there as committed values, so the session and the
    table agree."""
    now = utcnow()
    acc = whole.head if whole is not None else GENESIS
    n_cases = (whole.n_cases or 0) if whole is not None else 0
    if seal is None:
        n_cases += 1
    else:
        acc = add_mac(acc, seal.mac, -1)
    case_mac = sealer.case_mac(sealer.key_id, case_id, rows, head)
    whole_rows = (whole.n_rows or 0) + 1 if whole is not None else 1
    whole_head = add_mac(acc, case_mac)
    values = {
        case_id: {"n_rows": rows, "n_cases": seal.n_cases if seal is not None else 0, "head": head,
                  "key_id": sealer.key_id, "mac": case_mac, "updated_at": now},
        GLOBAL_SEAL: {"n_rows": whole_rows, "n_cases": n_cases, "head": whole_head,
                      "key_id": sealer.key_id, "updated_at": now,
                      "mac": sealer.global_mac(sealer.key_id, whole_rows, n_cases, whole_head)},
    }
    loaded = {key: row for key, row in ((case_id, seal), (GLOBAL_SEAL, whole)) if row is not None}
    new = [{"case_id": key, **row} for key, row in values.items() if key not in loaded]
    if new:
        db.session.execute(_SEAL_INSERT, new)
    if loaded:
        db.session.execute(_SEAL_UPDATE, [
            {f"b_{name}": value for name, value in {"case_id": key, **values[key]}.items()}
            for key in loaded])
    for key in loaded:
        held = db.session.identity_map.get(identity_key(AuditSeal, key))
        if held is not None:
            for name, value in values[key].items():
                set_committed_value(held, name, value)


_SEAL_TABLE = AuditSeal.__table__
_SEAL_INSERT = insert(_SEAL_TABLE)
_SEAL_UPDATE = update(_SEAL_TABLE).where(_SEAL_TABLE.c.case_id == bindparam("b_case_id")).values(
    {name: bindparam(f"b_{name}") for name in ("n_rows", "n_cases", "head", "key_id", "mac",
                                                "updated_at")})


# ------------------------------------------------------------------ checking


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad: dict | None
    problem: str | None = None  # Dutch, plain language: what is wrong
    reference: str | None = None  # the case's reference, when the case still exists


class _Broken(Exception):
    def __init__(self, case_id: int, seq: int, problem: str) -> None:
        super().__init__(problem)
        self.case_id, self.seq, self.problem = case_id, seq, problem


def _by_case(stream, key):
    """Group a stream sorted by case id: yields (case_id, [items])."""
    group, current = [], None
    for item in stream:
        k = key(item)
        if k != current and group:
            yield current, group
            group = []
        current = k
        group.append(item)
    if group:
        yield current, group


def _check_chain(sealer: Sealer, case_id: int, rows: list, counter: list) -> None:
    expected_seq, prev_hash, keyed = 1, GENESIS, False
    for row in rows:
        counter[0] += 1
        if row.seq != expected_seq:
            missing = "ontbreekt" if row.seq > expected_seq else "staat er dubbel"
            raise _Broken(case_id, row.seq, f"regel {expected_seq} {missing}: de volgorde is verbroken")
        if row.prev_hash != prev_hash:
            raise _Broken(case_id, row.seq, "de regel verwijst niet naar de regel ervoor: de keten is verbroken")
        if row.hash != row_hash(row):
            raise _Broken(case_id, row.seq, "het controlegetal (hash) klopt niet: de regel is veranderd")
        if row.key_id is None:
            if keyed:
                raise _Broken(case_id, row.seq, "de regel heeft geen sleutelzegel, maar een eerdere "
                                                "regel wel: de regel is buiten de applicatie om geschreven")
        else:
            keyed = True
            expected = sealer.row_mac(row.key_id, row.hash)
            if expected is None:
                raise _Broken(case_id, row.seq, f"de regel is verzegeld met een onbekende sleutel "
                                                f"'{row.key_id}' (zet die in CASEWORK_AUDIT_KEYS_OLD)")
            if not hmac.compare_digest(expected, row.mac or ""):
                raise _Broken(case_id, row.seq, "het sleutelzegel klopt niet: de regel is buiten de "
                                                "applicatie om geschreven of opnieuw berekend")
        prev_hash, expected_seq = row.hash, expected_seq + 1


def _check_seal(sealer: Sealer, case_id: int, seal: AuditSeal | None, rows: list) -> None:
    last = rows[-1] if rows else None
    if seal is None:
        raise _Broken(case_id, last.seq if last else 0,
                      "de keten van de zaak heeft geen verzegeling: een verzegeling is verwijderd")
    expected = sealer.case_mac(seal.key_id, case_id, seal.n_rows, seal.head)
    if expected is None:
        raise _Broken(case_id, 0, f"de verzegeling gebruikt een onbekende sleutel '{seal.key_id}' "
                                  "(zet die in CASEWORK_AUDIT_KEYS_OLD)")
    if not hmac.compare_digest(expected, seal.mac or ""):
        raise _Broken(case_id, 0, "de verzegeling van de keten klopt niet: ze is buiten de applicatie "
                                  "om veranderd")
    found = len(rows)
    if found < seal.n_rows:
        raise _Broken(case_id, found + 1,
                      f"de keten telt {found} regels, de verzegeling {seal.n_rows}: "
                      f"{'alle regels zijn' if found == 0 else 'de laatste regel is'} verwijderd")
    if found > seal.n_rows:
        raise _Broken(case_id, seal.n_rows + 1, f"de keten telt {found} regels, de verzegeling "
                                              f"{seal.n_rows}: er is een regel bijgeschreven")
    if last.hash != seal.head:
        raise _Broken(case_id, last.seq, "de laatste regel is niet de verzegelde laatste regel: "
                                         "de keten is vervangen of opnieuw berekend")


def verify_chains(batch: int = 5000) -> VerifyResult:
    """Check every chain, its seal and its case, and the global seal; stop at the first problem.

    Streams rows, seals and cases side by side in case order (server-side cursors on
    PostgreSQL), so memory stays flat at any size."""
    sealer = Sealer()
    counter = [0]
    total_rows, total_cases, acc, reference = 0, 0, GENESIS, None
    rows_q = (select(AuditEvent).order_by(AuditEvent.case_id, AuditEvent.seq)
              .execution_options(yield_per=batch))
    seals_q = (select(AuditSeal).where(AuditSeal.case_id != GLOBAL_SEAL).order_by(AuditSeal.case_id)
               .execution_options(yield_per=batch))
    cases_q = (select(Case.id, Case.reference, Case.state).order_by(Case.id)
               .execution_options(yield_per=batch))
    try:
        # yield_per streams through server-side cursors on PostgreSQL: close them also when we stop early.
        with db.session.scalars(rows_q) as rows, db.session.scalars(seals_q) as seals, \
                db.session.execute(cases_q) as cases:
            chains = _by_case(rows, lambda r: r.case_id)
            seal_iter, case_iter = iter(seals), iter(cases)
            chain, seal, case = next(chains, None), next(seal_iter, None), next(case_iter, None)
            while chain is not None or seal is not None or case is not None:
                case_id = min(x for x in (chain and chain[0], seal and seal.case_id, case and case.id)
                              if x is not None)
                these = chain[1] if chain is not None and chain[0] == case_id else []
                this_seal = seal if seal is not None and seal.case_id == case_id else None
                this_case = case if case is not None and case.id == case_id else None
                reference = this_case.reference if this_case is not None else None
                _check_chain(sealer, case_id, these, counter)
                if this_case is None:
                    raise _Broken(case_id, 0, "de zaak ontbreekt, maar haar auditregels of verzegeling "
                                              "bestaan nog: de zaak is verwijderd")
                if not these and this_seal is None:
                    raise _Broken(case_id, 0, "de zaak heeft geen auditregels: ze is buiten de "
                                              "applicatie om gemaakt of haar keten is verwijderd")
                _check_seal(sealer, case_id, this_seal, these)
                if this_case.state != these[-1].to_state:
                    raise _Broken(case_id, these[-1].seq,
                                  f"de zaak staat op '{this_case.state}', maar de laatste auditregel "
                                  f"zegt '{these[-1].to_state}': de status is buiten een stap om veranderd")
                total_rows, total_cases = total_rows + len(these), total_cases + 1
                acc = add_mac(acc, this_seal.mac)
                if these:
                    chain = next(chains, None)
                if this_seal is not None:
                    seal = next(seal_iter, None)
                case = next(case_iter, None)
        reference = None
        _check_global(sealer, total_rows, total_cases, acc)
    except _Broken as broken:
        return VerifyResult(False, counter[0], {"case_id": broken.case_id, "seq": broken.seq},
                            broken.problem, reference)
    return VerifyResult(True, counter[0], None)


def _check_global(sealer: Sealer, rows: int, cases: int, acc: str) -> None:
    whole = db.session.get(AuditSeal, GLOBAL_SEAL, populate_existing=True)
    if whole is None:
        if rows or cases:
            raise _Broken(GLOBAL_SEAL, 0, "de verzegeling van de hele audit ontbreekt")
        return
    expected = sealer.global_mac(whole.key_id, whole.n_rows, whole.n_cases, whole.head)
    if expected is None:
        raise _Broken(GLOBAL_SEAL, 0, f"de verzegeling van de hele audit gebruikt een onbekende "
                                      f"sleutel '{whole.key_id}' (zet die in CASEWORK_AUDIT_KEYS_OLD)")
    if not hmac.compare_digest(expected, whole.mac or ""):
        raise _Broken(GLOBAL_SEAL, 0, "de verzegeling van de hele audit klopt niet: ze is buiten de "
                                      "applicatie om veranderd")
    if (whole.n_rows, whole.n_cases) != (rows, cases):
        what = ("een zaak met haar keten is verwijderd" if cases < whole.n_cases else
                "er zijn regels verwijderd en een oude verzegeling van een zaak is teruggezet"
                if cases == whole.n_cases else "er is een zaak buiten de applicatie om bijgekomen")
        raise _Broken(GLOBAL_SEAL, 0,
                      f"de audit telt {cases} zaken met {rows} regels, de verzegeling {whole.n_cases} "
                      f"zaken met {whole.n_rows} regels: {what}")
    if whole.head != acc:
        raise _Broken(GLOBAL_SEAL, 0, "de verzegelingen van de zaken passen niet bij de verzegeling "
                                      "van de hele audit: een oude verzegeling is teruggezet")


def reseal(batch: int = 5000) -> int:
    """After a key rotation: seal every case seal and the global seal anew with the current key
    (verify first: resealing a broken trail would hide the break). Row MACs stay as they are;
    their old keys stay in CASEWORK_AUDIT_KEYS_OLD to verify them. Returns the seals changed."""
    sealer = Sealer()
    changed, acc, n_cases = 0, GENESIS, 0
    whole = db.session.scalar(select(AuditSeal).where(AuditSeal.case_id == GLOBAL_SEAL)
                              .with_for_update().execution_options(populate_existing=True))
    seals = db.session.scalars(select(AuditSeal).where(AuditSeal.case_id != GLOBAL_SEAL)
                               .order_by(AuditSeal.case_id).with_for_update()).all()
    for seal in seals:
        if seal.key_id != sealer.key_id:
            seal.key_id = sealer.key_id
            seal.mac = sealer.case_mac(sealer.key_id, seal.case_id, seal.n_rows, seal.head)
            changed += 1
        acc, n_cases = add_mac(acc, seal.mac), n_cases + 1
    if whole is not None:
        whole.head, whole.key_id, whole.updated_at = acc, sealer.key_id, utcnow()
        whole.mac = sealer.global_mac(sealer.key_id, whole.n_rows, whole.n_cases, whole.head)
        changed += 1
    return changed


def seal_existing_chains(connection, config) -> int:
    """Seal chains written before the keyed scheme (the migration that adds seals calls this).

    Their rows keep their plain payload digest and no row MAC; the case seal over their count
    and last hash makes any later change show. Returns the number of chains sealed."""
    from sqlalchemy import insert

    sealer = Sealer(config)
    last = (select(AuditEvent.case_id, func.count().label("n"), func.max(AuditEvent.seq).label("top"))
            .group_by(AuditEvent.case_id).subquery())
    heads = connection.execute(
        select(last.c.case_id, last.c.n, AuditEvent.hash)
        .join(AuditEvent, (AuditEvent.case_id == last.c.case_id) & (AuditEvent.seq == last.c.top))
        .order_by(last.c.case_id)).all()
    acc, rows, now, values = GENESIS, 0, utcnow(), []
    for case_id, n, head in heads:
        mac = sealer.case_mac(sealer.key_id, case_id, n, head)
        values.append({"case_id": case_id, "n_rows": n, "n_cases": 0, "head": head,
                       "key_id": sealer.key_id, "mac": mac, "updated_at": now})
        acc, rows = add_mac(acc, mac), rows + n
    values.append({"case_id": GLOBAL_SEAL, "n_rows": rows, "n_cases": len(heads), "head": acc,
                   "key_id": sealer.key_id, "mac": sealer.global_mac(sealer.key_id, rows, len(heads), acc),
                   "updated_at": now})
    connection.execute(insert(AuditSeal.__table__), values)
    return len(heads)


def history_count(case_id: int) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.case_id == case_id)) or 0


# ---------------------------------------------------------------- access log

# What an access-log row's MAC covers (besides `at`); services/access_log.py seals and checks.
ACCESS_FIELDS = ("kind", "what", "via", "user_id", "role", "organisation_id", "case_id", "child_id",
                 "activity", "subject")


def access_key(config=None) -> tuple[str, str]:
    """(current key id, key) for new access-log rows and seals."""
    key_id, keys = audit_keys(config)
    return key_id, keys[key_id]


def access_row_mac(key: str, values) -> str:
    """HMAC-SHA256 over one access-log row's content (a dict or a row mapping). Not over its
    id, which is only known after the INSERT: the seals bind each MAC to its id."""
    at = values["at"]
    fields = [values[f] for f in ACCESS_FIELDS] + [at.isoformat() if at is not None else None]
    return _hmac(key, "access", canonical(fields))


def with_access_mac(values: dict, key_id: str | None = None, key: str | None = None) -> dict:
    """The row's values with key_id and mac: computed at the INSERT, no lock and no read."""
    if key is None:
        key_id, key = access_key()
    values["key_id"], values["mac"] = key_id, access_row_mac(key, values)
    return values


# The processing activities (Logboek dataverwerkingen) a read or event can serve.
ACTIVITIES: dict[str, str] = {
    "vrijstelling_5a": "Vrijstelling van de leerplicht (artikel 5a): aanvraag, advies, besluit",
    "verzuim": "Verzuim: melding, onderzoek, aanpak",
    "leerlingadministratie": "Overzicht en registratie van kinderen van de gemeente of school",
    "rapportage": "Rapportages en tellingen met gegevens per kind",
    "duo_uitwisseling": "Uitwisseling met DUO (inlezen, proefimport, export)",
    "ouder_inzage": "Een ouder bekijkt de gegevens van het eigen kind",
    "beheer": "Beheer: gebruikers, scholen, logboek",
    "beveiliging": "Inloggen, uitloggen, tokens, geweigerde toegang",
}
# Activity by case type (the case's workflow).
CASE_ACTIVITY = {"vrijstelling_5a": "vrijstelling_5a", "verzuim": "verzuim"}

# Security events (kind "beveiliging"), as stored in `what`.
SECURITY_EVENTS = ("inloggen", "inloggen_mislukt", "inloggen_geblokkeerd", "uitloggen",
                   "token_aangemaakt", "token_ingetrokken", "toegang_geweigerd",
                   "toegangslog_opgeschoond")


def current_channel() -> str:
    """api, web or cli: where the request came in."""
    from flask import has_request_context, request

    if not has_request_context():
        return "cli"
    return "api" if request.blueprint == "api" else "web"


def _who(user) -> dict:
    if user is None:
        return {"user_id": None, "role": None, "organisation_id": None}
    return {"user_id": user.id, "role": user.role, "organisation_id": user.organisation_id}


def _activity_for(user, activity: str | None, case_type: str | None = None) -> str:
    if activity:
        return activity
    if user is not None and user.role == "ouder":
        return "ouder_inzage"
    if user is not None and user.role == "beheerder" and not case_type:
        return "beheer"
    return CASE_ACTIVITY.get(case_type or "", "leerlingadministratie")


def log_access(user, case_id: int | None, what: str, via: str | None = None, *,
               child_id: int | None = None, activity: str | None = None) -> None:
    """One read by `user`: one INSERT in the request's transaction. The case's child and
    workflow (the processing activity) are filled in by the INSERT itself when not given."""
    from casework.models import Case

    values = {**_who(user), "case_id": case_id, "what": what[:64],
              "via": via or current_channel(), "kind": "lezen", "at": utcnow(), "subject": None}
    case_activity = activity is None and case_id is not None and (user is None or user.role != "ouder")
    # The MAC covers the child and activity, so they are known here: the case is nearly always
    # in the session already (no query), else one primary-key read.
    case = db.session.get(Case, case_id) if case_id is not None and (
        child_id is None or case_activity) else None
    values["child_id"] = (case.child_id if case is not None else None) if (
        case_id is not None and child_id is None) else child_id
    values["activity"] = (case.type if case is not None else None) if case_activity else (
        _activity_for(user, activity))
    db.session.execute(_ACCESS_INSERT, with_access_mac(values))


# A plain INSERT of one row, built once (every read of a case writes one).
_ACCESS_INSERT = insert(AccessLog.__table__)


def log_reads(user, rows, what: str, via: str | None = None, *, activity: str | None = None) -> None:
    """A list page: one row per (case_id, child_id, case_type) shown, in one bulk INSERT.
    `rows` holds (case_id or None, child_id, case type or None)."""
    if user is None:
        return
    who, channel, now = _who(user), via or current_channel(), utcnow()
    key_id, key = access_key()
    params = [with_access_mac({**who, "case_id": case_id, "child_id": child_id, "what": what[:64],
                               "via": channel, "kind": "lezen", "subject": None,
                               "activity": _activity_for(user, activity, case_type), "at": now},
                              key_id, key)
              for case_id, child_id, case_type in rows]
    if params:  # one executemany of the plain INSERT (the ORM's bulk insert costs more)
        db.session.execute(_ACCESS_INSERT, params)


def subject_hash(email: str) -> str:
    """A keyed hash of an e-mail address: the log can tell repeated attempts on one address
    apart without holding the address."""
    from casework.auth import _keyed  # the same value as login_attempts.account

    return _keyed("account", (email or "").strip().lower())


def log_security(event: str, user=None, *, email: str | None = None, detail: str | None = None,
                 via: str | None = None) -> None:
    """A security event in the request's transaction (the caller commits)."""
    what = event if not detail else f"{event}:{detail}"
    db.session.execute(insert(AccessLog).values(**with_access_mac(dict(
        **_who(user), what=what[:64], via=via or current_channel(), kind="beveiliging",
        activity="beveiliging", at=utcnow(), case_id=None, child_id=None,
        subject=subject_hash(email) if (user is None and email) else None))))


def log_security_now(event: str, user=None, **kw) -> None:
    """A security event on a refused request: what the request did is rolled back (errors
    change nothing), the event is committed."""
    db.session.rollback()
    log_security(event, user, **kw)
    db.session.commit()


# ---------------------------------------------------------------- reading the access log

# What was read or done, in plain words (parents and the beheerder read these).
WHAT_LABELS = {
    "identiteit": "Naam en gegevens van het kind in een zaak",
    "advies": "Advies in een zaak",
    "verklaring": "Verklaring van de jeugdarts",
    "medische_notitie": "Medische gegevens",
    "brief": "Een brief",
    "zaken_lijst": "Lijst met zaken",
    "zaken_zoeken": "Zoeken in zaken",
    "kinderen_lijst": "Lijst met kinderen",
    "kinderen_zoeken": "Zoeken naar een kind op naam",
    "bsn_zoeken": "Zoeken naar een kind op BSN",
    "kind_registreren": "Controle van het BSN bij het registreren van een kind",
    "duo_proefimport": "Proefimport van een bestand van DUO",
    "duo_import": "Import van een bestand van DUO",
    "duo_export": "Verzuimstatus voor DUO",
    "duo_vrijstellingen": "Vrijstellingen voor DUO",
    "logboek_inzage": "Het logboek van wie gegevens bekeek",
    "inloggen": "Ingelogd",
    "inloggen_mislukt": "Inloggen mislukt",
    "inloggen_geblokkeerd": "Inloggen geweigerd na te veel pogingen",
    "uitloggen": "Uitgelogd",
    "token_aangemaakt": "Token aangemaakt",
    "token_ingetrokken": "Token ingetrokken",
    "tweestaps_hersteld": "Tweestapsverificatie van een gebruiker hersteld",
    "toegang_geweigerd": "Toegang geweigerd",
    "toegangslog_opgeschoond": "Regels van het toegangslog na de bewaartermijn verwijderd",
}
CHANNEL_LABELS = {"api": "Koppeling (API)", "web": "Website", "cli": "Opdracht op de server"}


def what_label(what: str) -> str:
    code = what.split(":", 1)[0]
    return WHAT_LABELS.get(code, code.replace("_", " "))


@dataclass
class AccessEntry:
    id: int
    at: object
    kind: str
    what: str
    what_label: str
    activity: str | None
    activity_label: str
    via: str
    role: str | None
    organisation: str | None
    child_id: int | None
    case_id: int | None
    user_id: int | None
    user_name: str | None  # never shown to parents
    subject: str | None


def _log_conditions(scope, child_id: int | None, user_id: int | None) -> list:
    conditions = [scope]
    if child_id is not None:
        conditions.append(AccessLog.child_id == child_id)
    if user_id is not None:
        conditions.append(AccessLog.user_id == user_id)
    return conditions


def access_log_count(scope, *, child_id: int | None = None, user_id: int | None = None) -> int:
    return db.session.scalar(select(func.count(AccessLog.id))
                             .where(*_log_conditions(scope, child_id, user_id))) or 0


def access_log_page(scope, *, child_id: int | None = None, user_id: int | None = None,
                    page: int = 1, per_page: int | None = 25) -> tuple[list[AccessEntry], int]:
    """The rows in `scope` (policy.access_log_scope), newest first; per_page None: all."""
    from casework.models import Organisation, User

    conditions = _log_conditions(scope, child_id, user_id)
    total = access_log_count(scope, child_id=child_id, user_id=user_id)
    query = (select(AccessLog, Organisation.naam, User.naam)
             .outerjoin(Organisation, Organisation.id == AccessLog.organisation_id)
             .outerjoin(User, User.id == AccessLog.user_id)
             .where(*conditions).order_by(AccessLog.at.desc(), AccessLog.id.desc()))
    if per_page is not None:
        query = query.limit(per_page).offset((max(page, 1) - 1) * per_page)
    entries = [AccessEntry(
        id=row.id, at=row.at, kind=row.kind, what=row.what, what_label=what_label(row.what),
        activity=row.activity, activity_label=ACTIVITIES.get(row.activity or "", ""),
        via=row.via, role=row.role, organisation=org, child_id=row.child_id, case_id=row.case_id,
        user_id=row.user_id, user_name=name, subject=row.subject)
        for row, org, name in db.session.execute(query)]
    return entries, total
