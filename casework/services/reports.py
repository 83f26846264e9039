"""Reports: the yearly leerplichttelling of one gemeente (art. 25 Leerplichtwet 1969) and the
SWV's regional view per gemeente and quarter, small numbers suppressed.

Every figure comes from an aggregate query (COUNT / SUM(CASE) with GROUP BY), so no case is
ever loaded into Python. Each query reads an index and never a table row: ix_audit_events_report
(event, at, ...) for what happened in a period, ix_cases_report (gemeente_id, type, created_at and
every case column a report reads, including the copies of data fields in REPORT_FACTS) for what
came in, what runs on a date and whatever a count needs to know of the case. Cold (nothing in the
page cache) that is the difference between reading a few stretches of two indexes and reading a
large gemeente's case rows one by one from all over the table.

Time: audit rows (`at`) and `created_at` are UTC; a school year, quarter or month runs from
local midnight (Europe/Amsterdam) to local midnight, so an event at 00:30 on 1 August belongs
to the new school year. The dates a case keeps (beeindigd_op, afgesloten_op, omgezet_op,
periode_start) are the local day itself.

The exact definition of every count is in the docstring of the function that makes it and, in
Dutch, on the report page ("Zo is geteld").
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (
    ColumnElement, Date, Integer, and_, case, cast, false, func, literal, literal_column, null,
    or_, select, text, union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from casework.extensions import db
from casework.formatting import MAANDEN, TIJDZONE
from casework.models import AuditEvent, Case, Organisation, swv_gemeenten
from casework.workflows.base import add_months
from casework.workflows.verzuim import DREMPEL_DAGEN, ROUTES, VERZUIMSOORTEN
from casework.workflows.vrijstelling import BEEINDIG_REDENEN
from casework.workflows.vrijstelling import WORKFLOW as VRIJSTELLING_WORKFLOW

from .errors import NotFound, ValidationFailed
from .suppression import suppress_table

V5A, VERZUIM = "vrijstelling_5a", "verzuim"

# States in which an exemption runs: granted, being re-assessed, and the advice steps of a
# re-assessment (only then do those states carry an ingangsdatum; see the CHECK on cases).
RUNNING_STATES = ("vrijgesteld", "herbeoordeling", "advies_gevraagd", "advies_uitgebracht")
DUUR_BANDEN = ("korter_dan_6_maanden", "6_tot_12_maanden", "12_tot_24_maanden",
               "langer_dan_24_maanden", "hele_leerplicht", "onbekend")
HERBEOORDELING_UITKOMSTEN = ("opnieuw_vrijgesteld", "geen_vrijstelling", "beeindigd",
                             "ingetrokken", "loopt_nog")
_UITKOMST_VAN_STAAT = {"vrijgesteld": "opnieuw_vrijgesteld",
                       "geen_vrijstelling": "geen_vrijstelling", "beeindigd": "beeindigd",
                       "ingetrokken": "ingetrokken"}
HALT_AFLOOP = {"start_monitoring": "positief", "verwijs_door": "negatief", "sluit_af": "afgesloten"}
MAX_KWARTALEN = 20

_SCHOOLJAAR = re.compile(r"^(\d{4})-(\d{4})$")


# ------------------------------------------------------------------ periods

def local_midnight_utc(day: date) -> datetime:
    """The start of a Dutch calendar day as the naive UTC timestamp the database stores."""
    return datetime.combine(day, time.min, tzinfo=TIJDZONE).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    code: str
    label: str

    @property
    def utc_start(self) -> datetime:
        return local_midnight_utc(self.start)

    @property
    def utc_end(self) -> datetime:
        return local_midnight_utc(self.end + timedelta(days=1))


def parse_schooljaar(value: str | None) -> Period:
    """"2025-2026" -> 1 August 2025 up to and including 31 July 2026."""
    match = _SCHOOLJAAR.match((value or "").strip())
    if not match or int(match[2]) != int(match[1]) + 1 or not 1900 <= int(match[1]) <= 2200:
        raise ValidationFailed("Vul het schooljaar in als 2025-2026.", {
            "schooljaar": ["Vul het schooljaar in als twee opeenvolgende jaren, "
                           "bijvoorbeeld 2025-2026."]})
    first = int(match[1])
    return Period(date(first, 8, 1), date(first + 1, 7, 31), f"{first}-{first + 1}",
                  f"schooljaar {first}-{first + 1}")


def schooljaar_of(day: date) -> str:
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def months_of(year: Period) -> list[Period]:
    months, start = [], year.start
    while start <= year.end:
        nxt = add_months(start, 1)
        months.append(Period(start, nxt - timedelta(days=1), f"{start:%Y-%m}",
                             f"{MAANDEN[start.month - 1]} {start.year}"))
        start = nxt
    return months


def quarters_between(van: date, tot: date) -> list[Period]:
    """Calendar quarters from the one holding `van` to the one holding `tot`, clipped to both."""
    quarters = []
    start = date(van.year, 3 * ((van.month - 1) // 3) + 1, 1)
    while start <= tot:
        end = add_months(start, 3) - timedelta(days=1)
        number = (start.month - 1) // 3 + 1
        quarters.append(Period(max(start, van), min(end, tot), f"{start.year}-K{number}",
                               f"{number}e kwartaal {start.year}"))
        start = end + timedelta(days=1)
    return quarters


# ------------------------------------------------------------------ query building blocks

def _bucket(column, periods: list[Period]) -> ColumnElement:
    """Index of the (consecutive) period a UTC timestamp falls in."""
    return case(*[(column < p.utc_end, k) for k, p in enumerate(periods)], else_=-1)


def _within(column, periods: list[Period]) -> ColumnElement:
    return and_(column >= periods[0].utc_start, column < periods[-1].utc_end)


def _without_jit() -> None:
    """PostgreSQL: no JIT compilation for the rest of this transaction. A report's CTEs carry
    cost estimates high enough to trigger it, and compiling took longer (0.3 s a query, measured
    with a million cases) than it saved."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def _grouped(columns: list[ColumnElement], where: list, *, select_from) -> dict[tuple, int]:
    """COUNT(*) grouped by the given expressions -> {(values...): n}.

    The expressions are computed in a derived table and grouped by its columns: PostgreSQL
    does not see two CASE or JSON expressions with separately bound parameters as the same
    GROUP BY expression.
    """
    sub = (select(*(c.label(f"k{i}") for i, c in enumerate(columns)))
           .select_from(select_from).where(*where).subquery())
    keys = list(sub.c)
    rows = db.session.execute(select(*keys, func.count()).group_by(*keys))
    return {tuple(row[:-1]): row[-1] for row in rows}


