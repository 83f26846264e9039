"""DUO: batch intake of verzuimmeldingen, and the handling status reported back (art. 21a lid 6).

Import file (DUO's verzuim export, as a spreadsheet saves it): UTF-8 (with or without BOM), a
header row, `;` as separator (`,` is accepted too), columns in any order:

    bsn;brin;verzuimsoort;uren;periode_start;periode_eind;omschrijving

`omschrijving` may be left out. Dates are `JJJJ-MM-DD` or `DD-MM-JJJJ`; `uren` is a whole
number. `verzuimsoort` carries DUO's code:

    V3   16 uur ongeoorloofd verzuim in 4 weken   -> 16_uur_4_weken
    V4   langdurig relatief verzuim               -> langdurig_relatief
    LRV  langdurig relatief verzuim (same)        -> langdurig_relatief
    L    luxeverzuim                              -> luxe
    O    overig verzuim                           -> overig

Every row is a `melding` opened through open_case() as a system intake (role `duo_import`), so
it gets the workflow's own checks, its audit row and its letters. An import is all or nothing:
one refused row and nothing is created; duplicates (same child, verzuimsoort and period as an
existing verzuim case, or as an earlier row of the file) are skipped and do not block. The
report never holds a full BSN.

Status export: one line per melding received in a period, with the DUO status of its state
(R, B, G, K, I — never D, which DUO dropped in 2020; see workflows/verzuim.duo_status) and the date of its last change.
"""
from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal, NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import aliased

from casework.extensions import db
from casework.models import AccessLog, Case, Child, Organisation, User, utcnow
from casework.workflows.verzuim import CASE_TYPE, duo_status_of

from . import audit
from .cases import commit, open_case
from .errors import Conflict, DomainError, ValidationFailed
from .letters import _PENDING_KEY
from .tabular import Table

log = logging.getLogger(__name__)

CODES = {
    "V3": "16_uur_4_weken",
    "V4": "langdurig_relatief",
    "LRV": "langdurig_relatief",
    "L": "luxe",
    "O": "overig",
}
# The code written back to DUO for each verzuimsoort.
EXPORT_CODES = {"16_uur_4_weken": "V3", "langdurig_relatief": "V4", "luxe": "L", "overig": "O"}
_CODE_LIST = "V3, V4, LRV, L of O"

REQUIRED_COLUMNS = ("bsn", "brin", "verzuimsoort", "uren", "periode_start", "periode_eind")
OPTIONAL_COLUMNS = ("omschrijving",)
EXPORT_COLUMNS = ("kenmerk", "bsn", "brin", "verzuimsoort_code", "ontvangen_op", "duo_status",
                  "status_datum")
MAX_BYTES = 5_000_000
MAX_ROWS = 5000
MAX_UREN = 2000

_NOTHING = "Er is niets geïmporteerd."
UNKNOWN_BSN = "Onbekend BSN: er staat geen leerling met dit BSN in uw gemeente."
# Only when the import is for several gemeenten that each have a record of this BSN.
AMBIGUOUS_BSN = ("Dit BSN staat in meer dan één van de gekozen gemeenten ingeschreven. "
                 "Importeer het bestand per gemeente (--gemeente).")
_DATE_LABELS = {"periode_start": "het begin van de periode", "periode_eind": "het einde van de periode",
                "begindatum": "de begindatum", "einddatum": "de einddatum",
                "herbeoordelingsdatum": "de herbeoordelingsdatum"}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NL = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")

RowStatus = Literal["created", "valid", "refused", "duplicate"]
# created: made in this import; valid: passes every check but was not made (dry run, or the
# import was blocked by a refused row); refused: see reason; duplicate: skipped, see reason.
STATUS_LABELS = {"created": "Aangemaakt", "valid": "In orde", "refused": "Geweigerd",
                 "duplicate": "Dubbel, overgeslagen"}


# ---------------------------------------------------------------- report

