"""Lesweken: art. 21a Leerplichtwet counts "vier opeenvolgende lesweken", not calendar days.

A week runs Monday to Sunday. A week counts as a lesweek of a period when the period holds at
least one school day (Monday to Friday) of that week that is not a holiday of the pupil's school.
A period lies within 4 aaneengesloten lesweken when, with its holiday weeks left out, less than
4 weeks (28 days) lie between its first and its last school day: the 28-day rule of before, with
the holiday weeks skipped. So four lesweken around a one-week herfstvakantie (five calendar weeks)
are within; Thursday to the Wednesday four weeks later is within too (it touches five
Monday-to-Sunday weeks, but spans four weeks); a fifth full lesweek is not.

Which holidays a school has (table `schoolvakanties`, shipped from casework/data/schoolvakanties.csv,
edited by the beheerder):
- the rows of the school's region (`organisations.vakantieregio`: noord, midden or zuid);
- a school without a region gets only the days that are a holiday in all three regions (the
  national kerst- and meivakantie): a holiday that depends on the region is not assumed;
- a school's own rows (its deviations): a school row with the same school year and name as a
  regional row replaces that regional row for this school; a school row with another name is an
  extra holiday.
Dates for which no rows exist (outside the shipped school years) have no holidays: plain weeks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, or_, select

from .extensions import db
from .formatting import format_datum
from .models import Organisation, Schoolvakantie
from .models.organisation import VAKANTIEREGIOS

MAX_LESWEKEN = 4

VAKANTIE_LABELS = {"herfst": "herfstvakantie", "kerst": "kerstvakantie",
                   "voorjaar": "voorjaarsvakantie", "mei": "meivakantie", "zomer": "zomervakantie"}


def vakantie_label(naam: str) -> str:
    return VAKANTIE_LABELS.get(naam, naam)


@dataclass(frozen=True)
class Vakantie:
    naam: str
    begin: date
    eind: date


@dataclass
class Telling:
    """The lesweken of a period, and the holiday weeks it skipped."""

    start: date
    eind: date
    lesweken: int  # Monday-to-Sunday weeks with a school day of the period
    overgeslagen: list[Vakantie] = field(default_factory=list)  # holidays that cost a whole week
    span_dagen: int = 0  # first to last school day, holiday weeks left out

    @property
    def binnen_vier(self) -> bool:
        return self.span_dagen < 7 * MAX_LESWEKEN

    def periode_tekst(self) -> str:
        """'3 november 2026 tot en met 28 november 2026 zijn 4 lesweken'."""
        n = self.lesweken
        van_tot = f"{format_datum(self.start)} tot en met {format_datum(self.eind)}"
        if n > MAX_LESWEKEN and self.binnen_vier:
            return f"{van_tot} valt binnen 4 aaneengesloten lesweken"
        return f"{van_tot} {'is' if n == 1 else 'zijn'} {n} {'lesweek' if n == 1 else 'lesweken'}"

    def vakantie_tekst(self) -> str:
        """'de herfstvakantie van 17 oktober 2026 tot en met 25 oktober 2026 telt niet mee', or ''."""
        if not self.overgeslagen:
            return ""
        delen = [f"de {vakantie_label(v.naam)} van {format_datum(v.begin)} tot en met "
                 f"{format_datum(v.eind)}" for v in self.overgeslagen]
        namen = delen[0] if len(delen) == 1 else ", ".join(delen[:-1]) + " en " + delen[-1]
        return f"{namen} {'telt' if len(delen) == 1 else 'tellen'} niet mee"


def vakanties(school_id: int | None, start: date, end: date) -> list[Vakantie]:
    """The holidays of a school that touch [start, end] (see the module text for the rules)."""
    in_period = and_(Schoolvakantie.begin <= end, Schoolvakantie.eind >= start)
    # Regional rows of the period, and all of the school's own rows (few): an own row outside the
    # period may still replace a regional row inside it (a herfstvakantie moved a week).
    conditions = [and_(Schoolvakantie.school_id.is_(None), in_period)]
    if school_id:
        conditions.append(Schoolvakantie.school_id == school_id)
    # Called from guards, mid-event: an autoflush would write the half-made case.
    with db.session.no_autoflush:
        school = db.session.get(Organisation, school_id) if school_id else None
        rows = db.session.scalars(select(Schoolvakantie).where(or_(*conditions))).all()
    regio = school.vakantieregio if school is not None else None
    own_all = [r for r in rows if r.school_id is not None]
    replaced = {(r.schooljaar, r.naam) for r in own_all}
    own = [r for r in own_all if r.begin <= end and r.eind >= start]
    regional = [r for r in rows if r.school_id is None and (r.schooljaar, r.naam) not in replaced]
    if regio in VAKANTIEREGIOS:
        found = [Vakantie(r.naam, r.begin, r.eind) for r in regional if r.regio == regio]
    else:
        found = _in_alle_regios(regional)
    return sorted(found + [Vakantie(r.naam, r.begin, r.eind) for r in own],
                  key=lambda v: (v.begin, v.naam))


def _in_alle_regios(rows) -> list[Vakantie]:
    """The stretches of days that are a holiday in every region (a school without a region)."""
    per_regio = {regio: [r for r in rows if r.regio == regio] for regio in VAKANTIEREGIOS}
    found: list[Vakantie] = []
    for r in per_regio[VAKANTIEREGIOS[0]]:
        begin, eind = r.begin, r.eind
        for regio in VAKANTIEREGIOS[1:]:
            overlap = [o for o in per_regio[regio] if o.begin <= eind and o.eind >= begin]
            if not overlap:
                break
            o = overlap[0]
            begin, eind = max(begin, o.begin), min(eind, o.eind)
        else:
            found.append(Vakantie(r.naam, begin, eind))
    return found


def telling(school_id: int | None, start: date, end: date) -> Telling:
    """Count the lesweken of [start, end] for a pupil of this school."""
    if end < start:
        return Telling(start, end, 0)
    holidays = vakanties(school_id, start, end)

    def vrij(day: date) -> Vakantie | None:
        return next((v for v in holidays if v.begin <= day <= v.eind), None)

    lesweken, overgeslagen, pending = 0, [], []
    first = last = None  # (lesweek number, weekday) of the first and last school day
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        days = [monday + timedelta(days=i) for i in range(5)]
        days = [d for d in days if start <= d <= end]
        if days:
            free = [vrij(d) for d in days]
            if all(free):
                # Skipped between two lesweken; a holiday at an edge only shortens the period.
                if first is not None:
                    for v in free:
                        if v not in pending:
                            pending.append(v)
            else:
                school_days = [d for d, f in zip(days, free, strict=True) if not f]
                first = first or (lesweken, school_days[0].weekday())
                last = (lesweken, school_days[-1].weekday())
                lesweken += 1
                overgeslagen += [v for v in pending if v not in overgeslagen]  # pending is unique
                pending = []
        monday += timedelta(days=7)
    span = 7 * (last[0] - first[0]) + last[1] - first[1] if first and last else 0
    return Telling(start, end, lesweken, overgeslagen, span)


def lesweken_in(school_id: int | None, start: date, end: date) -> int:
    return telling(school_id, start, end).lesweken


def binnen_vier_lesweken(school_id: int | None, start: date, end: date) -> bool:
    """Whether [start, end] spans at most 4 lesweken (holiday weeks are skipped, so four
    lesweken around a one-week herfstvakantie are five calendar weeks)."""
    return telling(school_id, start, end).binnen_vier