def _audit_flow(gemeenten: list[int], periods: list[Period], case_type: str,
                events: tuple[str, ...], *, where: tuple = (), by: tuple = (),
                case_by: tuple[str, ...] = (), case_where: tuple = (),
                earlier: str | None = None) -> dict[tuple, int]:
    """Audit rows of these events per (gemeente, period index, *by, *case_by[, earlier]) — what
    happened when. where, by: expressions of the audit row; case_by: names of columns of its
    case (None for a case outside case_where: fewer case rows to sort); earlier: an event name,
    adding 1 when the same case had that event before the row (lower seq), else 0.

    Per gemeente, the audit rows come from ix_audit_events_report, narrowed to the gemeente's
    cases by a semi-join on ix_cases_report ("case_id + 0": tested against the list, not looked
    up). What a count needs of the case comes from the same two indexes, merged by sorting: the
    audit rows and the case rows in one UNION ALL, the case's columns spread over its audit rows
    by a window per case. A join would leave the order to the planner, which may look the cases
    up one audit row at a time (cold, each a read from disk) or, with stale statistics, scan
    one side once for every row of the other.
    """
    counts: Counter = Counter()
    for gemeente in gemeenten:
        counts.update(_audit_flow_of(gemeente, periods, case_type, events, where=where, by=by,
                                     case_by=case_by, case_where=case_where, earlier=earlier))
    return dict(counts)


def _of_gemeente(gemeente: int, case_type: str) -> ColumnElement:
    return (AuditEvent.case_id + 0).in_(
        select(Case.id).where(Case.gemeente_id == gemeente, Case.type == case_type))


def _none(type_) -> ColumnElement:
    return cast(null(), type_)


def _audit_flow_of(gemeente: int, periods: list[Period], case_type: str,
                   events: tuple[str, ...], *, where: tuple, by: tuple, case_by: tuple[str, ...],
                   case_where: tuple, earlier: str | None) -> Counter:
    mine = _of_gemeente(gemeente, case_type)
    keys = [_bucket(AuditEvent.at, periods), *by]
    conditions = [AuditEvent.event.in_(events), _within(AuditEvent.at, periods), *where, mine]
    if not case_by and earlier is None:
        return Counter(_grouped([literal(gemeente), *keys], conditions, select_from=AuditEvent))

    columns = [getattr(Case, name) for name in case_by]
    key_nulls = [_none(k.type) for k in keys]
    parts = [  # soort 1: the audit rows counted; 0: their cases; 2: the earlier event
        select(AuditEvent.case_id.label("case_id"), literal(1).label("soort"),
               AuditEvent.seq.label("seq"), *(k.label(f"k{i}") for i, k in enumerate(keys)),
               *(_none(c.type).label(c.key) for c in columns)).where(*conditions)]
    if columns:
        parts.append(select(Case.id, literal(0), _none(Integer()), *key_nulls, *columns)
                     .where(Case.gemeente_id == gemeente, Case.type == case_type, *case_where))
    if earlier is not None:
        parts.append(select(AuditEvent.case_id, literal(2), AuditEvent.seq, *key_nulls,
                            *(_none(c.type) for c in columns))
                     .where(AuditEvent.event == earlier, AuditEvent.at < periods[-1].utc_end, mine))
    rows = union_all(*parts).subquery()
    per_case = rows.c.case_id
    spread = [rows.c[f"k{i}"] for i in range(len(keys))]
    spread += [func.max(rows.c[c.key]).over(partition_by=per_case) for c in columns]
    if earlier is not None:
        first = func.min(case((rows.c.soort == 2, rows.c.seq))).over(partition_by=per_case)
        spread.append(case((first < rows.c.seq, 1), else_=0))
    merged = select(rows.c.soort, *(e.label(f"m{i}") for i, e in enumerate(spread))).subquery()
    group = [merged.c[f"m{i}"] for i in range(len(spread))]
    result = db.session.execute(select(*group, func.count()).where(merged.c.soort == 1)
                                .group_by(*group))
    return Counter({(gemeente, *row[:-1]): row[-1] for row in result})


