"""The demo's cases: for every demo login something to do, made through the real services.

Every case is opened with open_case() and moved with fire(), by the user whose step it is, so
its audit rows, seals and letters are real (the letters wait for the worker, like any other).
Dates are derived from today, so the guards hold on any day the demo is loaded.

Idempotent: a story is made only when its child has no case of that type yet, so loading twice
makes nothing new, and a case someone made while trying the demo is left alone. Each story is
its own transaction: a story that cannot be made today is skipped with its reason, the others
are still made.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import exists, select

from . import schoolkalender
from .extensions import db
from .models import Case, Child, Organisation, User
from .services import cases as case_service
from .services.errors import DomainError
from .workflows.base import add_months, age_on
from .workflows.verzuim import add_school_days
from .workflows.vrijstelling import kennisgeving_deadline, schooljaar_van

VRIJSTELLING, VERZUIM = "vrijstelling_5a", "verzuim"

# Children of families without a portal account: their kennisgeving came in on paper, or their
# school reported their absence. Age in years on the day they are first loaded (the birth date
# is then fixed); they live in the gemeente of their school.
# bsn, voornaam, achternaam, leeftijd, geslacht, adres, postcode_plaats, school
CASE_CHILDREN = [
    ("100200072", "Julia", "Vermeer", 8, "V", "Beukenlaan 3", "1234 AD Voorbeeldstad", "99AA"),
    ("100200217", "Finn", "Peters", 10, "M", "Esdoornstraat 21", "1234 AE Voorbeeldstad", "99AA"),
    ("100200357", "Yara", "El Amrani", 7, "V", "Iepenhof 8", "1234 AG Voorbeeldstad", "99AA"),
    ("100200424", "Levi", "Smits", 11, "M", "Wilgenweg 14", "1234 AH Voorbeeldstad", "99AA"),
    ("100200497", "Sara", "Bakker", 13, "V", "Molenweg 6", "1240 CF Buurdorp", "99BB"),
    ("100200564", "Thijs", "Mulder", 15, "M", "Veldstraat 19", "1240 CG Buurdorp", "99BB"),
    ("100200631", "Emma", "Visser", 10, "V", "Populierenlaan 2", "1234 AJ Voorbeeldstad", "99AA"),
    ("100200709", "Bram", "de Groot", 12, "M", "Kastanjelaan 30", "1234 AK Voorbeeldstad", "99AA"),
]

LPA, LPA_BUURDORP = "leerplicht@voorbeeldstad.test", "leerplicht@buurdorp.test"
ARTS = "jeugdarts@ggd-voorbeeld.test"
SWV, SWV_NABURIG = "adviseur@swv-voorbeeldregio.test", "adviseur@swv-naburig.test"
OUDER1 = "ouder1@voorbeeld.test"
SCHOOL, SCHOOL_COLLEGE = "school@devoorbeeld.test", "school@voorbeeldcollege.test"

TOELICHTING = "Door een chronische ziekte kan ons kind niet naar school. Een verklaring van de arts volgt."
SAMENVATTING = "Kind van de basisschoolleeftijd; kan door een chronische ziekte al maanden niet naar school."
ADVIES = ("Een onderwijszorgarrangement past nu niet. Wij adviseren het contact met de school te houden "
          "en over een half jaar opnieuw te kijken.")
WEGING = "Het advies van het samenwerkingsverband is meegewogen: onderwijs volgen is nu niet haalbaar."
VERZUIMBELEID = "Structureel te laat in het eerste lesuur (verzuimbeleid, situatie 2)."


@dataclass
class Ctx:
    """What a story needs: today, the demo users by email, organisations by code."""

    today: date
    users: dict[str, User]
    orgs: dict[str, Organisation]

    def org_id(self, code: str) -> int:
        return self.orgs[code].id


@dataclass(frozen=True)
class Story:
    bsn: str
    case_type: str
    what: str  # in the summary when it cannot be made
    make: Callable[[Ctx, Child], Case]


# ------------------------------------------------------------------ building blocks

def _toestemming_door(child: Child, today: date) -> str:
    return "ouder" if age_on(child.geboortedatum, today) < 16 else "jongere"


def _on_time_schooljaar(today: date) -> str:
    """The next school year: a kennisgeving for it is on time until 1 July."""
    return f"{today.year + 1}-{today.year + 2}"


def _kennisgeving(ctx: Ctx, child: Child, *, by: str, ontvangen_op: date | None = None,
                  schooljaar: str | None = None) -> Case:
    data = {"child_id": child.id, "schooljaar": schooljaar or _on_time_schooljaar(ctx.today),
            "toelichting": TOELICHTING}
    if ontvangen_op is not None:  # on paper: the LPA records the day it came in
        data["ontvangen_op"] = ontvangen_op.isoformat()
    return case_service.open_case(ctx.users[by], VRIJSTELLING, data)


def _fire(ctx: Ctx, case: Case, event: str, by: str | None, data: dict) -> None:
    case_service.fire(case, event, actor=ctx.users[by] if by else None, data=data)


def _in_behandeling(ctx: Ctx, case: Case, lpa: str = LPA) -> None:
    _fire(ctx, case, "neem_in_behandeling", lpa, {"deskundige_id": ctx.users[ARTS].id})


def _advies_gevraagd(ctx: Ctx, case: Case, *, toestemming: bool, swv: str = "SWV9001") -> None:
    _fire(ctx, case, "vraag_advies", ARTS, {
        "swv_id": ctx.org_id(swv), "toestemming": toestemming,
        "toestemming_door": _toestemming_door(case.child, ctx.today), "samenvatting": SAMENVATTING})


def _advies_uitgebracht(ctx: Ctx, case: Case) -> None:
    _fire(ctx, case, "breng_advies_uit", SWV, {
        "advies": ADVIES, "soort": "persoonlijk" if case.toestemming else "algemeen",
        "mogelijkheden": ["Onderwijszorgarrangement De Brug", "Digitaal afstandsonderwijs"]})


def _lesdagen_terug(school_id: int | None, today: date, n: int) -> tuple[date, date]:
    """The first and last of the n school days before today (weekdays outside the school's
    holidays), so an absence never falls in a holiday."""
    holidays = schoolkalender.vakanties(school_id, today - timedelta(days=180), today)
    day, found = today, []
    while len(found) < n and day > today - timedelta(days=180):
        day -= timedelta(days=1)
        if day.weekday() < 5 and not any(v.begin <= day <= v.eind for v in holidays):
            found.append(day)
    if len(found) < n:  # no school days in half a year: a calendar of its own, take plain weekdays
        return today - timedelta(days=14), today - timedelta(days=1)
    return found[-1], found[0]


def _verzuim(ctx: Ctx, child: Child, *, by: str, soort: str, uren: int, keer_te_laat: int | None,
             omschrijving: str) -> Case:
    start, eind = _lesdagen_terug(child.school_id, ctx.today, 10)  # two lesweken
    data = {"child_id": child.id, "soort": soort, "uren": uren, "keer_te_laat": keer_te_laat,
            "periode_start": start.isoformat(), "periode_eind": eind.isoformat(),
            "omschrijving": omschrijving}
    if soort == "melding":
        data["verzuimsoort"] = "16_uur_4_weken"
    else:
        data["verzuimbeleid_situatie"] = VERZUIMBELEID
    return case_service.open_case(ctx.users[by], VERZUIM, data)


def _onderzoek(ctx: Ctx, case: Case, lpa: str, gesprek_op: date) -> None:
    _fire(ctx, case, "start_onderzoek", lpa, {
        "gesprek_gepland_op": gesprek_op.isoformat(), "gesprek_tijd": "10:00",
        "gesprek_plaats": "Gemeentehuis, spreekkamer 2"})


# ------------------------------------------------------------------ the stories

def kennisgeving_ontvangen(ctx: Ctx, child: Child) -> Case:
    """Voorbeeldstad's LPA: a paper kennisgeving waiting to be taken into handling."""
    return _kennisgeving(ctx, child, by=LPA, ontvangen_op=ctx.today - timedelta(days=2))