@dataclass
class ImportRow:
    line: int
    bsn: str  # masked: only the last 3 digits show
    brin: str
    verzuimsoort: str  # the code as it stood in the file
    status: RowStatus = "valid"
    reason: str = ""
    reference: str | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class ImportReport:
    dry_run: bool
    rows: list[ImportRow] = field(default_factory=list)
    error: str | None = None  # the file as a whole could not be read; nothing was imported
    summary: str = ""
    # The children of the user's gemeenten the file named (written to the access log).
    child_ids: list[int] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUS_LABELS}
        for row in self.rows:
            counts[row.status] += 1
        return counts | {"total": len(self.rows)}

    @property
    def ok(self) -> bool:
        return self.error is None and not any(r.status == "refused" for r in self.rows)

    def refused_fields(self) -> dict[str, list[str]]:
        """Refused rows as an error's `fields`: {"regel 3": ["Onbekend BSN ..."]}."""
        return {f"regel {r.line}": [r.reason] for r in self.rows if r.status == "refused"}

    def lines(self) -> list[str]:
        """The report as plain text lines (CLI)."""
        out = [f"regel {r.line:>4}  {r.bsn:<9}  {r.status_label:<20}  "
               f"{r.reference or r.reason}".rstrip() for r in self.rows]
        return [*out, self.summary]


def mask_bsn(value: str) -> str:
    value = value.strip()[:20]
    return "*" * max(len(value) - 3, 0) + value[-3:] if len(value) > 3 else "*" * len(value)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _summarise(report: ImportReport) -> str:
    if report.error:
        return report.error
    c = report.counts
    if not report.rows:
        return "Het bestand bevat geen meldingen; er is niets aangemaakt."
    head = "Proefimport: " if report.dry_run else ""
    if c["refused"]:
        tail = ("Bij importeren wordt niets aangemaakt zolang er een regel geweigerd wordt"
                if report.dry_run else _NOTHING + " Er wordt niets aangemaakt zolang er een regel "
                "geweigerd wordt")
        return (f"{head}{c['refused']} van de {c['total']} regels geweigerd. {tail}: verbeter "
                "die regels en importeer daarna het hele bestand.")
    dubbel = (f" {_plural(c['duplicate'], 'regel is dubbel', 'regels zijn dubbel')} en "
              f"{'wordt' if c['duplicate'] == 1 else 'worden'} overgeslagen." if c["duplicate"] else "")
    if report.dry_run:
        if not c["valid"]:
            return f"{head}er is niets nieuws om te importeren.{dubbel}"
        return (f"{head}{_plural(c['valid'], 'regel is', 'regels zijn')} in orde.{dubbel} Er is "
                "niets opgeslagen; importeer het bestand om de meldingen aan te maken.")
    if not c["created"]:
        return f"Er is niets nieuws geïmporteerd.{dubbel}"
    return f"{_plural(c['created'], 'melding', 'meldingen')} aangemaakt.{dubbel}"


# ---------------------------------------------------------------- parsing

@dataclass
class _Parsed:
    row: ImportRow
    bsn: str | None = None  # 9 digits when valid
    brin: str = ""
    verzuimsoort: str | None = None
    uren: int | None = None
    periode_start: date | None = None
    periode_eind: date | None = None
    omschrijving: str = ""
    errors: list[str] = field(default_factory=list)


def _decode(file_bytes: bytes) -> str:
    try:
        text = file_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = file_bytes.count(b"\n", 0, exc.start) + 1
        raise ValidationFailed(
            f"Het bestand is geen UTF-8 (regel {line} bevat tekens die niet te lezen zijn, "
            "bijvoorbeeld een ë uit een ander tekenformaat); sla het op als CSV UTF-8 en "
            f"probeer het opnieuw. {_NOTHING}") from None
    if "\x00" in text:  # UTF-16 ("Unicode-tekst") or a binary file is valid UTF-8 with NULs
        raise ValidationFailed(
            "Het bestand is geen UTF-8 (het lijkt UTF-16 of geen tekstbestand); sla het op als "
            f"CSV UTF-8 en probeer het opnieuw. {_NOTHING}")
    return text