def _intake_flow(gemeenten: list[int], periods: list[Period], *, where: tuple = (),
                 by: tuple = ()) -> dict[tuple, int]:
    """Verzuim cases received (created_at) per (gemeente, period index, *by); one the school
    withdrew (trek_in: sent by mistake, e.g. twice) was never a signaal or melding to count."""
    return _grouped(
        [Case.gemeente_id, _bucket(Case.created_at, periods), *by],
        [Case.type == VERZUIM, Case.gemeente_id.in_(gemeenten), _within(Case.created_at, periods),
         or_(Case.afsluiting.is_(None), Case.afsluiting != "ingetrokken"), *where],
        select_from=Case)


def _stock(gemeenten: list[int], case_type: str, conditions: list[ColumnElement], *,
           where: tuple = ()) -> dict[tuple[int, int], int]:
    """Cases meeting each condition (one per date), per gemeente -> {(gemeente, k): n}."""
    if not conditions:
        return {}
    sums = [func.sum(case((cond, 1), else_=0)) for cond in conditions]
    rows = db.session.execute(
        select(Case.gemeente_id, *sums)
        .where(Case.type == case_type, Case.gemeente_id.in_(gemeenten), *where)
        .group_by(Case.gemeente_id))
    return {(row[0], k): int(row[k + 1] or 0) for row in rows for k in range(len(conditions))}


def _sum(counts: dict[tuple, int], *, period: int | None = None, gemeente: int | None = None,
         key_at: int | None = None, key=None) -> int:
    return sum(n for k, n in counts.items()
               if (period is None or k[1] == period) and (gemeente is None or k[0] == gemeente)
               and (key_at is None or k[key_at] == key))


# ------------------------------------------------------------------ conditions

_VRIJGESTELD = (AuditEvent.to_state == "vrijgesteld",)
_LANGDURIG = (Case.verzuimsoort == "langdurig_relatief",)


def running_on(day: date) -> ColumnElement:
    """A vrijstelling 5a runs on `day`: ingangsdatum <= day <= einddatum (none: to the end of
    leerplicht), and the case is in a state in which it runs — or was ended after that day."""
    return and_(
        Case.ingangsdatum <= day,
        or_(Case.einddatum.is_(None), Case.einddatum >= day),
        # A herbeoordeling that found the child fit ended the exemption on its einddatum.
        or_(Case.state.in_((*RUNNING_STATES, "geen_vrijstelling")),
            and_(Case.state == "beeindigd", Case.beeindigd_op > day)))


class _DatePlus(FunctionElement):
    """A date moved on by whole months and then days; months as add_months() counts them
    (30 November + 3 months = 28 February) on both databases."""

    type = Date()
    name = "date_plus"
    inherit_cache = True


def date_plus(value, *, months: int = 0, days: int = 0) -> ColumnElement:
    return _DatePlus(value, literal_column(str(int(months))), literal_column(str(int(days))))


@compiles(_DatePlus, "sqlite")
def _date_plus_sqlite(element, compiler, **kw):
    value, months, days = (compiler.process(c, **kw) for c in element.clauses)
    if months != "0":  # SQLite rolls 30 November + 3 months over to 2 March: take the month's end
        value = (f"min(date({value}, '+{months} months'), "
                 f"date({value}, 'start of month', '+{int(months) + 1} months', '-1 day'))")
    return f"date({value}, '+{days} days')"


@compiles(_DatePlus, "postgresql")
def _date_plus_postgresql(element, compiler, **kw):
    value, months, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(CAST({value} AS DATE) + INTERVAL '{months} months' + INTERVAL '{days} days' AS DATE)"


# A melding langdurig relatief verzuim counts as a thuiszitter from the day the absence has lasted
# 4 weeks (periode_start + 28 days) and, for "more than 3 months", from the day after
# periode_start + 3 months.
_VANAF = {"vier_weken_of_langer": {"days": DREMPEL_DAGEN},
          "langer_dan_drie_maanden": {"months": 3, "days": 1}}


