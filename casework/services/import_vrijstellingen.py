"""Exemptions granted under the old rules come in (overgangsrecht): a CSV of
`bsn;begindatum;einddatum;grond[;herbeoordelingsdatum]`, each row a vrijstelling case opened
in `vrijgesteld` by the workflow's own `importeer` event (role `import`, audited, a letter to
the parents). All or nothing: every row is checked before any case is made, so a refused file
(or a dry run) writes nothing and consumes no case number.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from casework.extensions import db
from casework.models import Case, Child

from .cases import commit, open_case
from .duo import (
    ImportReport, ImportRow, _decode, _domain_reasons, _parse_date, _plural, _refuse, mask_bsn,
)
from .errors import DomainError, ValidationFailed

CASE_TYPE = "vrijstelling_5a"
REQUIRED_COLUMNS = ("bsn", "begindatum", "einddatum", "grond")
OPTIONAL_COLUMNS = ("herbeoordelingsdatum",)
GRONDEN = {"5a", "5 a", "5 onder a", "5-a"}  # artikel 5 onder a Leerplichtwet 1969
MAX_ROWS = 5000
_NOTHING = "Er is niets geïmporteerd."


@dataclass
class _Row:
    row: ImportRow
    bsn: str
    data: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _rows(text: str) -> list[_Row]:
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise ValidationFailed(f"Het bestand is leeg. {_NOTHING}")
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[_Row] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip().strip('"').lower() for c in cells]
                missing = [c for c in REQUIRED_COLUMNS if c not in header]
                if missing:
                    raise ValidationFailed(
                        f"De kopregel mist de kolom(men) {', '.join(missing)}. Verwacht: "
                        f"{';'.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}. {_NOTHING}")
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationFailed(f"Het bestand heeft meer dan {MAX_ROWS} regels. {_NOTHING}")
            cells = dict(zip(header, [c.strip() for c in cells]))
            bsn = cells.get("bsn", "").replace(" ", "")
            bsn = bsn.zfill(9) if bsn.isdigit() and len(bsn) == 8 else bsn  # Excel drops a 0
            r = _Row(ImportRow(line=reader.line_num, bsn=mask_bsn(bsn), brin="",
                               verzuimsoort=cells.get("grond", "")[:10]), bsn)
            if len(cells) != len(header):
                r.errors.append(f"Deze regel heeft {len(cells)} kolommen, de kopregel {len(header)}.")
            for column in ("begindatum", "einddatum", "herbeoordelingsdatum"):
                r.data[column] = _parse_date(cells.get(column, ""), column, r.errors)
            r.data["grond"] = cells.get("grond", "").lower()
            rows.append(r)
    except csv.Error as exc:
        raise ValidationFailed(f"Het bestand is geen leesbaar CSV-bestand (regel {reader.line_num}: "
                               f"{exc}). {_NOTHING}") from None
    if header is None:
        raise ValidationFailed(f"Het bestand is leeg. {_NOTHING}")
    return rows


def _check(rows: list[_Row], gemeente_ids: list[int] | None) -> None:
    bsns = {r.bsn for r in rows}
    query = select(Child).where(Child.bsn.in_(bsns))
    if gemeente_ids is not None:
        query = query.where(Child.gemeente_id.in_(gemeente_ids))
    # One record per BSN and gemeente: with several gemeenten in scope a BSN may have two.
    records: dict[str, list[Child]] = {}
    for c in db.session.scalars(query.order_by(Child.id)):
        records.setdefault(c.bsn, []).append(c)
    children = {bsn: found[0] for bsn, found in records.items() if len(found) == 1}
    open_cases = {c.child_id: c.reference for c in db.session.scalars(select(Case).where(
        Case.type == CASE_TYPE, Case.is_open.is_(True),
        Case.child_id.in_([c.id for c in children.values()] or [-1])))}
    seen: dict[str, int] = {}
    for r in rows:
        d = r.data
        if r.bsn in seen:
            r.errors.append(f"Dit BSN staat al op regel {seen[r.bsn]}.")
        seen.setdefault(r.bsn, r.row.line)
        child = children.get(r.bsn)
        if len(records.get(r.bsn, [])) > 1:
            r.errors.append("Dit BSN staat in meer dan één gemeente ingeschreven. Importeer per "
                            "gemeente (--gemeente).")
        elif child is None:
            r.errors.append("Onbekend BSN: er is geen kind met dit BSN"
                            + (" in deze gemeente." if gemeente_ids is not None else "."))
        elif child.id in open_cases:
            r.errors.append(f"Voor dit kind loopt al een zaak ({open_cases[child.id]}).")
        if d["grond"] not in GRONDEN:
            r.errors.append(f"De grond '{d['grond'][:20]}' wordt niet geïmporteerd: alleen 5a "
                            "(artikel 5 onder a).")
        if d["begindatum"] is None and not any("begindatum" in e for e in r.errors):
            r.errors.append("De begindatum ontbreekt.")
        begin, end, herb = d["begindatum"], d["einddatum"], d["herbeoordelingsdatum"]
        if begin and end and end < begin:
            r.errors.append("De einddatum ligt voor de begindatum.")
        if begin and herb and herb <= begin:
            r.errors.append("De herbeoordelingsdatum moet na de begindatum liggen.")
        if end and herb and herb > end:
            r.errors.append("De herbeoordelingsdatum kan niet na de einddatum liggen.")
        if child is not None:
            d["child_id"] = child.id
        if r.errors:
            _refuse(r, r.errors)


def _summary(report: ImportReport, rows: list[_Row]) -> str:
    refused = sum(1 for r in rows if r.row.status == "refused")
    created = sum(1 for r in rows if r.row.status == "created")
    if refused:
        return (f"{_plural(refused, 'regel is', 'regels zijn')} geweigerd. {_NOTHING} "
                "Verbeter het bestand en probeer het opnieuw.")
    if report.dry_run:
        return (f"Proef: {_plural(len(rows), 'vrijstelling is', 'vrijstellingen zijn')} in orde. "
                "Er is niets opgeslagen.")
    return f"{_plural(created, 'vrijstelling', 'vrijstellingen')} geïmporteerd."


def import_vrijstellingen(file_bytes: bytes, *, dry_run: bool,
                          gemeente_ids: list[int] | None = None) -> ImportReport:
    """Check every row; unless it is a dry run and when every row is valid, open every case and
    commit once. Refused rows carry their reason; then nothing is written."""
    report = ImportReport(dry_run=dry_run)
    try:
        rows = _rows(_decode(file_bytes))
    except ValidationFailed as exc:
        report.error = report.summary = exc.message
        return report
    _check(rows, gemeente_ids)
    report.rows = [r.row for r in rows]
    if dry_run or any(r.row.status == "refused" for r in rows):
        report.summary = _summary(report, rows)
        return report
    current = rows[0] if rows else None
    try:
        for r in rows:
            current = r
            payload = {k: (v.isoformat() if isinstance(v, date) else v)
                       for k, v in r.data.items() if k != "grond"}
            case = open_case(None, CASE_TYPE, payload, actor_role="import", event="importeer")
            r.row.status, r.row.reference = "created", case.reference
        commit()
    except DomainError as exc:
        db.session.rollback()
        for r in rows:
            if r.row.status == "created":
                r.row.status, r.row.reference = "valid", None
        _refuse(current, _domain_reasons(exc))
    report.summary = _summary(report, rows)
    return report