def _parse_date(value: str, column: str, errors: list[str]) -> date | None:
    value = value.strip()
    if not value:
        return None  # the workflow says that the period is required
    iso, nl = _ISO.match(value), _NL.match(value)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if nl:
            return date(int(nl[3]), int(nl[2]), int(nl[1]))
    except ValueError:
        pass
    errors.append(f"De datum '{value[:20]}' bij {_DATE_LABELS[column]} is ongeldig: "
                  "gebruik JJJJ-MM-DD of DD-MM-JJJJ.")
    return None


def _parse_row(line: int, cells: dict[str, str]) -> _Parsed:
    raw_bsn = cells["bsn"].strip().replace(" ", "")
    bsn = raw_bsn.zfill(9) if raw_bsn.isdigit() and len(raw_bsn) == 8 else raw_bsn  # Excel drops a leading 0
    code = cells["verzuimsoort"].strip().upper()
    p = _Parsed(ImportRow(line=line, bsn=mask_bsn(bsn), brin=cells["brin"].strip().upper()[:16],
                          verzuimsoort=code[:10]),
                brin=cells["brin"].strip().upper(), omschrijving=cells.get("omschrijving", "").strip())
    if bsn.isascii() and bsn.isdigit() and len(bsn) == 9:
        p.bsn = bsn
    else:
        p.errors.append("Het BSN is ongeldig: een BSN heeft 9 cijfers.")
    if not p.brin:
        p.errors.append("De BRIN-code van de school ontbreekt.")
    if code in CODES:
        p.verzuimsoort = CODES[code]
    elif not code:
        p.errors.append(f"De verzuimsoort ontbreekt: gebruik {_CODE_LIST}.")
    else:
        p.errors.append(f"Onbekende verzuimsoort '{code[:10]}': gebruik {_CODE_LIST}.")
    uren = cells["uren"].strip()
    if uren:
        if uren.isascii() and uren.isdigit() and int(uren) <= MAX_UREN:
            p.uren = int(uren)
        else:
            p.errors.append(f"Het aantal uren '{uren[:10]}' is ongeldig: vul een geheel getal "
                            f"van 0 tot en met {MAX_UREN} in.")
    p.periode_start = _parse_date(cells["periode_start"], "periode_start", p.errors)
    p.periode_eind = _parse_date(cells["periode_eind"], "periode_eind", p.errors)
    return p