def _langdurig(gemeenten: list[int], van: date, tot: date):
    """The meldingen langdurig relatief verzuim of these gemeenten that were received by `tot`
    and not closed before `van`, as a materialised CTE: the days it counts from are computed once
    per melding, not once per condition and date."""
    return (
        select(Case.gemeente_id.label("gemeente_id"), Case.child_id.label("child_id"),
               Case.created_at.label("created_at"), Case.is_open.label("is_open"),
               Case.afgesloten_op.label("afgesloten_op"), Case.omgezet_op.label("omgezet_op"),
               *(date_plus(Case.periode_start, **shift).label(f"vanaf_{key}")
                 for key, shift in _VANAF.items()))
        .where(Case.type == VERZUIM, Case.gemeente_id.in_(gemeenten), *_LANGDURIG,
               Case.created_at < local_midnight_utc(tot + timedelta(days=1)),
               or_(Case.is_open.is_(True), Case.afgesloten_op > van))
        .cte("langdurig").prefix_with("MATERIALIZED"))


def thuiszitter_on(c, key: str, day: date) -> ColumnElement:
    """A thuiszitter on `day` (key: vier_weken_of_langer / langer_dan_drie_maanden).

    The melding is open on the day — received by then, not closed by the end of it, and, for a
    signaal that became such a melding, converted by then — and the absence has lasted that long.
    """
    return and_(
        c.created_at < local_midnight_utc(day + timedelta(days=1)),
        or_(c.is_open.is_(True), c.afgesloten_op > day),
        or_(c.omgezet_op.is_(None), c.omgezet_op <= day),
        c[f"vanaf_{key}"] <= day)


def thuiszitter_during(c, key: str, van: date, tot: date) -> ColumnElement:
    """A thuiszitter on at least one day from `van` to `tot` — as the national leerplichttelling
    counts children "who during the school year were absent 4 weeks or more": received and (if a
    signaal) converted by `tot`, and some day from max(van, the day it counts from) to `tot` on
    which it was not yet closed."""
    vanaf = c[f"vanaf_{key}"]
    return and_(
        c.created_at < local_midnight_utc(tot + timedelta(days=1)),
        or_(c.omgezet_op.is_(None), c.omgezet_op <= tot),
        vanaf <= tot,
        or_(c.is_open.is_(True), and_(c.afgesloten_op > van, c.afgesloten_op > vanaf)))


def _children(conditions: list[ColumnElement], c) -> dict[tuple[int, int], int]:
    """Distinct children meeting each condition, per gemeente -> {(gemeente, k): n}: a pupil with
    two meldingen (two schools) is one thuiszitter."""
    counts = [func.count(func.distinct(case((cond, c.child_id)))) for cond in conditions]
    rows = db.session.execute(select(c.gemeente_id, *counts).group_by(c.gemeente_id))
    return {(row[0], k): int(row[k + 1] or 0) for row in rows for k in range(len(conditions))}


def _thuiszitters(gemeenten: list[int], days: list[date]) -> dict[tuple[int, int], int]:
    """Thuiszitters on each day, per gemeente -> {(gemeente, 2k): 4 weeks or more on days[k],
    (gemeente, 2k + 1): more than 3 months}."""
    if not days:
        return {}
    c = _langdurig(gemeenten, min(days), max(days)).c
    return _children([thuiszitter_on(c, key, day) for day in days for key in _VANAF], c)


def duur_band(ingangsdatum: date | None, einddatum: date | None) -> str:
    """Duration of an exemption, the einddatum included: 1 Aug - 31 Jul is exactly 12 months.

    < 6 months; 6 up to and including 12; more than 12 up to and including 24; longer; no
    einddatum = the whole remaining leerplicht; no period at all any more (a later verklaring
    found the child fit) = onbekend.
    """
    if ingangsdatum is None:
        return "onbekend"
    if einddatum is None:
        return "hele_leerplicht"
    end = einddatum + timedelta(days=1)
    if end < add_months(ingangsdatum, 6):
        return "korter_dan_6_maanden"
    if end <= add_months(ingangsdatum, 12):
        return "6_tot_12_maanden"
    if end <= add_months(ingangsdatum, 24):
        return "12_tot_24_maanden"
    return "langer_dan_24_maanden"


# ------------------------------------------------------------------ leerplichttelling

def _gemeente(gemeente_id: int) -> Organisation:
    gemeente = db.session.get(Organisation, gemeente_id)
    if gemeente is None or gemeente.kind != "gemeente":
        raise NotFound("Deze gemeente is niet gevonden.")
    return gemeente