def in_behandeling(ctx: Ctx, child: Child) -> Case:
    """The jeugdarts: a case assigned to them, to ask the SWV for advice."""
    case = _kennisgeving(ctx, child, by=LPA, ontvangen_op=ctx.today - timedelta(days=9))
    _in_behandeling(ctx, case)
    return case


def advies_met_toestemming(ctx: Ctx, child: Child) -> Case:
    """The SWV adviser: an advice request with consent (the child by name); ouder1 follows it."""
    case = _kennisgeving(ctx, child, by=OUDER1)
    _in_behandeling(ctx, case)
    _advies_gevraagd(ctx, case, toestemming=True)
    return case


def advies_zonder_toestemming(ctx: Ctx, child: Child) -> Case:
    """The SWV adviser: an advice request without consent (anonymous, general advice only)."""
    case = _kennisgeving(ctx, child, by=LPA, ontvangen_op=ctx.today - timedelta(days=16))
    _in_behandeling(ctx, case)
    _advies_gevraagd(ctx, case, toestemming=False)
    return case


def advies_uitgebracht(ctx: Ctx, child: Child) -> Case:
    """The jeugdarts: the advice is in, the verklaring is next."""
    case = _kennisgeving(ctx, child, by=LPA, ontvangen_op=ctx.today - timedelta(days=30))
    _in_behandeling(ctx, case)
    _advies_gevraagd(ctx, case, toestemming=True)
    _advies_uitgebracht(ctx, case)
    return case