def _read_rows(text: str) -> list[_Parsed]:
    """Every data row of the file, parsed; raises ValidationFailed when the file itself is unusable."""
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise ValidationFailed(f"Het bestand is leeg. {_NOTHING}")
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header: list[str] | None = None
        parsed: list[_Parsed] = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # empty lines, or ";;;;;;" left by a spreadsheet
            if header is None:
                header = [c.strip().strip('"').lower().replace(" ", "_") for c in cells]
                missing = [c for c in REQUIRED_COLUMNS if c not in header]
                if missing:
                    raise ValidationFailed(
                        f"De kopregel mist de kolom(men) {', '.join(missing)}. Verwacht: "
                        f"{';'.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)} (gescheiden door ; of ,). "
                        + _NOTHING)
                continue
            if len(parsed) >= MAX_ROWS:
                raise ValidationFailed(f"Het bestand heeft meer dan {MAX_ROWS} meldingen; splits "
                                       f"het in kleinere bestanden. {_NOTHING}")
            line = reader.line_num
            if len(cells) != len(header):
                p = _Parsed(ImportRow(line=line, bsn=mask_bsn(cells[header.index("bsn")])
                                      if len(cells) > header.index("bsn") else "",
                                      brin="", verzuimsoort=""))
                p.errors.append(
                    f"Deze regel heeft {len(cells)} kolommen, de kopregel {len(header)}. "
                    + ("Staat er een scheidingsteken in de omschrijving? Zet die dan tussen "
                       "aanhalingstekens." if len(cells) > len(header) else ""))
                parsed.append(p)
                continue
            parsed.append(_parse_row(line, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        raise ValidationFailed(f"Het bestand is geen leesbaar CSV-bestand (regel {reader.line_num}: "
                               f"{exc}). {_NOTHING}") from None
    if header is None:
        raise ValidationFailed(f"Het bestand is leeg. {_NOTHING}")
    return parsed


# ---------------------------------------------------------------- import

def _refuse(p: _Parsed, reasons: list[str]) -> None:
    p.row.status, p.row.reason = "refused", " ".join(dict.fromkeys(r.strip() for r in reasons))


def _domain_reasons(exc: DomainError) -> list[str]:
    messages = [m for ms in exc.fields.values() for m in ms]
    return messages or [exc.message]


def _existing_meldingen(child_ids: set[int]) -> dict[tuple, str]:
    """(child, verzuimsoort, start, eind) -> reference, for every verzuim case of these children."""
    if not child_ids:
        return {}
    found: dict[tuple, str] = {}
    for case in db.session.scalars(select(Case).where(Case.type == CASE_TYPE,
                                                      Case.child_id.in_(child_ids))):
        d = case.data or {}
        if d.get("verzuimsoort"):
            found.setdefault((case.child_id, d["verzuimsoort"], d.get("periode_start"),
                              d.get("periode_eind")), case.reference or "")
    return found


def _check_and_open(parsed: list[_Parsed], *, dry_run: bool, gemeente_ids: list[int] | None,
                    read: list[int] | None = None) -> tuple[list[tuple[_Parsed, Case]], list[int]]:
    """Every row's verdict on its ImportRow; the cases opened and their letters (real import)."""
    bsns = sorted({p.bsn for p in parsed if p.bsn})
    # Each gemeente has its own record of a child (one per BSN and gemeente): only the records
    # of the importing gemeente(s) are read, so a child known only elsewhere is an unknown BSN.
    query = select(Child).where(Child.bsn.in_(bsns)).order_by(Child.id)
    if gemeente_ids is not None:
        query = query.where(Child.gemeente_id.in_(gemeente_ids))
    if not dry_run:
        # Two imports of overlapping files wait for each other instead of both creating a case.
        query = query.with_for_update()
    children: dict[str, list[Child]] = {}
    for c in (db.session.scalars(query) if bsns else ()):
        children.setdefault(c.bsn, []).append(c)
    brins = sorted({p.brin for p in parsed if p.brin})
    schools = {o.code: o for o in db.session.scalars(
        select(Organisation).where(Organisation.kind == "school", Organisation.code.in_(brins)))
    } if brins else {}
    existing = _existing_meldingen({c.id for found in children.values() for c in found})
    seen: dict[tuple, int] = {}
    created: list[tuple[_Parsed, Case]] = []
    letter_ids: list[int] = []

    for p in parsed:
        errors = list(p.errors)
        school = schools.get(p.brin) if p.brin else None
        found = children.get(p.bsn, []) if p.bsn else []
        if len(found) > 1:
            # Only with several gemeenten in scope: the record at the reporting school.
            found = [c for c in found if school is not None and c.school_id == school.id] or found
        child = found[0] if len(found) == 1 else None
        if p.bsn and not found:
            errors.append(UNKNOWN_BSN if gemeente_ids is not None else
                          "Onbekend BSN: er staat geen leerling met dit BSN in het systeem.")
        elif len(found) > 1:
            errors.append(AMBIGUOUS_BSN)
        if child is not None and read is not None and child.id not in read:
            read.append(child.id)
        if p.brin and school is None:
            errors.append(f"Onbekende school: er is geen school met BRIN-code '{p.brin[:16]}'.")
        elif child is not None and school is not None and child.school_id != school.id:
            errors.append(f"De leerling staat niet ingeschreven op school {school.code}.")
        if errors:
            _refuse(p, errors)
            continue

        key = (child.id, p.verzuimsoort, p.periode_start.isoformat() if p.periode_start else None,
               p.periode_eind.isoformat() if p.periode_eind else None)
        if key in seen:
            p.row.status = "duplicate"
            p.row.reason = f"Dubbel: dezelfde melding staat al op regel {seen[key]} van dit bestand."
            continue
        if key in existing:
            p.row.status = "duplicate"
            p.row.reason = f"Dubbel: deze melding is al geregistreerd ({existing[key]})."
            continue

        data = {"child_id": child.id, "soort": "melding", "verzuimsoort": p.verzuimsoort,
                "uren": p.uren, "periode_start": key[2], "periode_eind": key[3],
                "omschrijving": p.omschrijving}
        # The workflow's own checks run by really opening the case, each in a savepoint. The
        # session enqueues recorded letters on any commit, a savepoint's too: take the new
        # letters out first, so that only the import's own final commit enqueues them.
        savepoint = db.session.begin_nested()
        try:
            case = open_case(None, CASE_TYPE, data, actor_role="duo_import")
        except DomainError as exc:
            db.session.info.pop(_PENDING_KEY, None)
            if savepoint.is_active:
                savepoint.rollback()
            _refuse(p, _domain_reasons(exc))
            continue
        new_letters = db.session.info.pop(_PENDING_KEY, [])
        if dry_run:
            savepoint.rollback()
        else:
            savepoint.commit()
            created.append((p, case))
            letter_ids.extend(new_letters)
        seen[key] = p.row.line

    return created, letter_ids


def import_meldingen(file_bytes: bytes, *, dry_run: bool, gemeente_ids: list[int] | None,
                     reader: User | None = None) -> ImportReport:
    """Check every row of a DUO file and, unless dry_run or a row is refused, create its melding.

    This is the transaction boundary of an import: a real import with no refused row commits
    every new case (with its audit row and letters) at once; anything else rolls back, so a
    dry run or a refused import writes nothing. gemeente_ids None: no gemeente restriction.
    """
    report = ImportReport(dry_run=dry_run)
    try:
        if len(file_bytes) > MAX_BYTES:
            raise ValidationFailed(f"Het bestand is te groot (meer dan {MAX_BYTES // 1_000_000} MB). "
                                   + _NOTHING)
        parsed = _read_rows(_decode(file_bytes))
    except ValidationFailed as exc:
        report.error = exc.message
        report.summary = _summarise(report)
        return report
    report.rows = [p.row for p in parsed]

    # Letters the caller recorded are enqueued by our commit, or dropped with our rollback.
    pending = db.session.info.pop(_PENDING_KEY, [])
    try:
        created, letter_ids = _check_and_open(parsed, dry_run=dry_run, gemeente_ids=gemeente_ids,
                                              read=report.child_ids)
        if dry_run or not report.ok:
            db.session.rollback()
        else:
            db.session.info[_PENDING_KEY] = [*pending, *letter_ids]
            commit()
    except Conflict:
        db.session.rollback()
        report.error = ("Het importeren is mislukt doordat tegelijk iemand anders dezelfde "
                        f"gegevens wijzigde. {_NOTHING} Probeer het opnieuw.")
    except BaseException:
        db.session.rollback()  # never half an import
        raise
    else:
        if not dry_run and report.ok:
            for p, case in created:
                p.row.status, p.row.reference = "created", case.reference
    report.summary = _summarise(report)
    if reader is not None and report.child_ids:
        # After the import's own commit or rollback: a dry run or a refused file is logged too.
        audit.log_reads(reader, [(None, cid, None) for cid in sorted(report.child_ids)],
                        "duo_proefimport" if dry_run else "duo_import", activity="duo_uitwisseling")
        db.session.commit()
    log.info("DUO-import%s: %s", " (proef)" if dry_run else "", report.summary)
    return report


# ---------------------------------------------------------------- status export

def _log_reads(reader: User | None, case_ids: list[int], what: str, via: str) -> None:
    """One access-log row per case in the file, written in one statement, in case order: the
    foreign-key checks and the case_id index then walk their pages once, in order (a year of a
    large gemeente is tens of thousands of rows; cold, each page out of order is a disk read)."""
    if reader is not None and case_ids:
        ids = sorted(case_ids)
        key_id, key = audit.access_key()
        now = utcnow()
        for start in range(0, len(ids), 5000):  # the child comes from its case, in case order
            chunk = ids[start:start + 5000]
            pairs = db.session.execute(select(Case.id, Case.child_id).where(Case.id.in_(chunk))
                                       .order_by(Case.id)).all()
            # Each row's MAC (services/audit.access_row_mac) is computed here, so no INSERT ... SELECT.
            db.session.execute(insert(AccessLog), [audit.with_access_mac(
                {"user_id": reader.id, "role": reader.role, "organisation_id": reader.organisation_id,
                 "case_id": case_id, "child_id": child_id, "what": what[:64], "via": via,
                 "kind": "lezen", "activity": "duo_uitwisseling", "subject": None, "at": now},
                key_id, key) for case_id, child_id in pairs])


def meldingen_in_period(gemeente_ids: list[int] | None, date_from: date, date_to: date) -> list:
    """The verzuimmeldingen (not signalen) received from date_from to date_to, both included, as
    _Melding rows in order of receipt — columns only, no case objects: a year of a large gemeente
    has tens of thousands."""
    if date_to < date_from:
        raise ValidationFailed("De einddatum ligt voor de begindatum.",
                               {"tot": ["Kies een einddatum op of na de begindatum."]})
    school = aliased(Organisation)
    # ontvangen_op is the local date of created_at (UTC): a day of margin, then exact in Python.
    query = (select(Case.id, Case.reference, Child.bsn, school.code.label("brin"),
                    Case.data["verzuimsoort"].as_string().label("verzuimsoort"),
                    Case.data["ontvangen_op"].as_string().label("ontvangen_op"),
                    Case.created_at, Case.state,
                    Case.data["afsluiting"].as_string().label("afsluiting"), Case.updated_at)
             .join(Child, Child.id == Case.child_id)
             .outerjoin(school, school.id == Case.school_id)
             .where(Case.type == CASE_TYPE, Case.data["soort"].as_string() == "melding",
                    Case.created_at >= datetime.combine(date_from - timedelta(days=1), time()),
                    Case.created_at < datetime.combine(date_to + timedelta(days=2), time())))
    if gemeente_ids is not None:
        query = query.where(Case.gemeente_id.in_(gemeente_ids))
    found = []
    for row in db.session.execute(query):
        received = date.fromisoformat(row.ontvangen_op) if row.ontvangen_op else row.created_at.date()
        if date_from <= received <= date_to:
            found.append((received, row.id, _Melding(
                row.id, row.reference, row.bsn, row.brin, row.verzuimsoort, received,
                duo_status_of(row.state, row.afsluiting), row.updated_at.date())))
    return [melding for *_, melding in sorted(found, key=lambda t: t[:2])]


class _Melding(NamedTuple):
    id: int
    reference: str
    bsn: str
    brin: str | None
    verzuimsoort: str | None
    ontvangen_op: date
    duo_status: str
    status_datum: date


def duo_status_table(gemeente_ids: list[int] | None, date_from: date, date_to: date, *,
                     reader: User | None = None, via: str = "cli") -> Table:
    """One row per melding: kenmerk;bsn;brin;verzuimsoort_code;ontvangen_op;duo_status;status_datum.

    The file holds BSNs, so a reader (web or API user) is written to the access log per case;
    the caller commits.
    """
    rows = meldingen_in_period(gemeente_ids, date_from, date_to)
    table = Table("Verzuimstatus voor DUO", list(EXPORT_COLUMNS), [
        [row.reference, row.bsn, row.brin or "", EXPORT_CODES.get(row.verzuimsoort, ""),
         row.ontvangen_op, row.duo_status, row.status_datum]
        for row in rows])
    _log_reads(reader, [row.id for row in rows], "duo_export", via)
    return table


def export_duo_status(gemeente_ids: list[int] | None, date_from: date, date_to: date, *,
                      reader: User | None = None, via: str = "cli") -> str:
    """duo_status_table() as CSV (`;`) for DUO."""
    return duo_status_table(gemeente_ids, date_from, date_to, reader=reader, via=via).to_csv()


# ---------------------------------------------------------------- vrijstellingenregister export

VRIJSTELLING_COLUMNS = ("kenmerk", "bsn", "geboortedatum", "begindatum", "einddatum", "grond")
VRIJSTELLING_GROND = "5a"  # artikel 5 onder a Leerplichtwet 1969


def _vrijstelling_end(einddatum: date | None, state: str, beeindigd_op: str | None) -> date | None:
    """The day the exemption really ends: its einddatum, or earlier when the case was ended early.

    None: to the end of leerplicht.
    """
    ended_on = date.fromisoformat(beeindigd_op) if state == "beeindigd" and beeindigd_op else None
    if ended_on is None:
        return einddatum
    return ended_on if einddatum is None else min(einddatum, ended_on)


def vrijstellingen_in_period(gemeente_ids: list[int] | None, van: date, tot: date) -> list:
    """Exemptions 5 onder a whose period overlaps van..tot (both included), as rows (id, reference,
    bsn, geboortedatum, ingangsdatum, end) with their real end; columns only, no case objects."""
    if tot < van:
        raise ValidationFailed("De einddatum ligt voor de begindatum.",
                               {"tot": ["Kies een einddatum op of na de begindatum."]})
    from casework.workflows.vrijstelling import CASE_TYPE as VRIJSTELLING

    # The columns give a superset (an early end only shortens the period); exact in Python.
    query = (select(Case.id, Case.reference, Child.bsn, Child.geboortedatum, Case.ingangsdatum,
                    Case.einddatum, Case.state,
                    Case.data["beeindigd_op"].as_string().label("beeindigd_op"))
             .join(Child, Child.id == Case.child_id)
             .where(Case.type == VRIJSTELLING, Case.ingangsdatum.is_not(None),
                    Case.ingangsdatum <= tot,
                    (Case.einddatum.is_(None)) | (Case.einddatum >= van)))
    if gemeente_ids is not None:
        query = query.where(Case.gemeente_id.in_(gemeente_ids))
    found = []
    for row in db.session.execute(query):
        end = _vrijstelling_end(row.einddatum, row.state, row.beeindigd_op)
        if end is not None and (end < van or end < row.ingangsdatum):
            continue  # ended before the period, or before it ever began
        found.append((row.ingangsdatum, row.id, row, end))
    return [_Vrijstelling(row.id, row.reference, row.bsn, row.geboortedatum, row.ingangsdatum, end)
            for *_, row, end in sorted(found, key=lambda t: t[:2])]


class _Vrijstelling(NamedTuple):
    id: int
    reference: str
    bsn: str
    geboortedatum: date
    ingangsdatum: date
    end: date | None


def vrijstellingen_table(gemeente_ids: list[int] | None, van: date, tot: date, *,
                         reader: User | None = None, via: str = "cli") -> Table:
    """One row per exemption 5 onder a whose period overlaps van..tot:
    kenmerk;bsn;geboortedatum;begindatum;einddatum;grond.

    An empty einddatum means: to the end of leerplicht. The file holds BSNs, so a reader (web or
    API user) is written to the access log per case; the caller commits.
    """
    rows = vrijstellingen_in_period(gemeente_ids, van, tot)
    table = Table("Vrijstellingen 5 onder a", list(VRIJSTELLING_COLUMNS), [
        [row.reference, row.bsn, row.geboortedatum, row.ingangsdatum, row.end, VRIJSTELLING_GROND]
        for row in rows], bom=True)
    _log_reads(reader, [row.id for row in rows], "duo_vrijstellingen", via)
    return table


def export_vrijstellingen(gemeente_ids: list[int] | None, van: date, tot: date, *,
                          reader: User | None = None, via: str = "cli") -> str:
    """vrijstellingen_table() as CSV (`;`, UTF-8 with BOM) for DUO's vrijstellingenregister."""
    return vrijstellingen_table(gemeente_ids, van, tot, reader=reader, via=via).to_csv()