def leerplichttelling(gemeente_id: int, schooljaar: str, peildatum: date | None = None, *,
                      today: date | None = None) -> dict:
    """The yearly count of one gemeente for one school year (1 August - 31 July).

    peildatum (for what runs "on a date"): by default 31 July of the school year, or today if
    that is earlier. Flows (new, ended, received, chosen) cover the whole school year.
    """
    year = parse_schooljaar(schooljaar)
    today = today or date.today()
    if peildatum is not None and peildatum > today:
        raise ValidationFailed("De peildatum ligt in de toekomst.",
                               {"peildatum": ["Kies een peildatum van vandaag of eerder."]})
    peildatum = peildatum or min(year.end, today)
    gemeente = _gemeente(gemeente_id)
    _without_jit()
    g = [gemeente_id]
    months = months_of(year)

    vrij = _vrijstellingen(g, year, months, peildatum)
    verzuim = _verzuim(g, year, months, peildatum)
    maanden_vrij = vrij.pop("_maanden")
    maanden_meldingen = verzuim.pop("_maanden_meldingen")
    maanden_signalen = verzuim.pop("_maanden_signalen")
    # Months that have not begun yet are left out of the trend (they would only show zeros).
    per_maand = [{"maand": m.code, "label": m.label, "vrijstellingen_nieuw": maanden_vrij[k],
                  "meldingen": maanden_meldingen[k], "signalen": maanden_signalen[k]}
                 for k, m in enumerate(months) if m.start <= today]
    return {
        "gemeente": {"id": gemeente.id, "naam": gemeente.naam},
        "schooljaar": year.code,
        "van": year.start,
        "tot": year.end,
        "peildatum": peildatum,
        "vrijstellingen": vrij,
        "verzuim": verzuim,
        "per_maand": per_maand,
    }


def _vrijstellingen(g: list[int], year: Period, months: list[Period], peildatum: date) -> dict:
    """Vrijstellingen 5 onder a.

    - nieuw: verklaringen "niet geschikt" (audit geef_verklaring -> vrijgesteld) in the year;
      waarvan_na_herbeoordeling: those with an earlier start_herbeoordeling in the same case;
    - lopend_op_peildatum: running_on(peildatum);
    - beeindigd: exemptions ended in the year (audit beeindig from vrijgesteld or
      herbeoordeling; an ended "geen vrijstelling" case had no exemption), by case.data
      reden_beeindiging;
    - per_duur: the verklaringen of `nieuw` by duur_band() of the case's period (the period
      columns hold the latest verklaring's period);
    - herbeoordelingen: start_herbeoordeling in the year, by the first decisive step after it
      up to the end of the peildatum (geef_verklaring -> vrijgesteld / geen_vrijstelling,
      beeindig, trek_in), else loopt_nog.
    """
    # New verklaringen: one pass, by month, by whether a herbeoordeling came before (the
    # case's first start_herbeoordeling has a lower seq) and by the case's period.
    new = _audit_flow(g, months, V5A, ("geef_verklaring",), where=_VRIJGESTELD,
                      case_by=("ingangsdatum", "einddatum"), earlier="start_herbeoordeling")
    per_maand = [_sum(new, period=k) for k in range(len(months))]
    bands = Counter({band: 0 for band in DUUR_BANDEN})
    for (_, _, ingang, eind, _), n in new.items():
        bands[duur_band(ingang, eind)] += n

    whole_year = [year]
    # An exemption ends by the LPA or the scheduler (beeindig) or by the parent (zie_af), also
    # during a herbeoordeling's advice steps; a procedure ended before any verklaring has no
    # ingangsdatum and ended no exemption.
    ended = _audit_flow(g, whole_year, V5A, ("beeindig", "zie_af"),
                        where=(AuditEvent.from_state.in_(RUNNING_STATES),),
                        case_by=("reden_beeindiging", "ingangsdatum"))
    per_reden = {reden: 0 for reden in BEEINDIG_REDENEN}
    for (_, _, reden, ingang), n in ended.items():
        if ingang is not None:
            per_reden[reden if reden in per_reden else "anders"] += n

    uitkomst = {key: 0 for key in HERBEOORDELING_UITKOMSTEN}
    for state, n in _herbeoordelingen(g, year, peildatum).items():
        uitkomst[_UITKOMST_VAN_STAAT.get(state, "loopt_nog")] += n

    running = _stock(g, V5A, [running_on(peildatum)])
    return {
        "nieuw": sum(per_maand),
        "waarvan_na_herbeoordeling": _sum(new, key_at=4, key=1),
        "lopend_op_peildatum": _sum(running),
        "beeindigd": {"totaal": sum(per_reden.values()), "per_reden": per_reden},
        "per_duur": dict(bands),
        "herbeoordelingen": {"gestart": sum(uitkomst.values()), "uitkomst": uitkomst},
        "_maanden": per_maand,
    }


# The steps that decide a herbeoordeling: every event of the vrijstelling workflow that can end
# in one of the outcome states.
_BESLISSENDE_STAPPEN = tuple(sorted(
    name for name, spec in VRIJSTELLING_WORKFLOW.events.items()
    if set(spec.destinations()) & set(_UITKOMST_VAN_STAAT)))