def advies_buur_swv(ctx: Ctx, child: Child) -> Case:
    """The neighbouring SWV: asked instead of the own SWV, in a Buurdorp case."""
    case = _kennisgeving(ctx, child, by=LPA_BUURDORP, ontvangen_op=ctx.today - timedelta(days=12))
    _in_behandeling(ctx, case, LPA_BUURDORP)
    _advies_gevraagd(ctx, case, toestemming=True, swv="SWV9002")
    return case


def vrijstelling_loopt(ctx: Ctx, child: Child) -> Case:
    """A running exemption (since the start of the school year) whose herbeoordeling is five
    weeks ahead: within the lead time, so `flask tick` starts it. The kennisgeving came in on
    paper, on time, before the school year the exemption began in."""
    today = ctx.today
    herbeoordeling = today + timedelta(days=35)
    max_maanden = (ctx.orgs["GM9001"].max_herbeoordeling_maanden
                   or current_app.config["MAX_HERBEOORDELING_MAANDEN"])
    # From the start of this school year, unless the herbeoordeling would then lie too far ahead.
    schooljaar_begin = date(int(schooljaar_van(today)[:4]), 8, 1)
    ingang = min(max(schooljaar_begin, add_months(herbeoordeling, -max_maanden) + timedelta(days=1)), today)
    schooljaar = schooljaar_van(ingang)
    ontvangen = min(ingang, kennisgeving_deadline(child.geboortedatum, schooljaar) - timedelta(days=14))
    case = _kennisgeving(ctx, child, by=LPA, ontvangen_op=ontvangen, schooljaar=schooljaar)
    _in_behandeling(ctx, case)
    _advies_gevraagd(ctx, case, toestemming=True)
    _advies_uitgebracht(ctx, case)
    _fire(ctx, case, "geef_verklaring", ARTS, {
        "geschikt": False, "weging_advies": WEGING, "verklaringsdatum": today.isoformat(),
        "niet_behandelend_arts": True, "ingangsdatum": ingang.isoformat(),
        "einddatum": (add_months(ingang, 12) - timedelta(days=1)).isoformat(),
        "herbeoordelingsdatum": herbeoordeling.isoformat()})
    return case


def signaal_ontvangen(ctx: Ctx, child: Child) -> Case:
    """Basisschool De Voorbeeld's signaal, for Voorbeeldstad's LPA to look at."""
    return _verzuim(ctx, child, by=SCHOOL, soort="signaal", uren=8, keer_te_laat=13,
                    omschrijving="Komt de laatste weken bijna elke ochtend te laat; ouders zijn lastig te bereiken.")


def melding_in_onderzoek(ctx: Ctx, child: Child) -> Case:
    """A melding of De Voorbeeld in onderzoek: the talk is planned, the cause and route are next."""
    case = _verzuim(ctx, child, by=SCHOOL, soort="melding", uren=18, keer_te_laat=None,
                    omschrijving="Was twee weken vaak afwezig zonder bericht van de ouders.")
    _onderzoek(ctx, case, LPA, add_school_days(ctx.today, 3))
    return case


def melding_ontvangen(ctx: Ctx, child: Child) -> Case:
    """Voorbeeld College's melding for Buurdorp's LPA: start the onderzoek, record the cause,
    see the route proposal (a pupil who skips school himself: Halt)."""
    return _verzuim(ctx, child, by=SCHOOL_COLLEGE, soort="melding", uren=20, keer_te_laat=None,
                    omschrijving="Spijbelt vooral de middaguren; zegt zelf geen zin te hebben in school.")