def _herbeoordelingen(g: list[int], year: Period, peildatum: date) -> Counter:
    """start_herbeoordeling in the year -> the state the first deciding step after it (same
    case, higher seq) led to by the end of the peildatum; None: not decided yet.

    The starts and the deciding steps come from the audit index, narrowed per gemeente (as in
    _audit_flow), and are sorted together per case: for a start, the minimum of seq * 8 + the
    outcome's number over the rows from it onwards is the first deciding step after it. Audit
    rows are appended in seq order with the time of appending, so a step after a start in the
    year lies in the year or later: only those steps are read.
    """
    number = {state: k for k, state in enumerate(_UITKOMST_VAN_STAAT, start=1)}
    outcome = {k: state for state, k in number.items()}
    counts: Counter = Counter()
    for gemeente in g:
        mine = _of_gemeente(gemeente, V5A)
        starts = select(AuditEvent.case_id.label("case_id"), AuditEvent.seq.label("seq"),
                        _none(Integer()).label("uitkomst")).where(
            AuditEvent.event == "start_herbeoordeling", _within(AuditEvent.at, [year]), mine)
        steps = select(AuditEvent.case_id, AuditEvent.seq,
                       case(*((AuditEvent.to_state == state, k) for state, k in number.items())))
        steps = steps.where(AuditEvent.event.in_(_BESLISSENDE_STAPPEN),
                            AuditEvent.to_state.in_(tuple(number)),
                            AuditEvent.at >= year.utc_start,
                            AuditEvent.at < local_midnight_utc(peildatum + timedelta(days=1)), mine)
        rows = union_all(starts, steps).subquery()
        first = func.min(case((rows.c.uitkomst.is_not(None), rows.c.seq * 8 + rows.c.uitkomst)))
        first = first.over(partition_by=rows.c.case_id, order_by=rows.c.seq, rows=(0, None))
        merged = select(rows.c.uitkomst, first.label("eerste")).subquery()
        decided = merged.c.eerste % 8
        for k, n in db.session.execute(select(decided, func.count()).where(
                merged.c.uitkomst.is_(None)).group_by(decided)):
            counts[outcome.get(k)] += n
    return counts


def _verzuim(g: list[int], year: Period, months: list[Period], peildatum: date) -> dict:
    """Verzuim.

    - meldingen: received in the year as a melding (created_at; oorspronkelijke_soort
      melding; not withdrawn by the school) plus signalen that became a melding in the year
      (audit escaleer_naar_melding), both by case.data verzuimsoort (a converted signaal has
      the verzuimsoort of its conversion);
    - signalen: received in the year as a signaal (not withdrawn); omgezet_in_melding: of
      those, converted by the end of the peildatum (case.data omgezet_op);
    - thuiszitters (children, not meldingen) on the peildatum: thuiszitter_on(); and during the
      school year up to the peildatum: thuiszitter_during();
    - routes: kies_route and verwijs_door in the year by the route chosen (the row's to_state,
      which is details.gekozen_route) (waarvan_doorverwezen: by verwijs_door);
    - halt_afloop: steps out of `halt` in the year: start_monitoring = positief, verwijs_door to
      a heavier route = negatief, sluit_af = afgesloten;
    - processen_verbaal: route proces_verbaal chosen in the year, by case.data tegen.
    """
    converted = _audit_flow(g, months, VERZUIM, ("escaleer_naar_melding",),
                            case_by=("verzuimsoort",), case_where=(Case.omgezet_op.is_not(None),))
    omgezet_by_peildatum = and_(Case.omgezet_op.is_not(None), Case.omgezet_op <= peildatum)
    # Meldingen and signalen received: one pass over the year's cases, split afterwards.
    intake = _intake_flow(g, months, by=(Case.oorspronkelijke_soort, Case.verzuimsoort,
                                         case((omgezet_by_peildatum, 1), else_=0)))
    direct, signalen = Counter(), Counter()
    for (gm, k, soort, vsoort, omgezet), n in intake.items():
        if soort == "melding":
            direct[(gm, k, vsoort)] += n
        elif soort == "signaal":
            signalen[(gm, k, omgezet)] += n

    def by_soort(counts):
        out = {soort: 0 for soort in VERZUIMSOORTEN}
        for (_, _, soort), n in counts.items():
            out[soort if soort in out else "overig"] += n
        return out

    direct_soort, converted_soort = by_soort(direct), by_soort(converted)
    meldingen_maand = [_sum(direct, period=k) + _sum(converted, period=k)
                       for k in range(len(months))]
    signalen_maand = [_sum(signalen, period=k) for k in range(len(months))]

    c = _langdurig(g, min(year.start, peildatum), peildatum).c
    during_end = min(year.end, peildatum)  # a peildatum before the year: nobody during it
    thuis = _children([thuiszitter_on(c, key, peildatum) for key in _VANAF]
                      + [thuiszitter_during(c, key, year.start, during_end) if during_end >= year.start
                         else false() for key in _VANAF], c)

    whole_year = [year]
    # The route a kies_route / verwijs_door row chose is its to_state (the transition goes to
    # the chosen route; details.gekozen_route says the same): read from the index, not JSON.
    gekozen = AuditEvent.to_state
    chosen = _audit_flow(g, whole_year, VERZUIM, ("kies_route", "verwijs_door"),
                         by=(gekozen, AuditEvent.event))
    routes = {route: {"totaal": 0, "waarvan_doorverwezen": 0} for route in ROUTES}
    for (_, _, route, event), n in chosen.items():
        if route in routes:
            routes[route]["totaal"] += n
            if event == "verwijs_door":
                routes[route]["waarvan_doorverwezen"] += n

    pv = _audit_flow(g, whole_year, VERZUIM, ("kies_route", "verwijs_door"),
                     where=(gekozen == "proces_verbaal",), case_by=("tegen",),
                     case_where=(Case.tegen.is_not(None),))
    tegen = {"ouders": 0, "jongere": 0}
    for (_, _, wie), n in pv.items():
        tegen[wie if wie in tegen else "ouders"] += n

    out_of_halt = _audit_flow(g, whole_year, VERZUIM, tuple(HALT_AFLOOP),
                              where=(AuditEvent.from_state == "halt",), by=(AuditEvent.event,))
    halt = {label: 0 for label in HALT_AFLOOP.values()}
    for (_, _, event), n in out_of_halt.items():
        halt[HALT_AFLOOP[event]] += n

    return {
        "meldingen": {
            "totaal": sum(direct_soort.values()) + sum(converted_soort.values()),
            "per_verzuimsoort": {s: direct_soort[s] + converted_soort[s] for s in VERZUIMSOORTEN},
            "direct": {"totaal": sum(direct_soort.values()), "per_verzuimsoort": direct_soort},
            "uit_signaal": {"totaal": sum(converted_soort.values()),
                            "per_verzuimsoort": converted_soort},
        },
        "signalen": {"ontvangen": sum(signalen_maand),
                     "omgezet_in_melding": _sum(signalen, key_at=2, key=1)},
        "thuiszitters": {
            "vier_weken_of_langer": _sum(thuis, key_at=1, key=0),
            "langer_dan_drie_maanden": _sum(thuis, key_at=1, key=1),
            "gedurende_schooljaar": {"vier_weken_of_langer": _sum(thuis, key_at=1, key=2),
                                     "langer_dan_drie_maanden": _sum(thuis, key_at=1, key=3)}},
        "routes": routes,
        "halt_afloop": halt,
        "processen_verbaal": {"totaal": sum(tegen.values()), "tegen_ouders": tegen["ouders"],
                              "tegen_jongere": tegen["jongere"]},
        "_maanden_meldingen": meldingen_maand,
        "_maanden_signalen": signalen_maand,
    }


# ------------------------------------------------------------------ the SWV's regional view

def _swv(swv_id: int) -> Organisation:
    swv = db.session.get(Organisation, swv_id)
    if swv is None or swv.kind != "swv":
        raise NotFound("Dit samenwerkingsverband is niet gevonden.")
    return swv


def default_swv_range(today: date) -> tuple[date, date]:
    """The last eight quarters, up to and including today's."""
    months = today.year * 12 + 3 * ((today.month - 1) // 3) - 21
    return date(months // 12, months % 12 + 1, 1), today


def _check_range(van: date, tot: date, today: date) -> date:
    if tot < van:
        raise ValidationFailed("De einddatum ligt voor de begindatum.",
                               {"tot": ["Kies een einddatum op of na de begindatum."]})
    if van > today:
        raise ValidationFailed("De begindatum ligt in de toekomst.",
                               {"van": ["Kies een begindatum van vandaag of eerder."]})
    tot = min(tot, today)
    # Whole quarters only: two periods a day apart would differ by one case, and so tell one
    # child's verklaring. van opens a quarter; tot closes one, or is today (the running quarter).
    if (van.month - 1) % 3 or van.day != 1:
        raise ValidationFailed("Het overzicht gaat over hele kwartalen. De begindatum moet de "
                               "eerste dag van een kwartaal zijn.",
                               {"van": ["Kies 1 januari, 1 april, 1 juli of 1 oktober."]})
    next_day = tot + timedelta(days=1)
    if tot != today and (next_day.day != 1 or next_day.month not in (1, 4, 7, 10)):
        raise ValidationFailed("Het overzicht gaat over hele kwartalen. De einddatum moet de "
                               "laatste dag van een kwartaal zijn, of vandaag.",
                               {"tot": ["Kies 31 maart, 30 juni, 30 september, 31 december "
                                        "of vandaag."]})
    if len(quarters_between(van, tot)) > MAX_KWARTALEN:
        raise ValidationFailed(f"Kies een periode van hoogstens {MAX_KWARTALEN} kwartalen.",
                               {"van": [f"Kies een periode van hoogstens {MAX_KWARTALEN // 4} jaar."]})
    return tot


def swv_overzicht(swv_id: int, van: date, tot: date, *, today: date | None = None) -> dict:
    """Per gemeente of the SWV's region and per quarter, with small numbers suppressed.

    Flows per quarter (with totals per gemeente, per quarter and overall): new vrijstellingen
    (as in the leerplichttelling), meldingen (received as melding + signalen converted) and
    signalen received. Stocks on the last day of each quarter (or `tot`, or today): running
    vrijstellingen and thuiszitters (4 weeks or more; more than 3 months) — with totals per
    quarter only, as adding quarters of a stock means nothing. Only suppressed values leave
    this function; there is no case id or reference in it.
    """
    today = today or date.today()
    swv = _swv(swv_id)
    tot = _check_range(van, tot, today)
    _without_jit()
    quarters = quarters_between(van, tot)
    gemeenten = list(db.session.scalars(
        select(Organisation).join(swv_gemeenten, swv_gemeenten.c.gemeente_id == Organisation.id)
        .where(swv_gemeenten.c.swv_id == swv.id).order_by(Organisation.naam)))
    ids = [gm.id for gm in gemeenten]

    new = _audit_flow(ids, quarters, V5A, ("geef_verklaring",), where=_VRIJGESTELD)
    intake = _intake_flow(ids, quarters, by=(Case.oorspronkelijke_soort,))  # one pass, split afterwards
    converted = _audit_flow(ids, quarters, VERZUIM, ("escaleer_naar_melding",))
    meldingen, signalen = Counter(converted), Counter()
    for (gm, k, soort), n in intake.items():
        if soort == "melding":
            meldingen[(gm, k)] += n
        elif soort == "signaal":
            signalen[(gm, k)] += n
    stands = [q.end for q in quarters]
    lopend = _stock(ids, V5A, [running_on(day) for day in stands])
    thuis = _thuiszitters(ids, stands)
    thuis_4w = {(gm, k // 2): n for (gm, k), n in thuis.items() if k % 2 == 0}
    thuis_3m = {(gm, k // 2): n for (gm, k), n in thuis.items() if k % 2 == 1}

    # A quarter cut off by van or tot (the running one, usually) has fewer days: its flows are
    # not comparable with a whole quarter's, so a flow's trend compares whole quarters only.
    full = [q.start == _quarter_start(q.start) and q.end == add_months(_quarter_start(q.start), 3)
            - timedelta(days=1) for q in quarters]

    def table(key: str, titel: str, uitleg: str, counts: dict, *, stroom: bool) -> dict:
        cells = [[_sum(counts, gemeente=gm.id, period=k) for k in range(len(quarters))]
                 for gm in gemeenten]
        t = suppress_table(cells, row_totals=stroom, col_totals=True, cols=len(quarters))
        return {
            "sleutel": key, "titel": titel, "uitleg": uitleg,
            "soort": "stroom" if stroom else "stand",
            "rijen": [{"gemeente": {"id": gm.id, "naam": gm.naam}, "waarden": t.cells[i],
                       "totaal": t.row_totals[i] if t.row_totals else None}
                      for i, gm in enumerate(gemeenten)],
            "totalen": t.col_totals,
            "totaal": t.total,
            "trend": _trend(t.col_totals, quarters, full if stroom else [True] * len(quarters)),
        }

    return {
        "swv": {"id": swv.id, "naam": swv.naam},
        "van": quarters[0].start,
        "tot": quarters[-1].end,
        "kwartalen": [{"code": q.code, "label": q.label, "van": q.start, "tot": q.end,
                       "volledig": full[k]} for k, q in enumerate(quarters)],
        "gemeenten": [{"id": gm.id, "naam": gm.naam} for gm in gemeenten],
        "tabellen": [
            table("vrijstellingen_nieuw", "Nieuwe vrijstellingen 5 onder a",
                  "Verklaringen 'niet geschikt' van de deskundige in het kwartaal.", new, stroom=True),
            table("vrijstellingen_lopend", "Lopende vrijstellingen 5 onder a",
                  "Vrijstellingen die lopen op de laatste dag van het kwartaal.", lopend, stroom=False),
            table("meldingen", "Verzuimmeldingen",
                  "Meldingen ontvangen in het kwartaal, plus signalen die in het kwartaal een "
                  "melding werden.", meldingen, stroom=True),
            table("signalen", "Signalen zorgelijk verzuim",
                  "Signalen ontvangen in het kwartaal.", signalen, stroom=True),
            table("thuiszitters", "Thuiszitters (4 weken of langer)",
                  "Open meldingen langdurig relatief verzuim op de laatste dag van het kwartaal, "
                  "verzuim sinds 4 weken of langer.", thuis_4w, stroom=False),
            table("thuiszitters_3_maanden", "Thuiszitters langer dan 3 maanden",
                  "Van de thuiszitters: verzuim sinds meer dan 3 maanden.", thuis_3m, stroom=False),
        ],
    }


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _trend(values: list, quarters: list[Period], usable: list[bool]) -> dict:
    """The first and the last usable quarter's region total (for a flow: whole quarters only);
    a direction only when both are shown (not suppressed) and they are two different quarters."""
    picks = [k for k, ok in enumerate(usable) if ok]
    if len(picks) < 2:
        return {"eerste": None, "laatste": None, "richting": "onbekend",
                "eerste_kwartaal": None, "laatste_kwartaal": None}
    first, last = values[picks[0]], values[picks[-1]]
    if isinstance(first, int) and isinstance(last, int):
        richting = "stijgt" if last > first else "daalt" if last < first else "gelijk"
    else:
        richting = "onbekend"
    return {"eerste": first, "laatste": last, "richting": richting,
            "eerste_kwartaal": quarters[picks[0]].code, "laatste_kwartaal": quarters[picks[-1]].code}