def noor_in_route(ctx: Ctx, child: Child) -> Case:
    """Noor's melding: the onderzoek is done and the route is voluntary help (ouder2 reads
    where it is; Buurdorp's LPA can start monitoring or close it)."""
    case = _verzuim(ctx, child, by=SCHOOL_COLLEGE, soort="melding", uren=22, keer_te_laat=None,
                    omschrijving="Noor is de laatste weken vaak afwezig, vooral op maandag en dinsdag.")
    _onderzoek(ctx, case, LPA_BUURDORP, ctx.today)
    _fire(ctx, case, "kies_route", LPA_BUURDORP, {
        "route": "vrijwillige_hulp", "oorzaak_categorie": "thuissituatie",
        "oorzaak": "Noor zorgt 's ochtends vaak voor haar kleine broertje; thuis is het onrustig.",
        "gesprek_gevoerd_op": ctx.today.isoformat(),
        "afspraken": "Gesprek met het wijkteam over hulp thuis; Noor is elke dag om 8.30 uur op school."})
    return case


STORIES = [
    Story("100200072", VRIJSTELLING, "kennisgeving van Julia Vermeer", kennisgeving_ontvangen),
    Story("100200217", VRIJSTELLING, "zaak van Finn Peters", in_behandeling),
    Story("100023757", VRIJSTELLING, "adviesaanvraag voor Sam Jansen", advies_met_toestemming),
    Story("100200357", VRIJSTELLING, "adviesaanvraag voor Yara El Amrani", advies_zonder_toestemming),
    Story("100200424", VRIJSTELLING, "advies voor Levi Smits", advies_uitgebracht),
    Story("100200497", VRIJSTELLING, "adviesaanvraag voor Sara Bakker", advies_buur_swv),
    Story("100126704", VRIJSTELLING, "vrijstelling van Daan Jansen", vrijstelling_loopt),
    Story("100200631", VERZUIM, "signaal over Emma Visser", signaal_ontvangen),
    Story("100200709", VERZUIM, "melding over Bram de Groot", melding_in_onderzoek),
    Story("100200564", VERZUIM, "melding over Thijs Mulder", melding_ontvangen),
    Story("100174218", VERZUIM, "melding over Noor de Vries", noor_in_route),
]


# ------------------------------------------------------------------ loading

def _case_child(bsn: str, today: date, orgs: dict[str, Organisation]) -> Child | None:
    """A child of CASE_CHILDREN, added now (None for another BSN)."""
    row = next((r for r in CASE_CHILDREN if r[0] == bsn), None)
    if row is None:
        return None
    _, voornaam, achternaam, leeftijd, geslacht, adres, pc, school_code = row
    school = orgs[school_code]
    # Some months past the birthday: the age is the same in every step of the story.
    geboren = add_months(today, -12 * leeftijd - 4)
    child = Child(bsn=bsn, voornaam=voornaam, achternaam=achternaam, geboortedatum=geboren,
                  geslacht=geslacht, adres=adres, postcode_plaats=pc,
                  gemeente_id=school.gemeente_id, school_id=school.id)
    db.session.add(child)
    db.session.flush()
    return child


def load_demo_cases() -> tuple[int, int, list[str]]:
    """Make the stories not made yet. Returns (cases made, children added, what was skipped
    and why)."""
    from .demo import ORGANISATIONS, USERS

    today = case_service._today()
    users = {u.email: u for u in db.session.scalars(
        select(User).where(User.email.in_([row[0] for row in USERS])))}
    orgs = {o.code: o for o in db.session.scalars(
        select(Organisation).where(Organisation.code.in_([row[1] for row in ORGANISATIONS])))}
    ctx = Ctx(today=today, users=users, orgs=orgs)
    demo_gemeenten = [o.id for o in orgs.values() if o.kind == "gemeente"]
    made, children, skipped = 0, 0, []
    for story in STORIES:
        # Children are kept per gemeente: the demo's own record (the first one made) in a demo
        # gemeente, never another gemeente's record of the same BSN.
        child = db.session.scalar(select(Child).where(
            Child.bsn == story.bsn, Child.gemeente_id.in_(demo_gemeenten)).order_by(Child.id).limit(1))
        if child is not None and db.session.scalar(select(exists().where(
                Case.child_id == child.id, Case.type == story.case_type))):
            continue  # made before, or someone made a case of this kind while trying the demo
        try:
            new_child = child is None
            child = child or _case_child(story.bsn, today, orgs)
            if child is None:  # a demo child that is gone: nothing to tell a story about
                continue
            story.make(ctx, child)
            case_service.commit()
            made, children = made + 1, children + new_child
        except DomainError as exc:
            db.session.rollback()
            skipped.append(f"{story.what}: {exc.message}")
    return made, children, skipped
