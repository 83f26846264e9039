"""Verzuim: signaal zorgelijk verzuim and verzuimmeldingen through the MAS routes (domain.md
workflow 2, mas.md)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import Field

from casework.limits import KorteTekst, Tekst, VerplichteTekst

from .base import (
    NEW, EventSpec, GuardContext, LetterSpec, Payload, Workflow, age_on,
)

CASE_TYPE = "verzuim"

STATES = {
    "ontvangen": "Ontvangen",
    "in_onderzoek": "In onderzoek",
    "vrijwillige_hulp": "Route 1: vrijwillige hulp",
    "halt": "Route 2: Halt-interventie",
    "verplicht_kader": "Route 3: verzoek aan de Raad voor de Kinderbescherming",
    "proces_verbaal": "Route 4: proces-verbaal",
    "monitoring": "Monitoring",
    "afgesloten": "Afgesloten",
}
TERMINAL = frozenset({"afgesloten"})
ROUTES = ("vrijwillige_hulp", "halt", "verplicht_kader", "proces_verbaal")  # light to heavy
OPEN_STATES = ("ontvangen", "in_onderzoek", *ROUTES, "monitoring")

VERZUIMSOORTEN = ("16_uur_4_weken", "langdurig_relatief", "luxe", "overig")
OORZAAK_CATEGORIEEN = ("zorg_of_gezondheid", "thuissituatie", "pesten_of_veiligheid",
                       "geen_passend_aanbod", "eigen_initiatief", "luxe", "onbekend")
RESULTATEN = ("verzuim_gestopt", "doorverwezen", "schoolwissel", "vrijstelling", "verhuisd", "rmc",
              "anders")
DREMPEL_UREN = 16
DREMPEL_DAGEN = 28  # 4 school weeks

# DUO's handling status per state; `afgesloten` depends on how the case ended.
_DUO_STATUS = {"ontvangen": "R", **{s: "B" for s in ("in_onderzoek", *ROUTES, "monitoring")}}
# DUO dropped D (overgedragen) in 2020: a handover to another gemeente is reported as G, closed
# here; the receiving gemeente's own case carries the melding on.
_DUO_AFGESLOTEN = {"ter_kennisgeving": "K", "overgedragen": "G", "ingetrokken": "I", "afgesloten": "G"}


def duo_status(case) -> str:
    return duo_status_of(case.state, (case.data or {}).get("afsluiting"))


def duo_status_of(state: str, afsluiting: str | None) -> str:
    if state == "afgesloten":
        return _DUO_AFGESLOTEN[afsluiting or "afgesloten"]
    return _DUO_STATUS[state]


# ---------------------------------------------------------------- payloads

Verzuimsoort = Literal["16_uur_4_weken", "langdurig_relatief", "luxe", "overig"]
Route = Literal["vrijwillige_hulp", "halt", "verplicht_kader", "proces_verbaal"]
OorzaakCategorie = Literal["zorg_of_gezondheid", "thuissituatie", "pesten_of_veiligheid",
                           "geen_passend_aanbod", "eigen_initiatief", "luxe", "onbekend"]


class DienIn(Payload):
    child_id: int
    soort: Literal["signaal", "melding"]
    verzuimsoort: Verzuimsoort | None = None
    uren: int | None = Field(default=None, ge=0, le=2000)
    keer_te_laat: int | None = Field(default=None, ge=0, le=1000)
    periode_start: date | None = None
    periode_eind: date | None = None
    omschrijving: Tekst = ""
    verzuimbeleid_situatie: Tekst | None = None


class StartOnderzoek(Payload):
    gesprek_gepland_op: date
    gesprek_tijd: KorteTekst = ""
    gesprek_plaats: KorteTekst = ""


class NeemTerKennisgevingAan(Payload):
    reden: VerplichteTekst


class DraagOver(Payload):
    gemeente_id: int


class TrekIn(Payload):
    reden: VerplichteTekst


class EscaleerNaarMelding(Payload):
    verzuimsoort: Verzuimsoort
    uren: int = Field(ge=0, le=2000)
    periode_start: date
    periode_eind: date
    keer_te_laat: int | None = Field(default=None, ge=0, le=1000)


class KiesRoute(Payload):
    route: Route
    oorzaak: VerplichteTekst
    oorzaak_categorie: OorzaakCategorie = "onbekend"
    gesprek_gevoerd_op: date
    motivering_afwijking: Tekst | None = None
    afspraken: Tekst = ""
    toestemming_halt: bool = False
    tegen: Literal["ouders", "jongere"] | None = None
    eerdere_hulp_niet_op_gang: bool = False
    ontwikkeling_in_gevaar: bool = False
    eerdere_routes_mislukt: bool = False
    ouders_werken_niet_mee: bool = False
    opvolgen_op: date | None = None
    # Halt may run alongside voluntary help (MAS): the help goes on while the pupil does Halt.
    hulp_loopt_door: bool = False


class VerwijsDoor(Payload):
    route: Route
    motivering: VerplichteTekst
    afspraken: Tekst = ""
    toestemming_halt: bool = False
    tegen: Literal["ouders", "jongere"] | None = None
    opvolgen_op: date | None = None
    hulp_loopt_door: bool = False


class HervatRoute(VerwijsDoor):
    """The absence came back during monitoring: back to a route (any, by the same guards)."""


class StartMonitoring(Payload):
    uitkomst: VerplichteTekst
    monitoren_tot: date


class SluitAf(Payload):
    resultaat: Literal["verzuim_gestopt", "doorverwezen", "schoolwissel", "vrijstelling",
                       "verhuisd", "rmc", "anders"]
    toelichting: Tekst | None = None


# ---------------------------------------------------------------- rules

def within_four_weeks(start: date | None, end: date | None) -> bool:
    """Calendar days only; the guards count lesweken (melding_feiten_fouten, schoolkalender.py)."""
    return start is not None and end is not None and (end - start).days < DREMPEL_DAGEN


def earlier_halt(child_id: int, case_id: int | None) -> bool:
    """Whether the pupil was referred to Halt for schoolverzuim before (any earlier case)."""
    from sqlalchemy import exists, select

    from casework.extensions import db
    from casework.models import AuditEvent, Case

    q = select(exists().where(AuditEvent.case_id == Case.id, Case.child_id == child_id,
                              Case.type == CASE_TYPE, AuditEvent.to_state == "halt",
                              Case.id != (case_id or -1)))
    # Called mid-transition (the proposal in kies_route's effect): an autoflush there would
    # write the half-applied case and bump its version twice for one event.
    with db.session.no_autoflush:
        return bool(db.session.scalar(q))


def propose_route(*, soort: str, oorzaak_categorie: str, leeftijd: int, uren: int | None,
                  keer_te_laat: int | None, halt_eerder: bool, verzuimsoort: str | None,
                  eerdere_hulp_niet_op_gang: bool = False, ontwikkeling_in_gevaar: bool = False,
                  eerdere_routes_mislukt: bool = False, ouders_werken_niet_mee: bool = False,
                  leeftijd_eind: int | None = None, meerderjarig: bool = False,
                  strafrecht_mogelijk: bool = True,
                  ) -> tuple[str, str]:
    """The signaleringsinstrument of mas.md: the first rule that matches proposes the route.

    `leeftijd` is the age when the absence began (periode_start), `leeftijd_eind` the age when
    it ended (default: the same); `meerderjarig`: 18 or older on the day of the choice (no
    enforcement at all); `strafrecht_mogelijk` False: a melding made from a signaal whose own
    facts would not have made a melding (no Halt, no proces-verbaal)."""
    if soort == "signaal":
        return "vrijwillige_hulp", "Een signaal is bedoeld voor vroege hulp: alleen vrijwillige hulp past."
    if meerderjarig:
        return "vrijwillige_hulp", ("De leerling is 18 jaar of ouder: er is geen handhaving meer. "
                                    "Alleen vrijwillige hulp past, of afsluiten (bijvoorbeeld: overgedragen aan het RMC).")
    if oorzaak_categorie in ("zorg_of_gezondheid", "thuissituatie", "pesten_of_veiligheid",
                             "geen_passend_aanbod"):
        return "vrijwillige_hulp", "Er zijn zorgen of problemen achter het verzuim: eerst hulp."
    leeftijd_eind = leeftijd if leeftijd_eind is None else leeftijd_eind
    if (oorzaak_categorie == "eigen_initiatief" and strafrecht_mogelijk
            and halt_binnen_grenzen(leeftijd, uren, keer_te_laat) and leeftijd_eind <= 17
            and not halt_eerder):
        return "halt", "Jongere van 12 tot 18 die zelf verzuimt, binnen de Halt-grenzen en nog niet eerder naar Halt."
    if eerdere_hulp_niet_op_gang and ontwikkeling_in_gevaar:
        return "verplicht_kader", "Vrijwillige hulp kwam niet op gang en de ontwikkeling van het kind is in gevaar."
    if strafrecht_mogelijk and (eerdere_routes_mislukt or (verzuimsoort == "luxe" and ouders_werken_niet_mee)):
        return "proces_verbaal", "Eerdere routes werkten niet, of luxeverzuim waarbij ouders niet meewerken."
    return "vrijwillige_hulp", "Geen bijzondere aanleiding: licht waar het kan."


def halt_binnen_grenzen(leeftijd: int, uren: int | None, keer_te_laat: int | None) -> bool:
    """Halt's conditions: 12-17, at least 9 hours or 12 times late, at most 60 hours and 60 times."""
    uren, laat = uren or 0, keer_te_laat or 0
    genoeg = uren >= 9 or laat >= 12
    niet_te_veel = uren <= 60 and laat <= 60
    return 12 <= leeftijd <= 17 and genoeg and niet_te_veel


def _guard_child(ctx: GuardContext):
    from casework import policy

    if ctx.case.child is None or not policy.may_report_absence(ctx.actor, ctx.case.child):
        return {"child_id": "Deze leerling is niet gevonden, of u mag voor deze leerling geen verzuim melden."}
    return None


def _school_van(case) -> int | None:
    """The school whose holidays count: the case's, or the pupil's before dien_in sets it."""
    if case.school_id:
        return case.school_id
    return case.child.school_id if case.child is not None else None


def melding_feiten_fouten(case, verzuimsoort, uren, periode_start, periode_eind) -> dict[str, str]:
    """What is wrong with these facts as a fresh verzuimmelding (field -> Dutch message; empty
    when they would be accepted): a verzuimsoort, hours and a period; for '16 uur in 4 weken'
    16 hours or more within at most 4 aaneengesloten lesweken of the pupil's school (art. 21a:
    holiday weeks do not count, see casework/schoolkalender.py). Dates may be given as dates or
    as the JJJJ-MM-DD text that case.data keeps."""
    from casework import schoolkalender

    if isinstance(periode_start, str):
        periode_start = date.fromisoformat(periode_start)
    if isinstance(periode_eind, str):
        periode_eind = date.fromisoformat(periode_eind)
    errors: dict[str, str] = {}
    if verzuimsoort is None:
        errors["verzuimsoort"] = "Kies de soort verzuim van de melding."
    if uren is None:
        errors["uren"] = "Vul het aantal uren ongeoorloofd verzuim in."
    if periode_start is None:
        errors["periode_start"] = "Vul het begin van de periode in."
    if periode_eind is None:
        errors["periode_eind"] = "Vul het einde van de periode in."
    elif periode_start is not None and periode_eind < periode_start:
        errors["periode_eind"] = "Het einde van de periode ligt voor het begin."
    if verzuimsoort != "16_uur_4_weken":
        return errors
    if uren is not None and uren < DREMPEL_UREN:
        errors["uren"] = ("Een melding '16 uur in 4 weken' gaat over 16 uur of meer. "
                          "Is het verzuim onder de 16 uur, dan is het een signaal.")
    if periode_start and periode_eind and "periode_eind" not in errors:
        telling = schoolkalender.telling(_school_van(case), periode_start, periode_eind)
        if not telling.binnen_vier:
            vakantie = telling.vakantie_tekst()
            errors["periode_eind"] = (
                "De periode van een melding '16 uur in 4 weken' is hoogstens 4 aaneengesloten "
                f"lesweken. {telling.periode_tekst()}"
                + (f" ({vakantie})." if vakantie else ".")
                + " Kies een kortere periode, of een andere soort verzuim.")
    return errors


def _signaal_is_melding(case, uren, periode_start, periode_eind) -> str | None:
    """A signaal of 16 hours or more within 4 lesweken (or without a period) is a melding."""
    from casework import schoolkalender

    if uren is None or uren < DREMPEL_UREN:
        return None
    if periode_start is None or periode_eind is None or periode_eind < periode_start:
        return ("16 uur of meer ongeoorloofd verzuim binnen 4 aaneengesloten lesweken is een "
                "verzuimmelding, geen signaal. Doe een melding. Zijn de uren verspreid over meer "
                "dan 4 lesweken? Vul dan de periode in.")
    telling = schoolkalender.telling(_school_van(case), periode_start, periode_eind)
    if not telling.binnen_vier:
        return None
    vakantie = telling.vakantie_tekst()
    return (f"16 uur of meer binnen 4 aaneengesloten lesweken ({telling.periode_tekst()}"
            + (f"; {vakantie}" if vakantie else "") + ") is een verzuimmelding, geen signaal. "
            "Doe een melding.")


def _guard_dien_in(ctx: GuardContext):
    p = ctx.payload
    errors: dict[str, str] = {}
    if p.periode_start and p.periode_eind and p.periode_eind < p.periode_start:
        errors["periode_eind"] = "Het einde van de periode ligt voor het begin."
    if p.periode_eind and p.periode_eind > ctx.today:
        errors["periode_eind"] = "De periode kan niet in de toekomst liggen."
    if p.soort == "signaal":
        if not (p.verzuimbeleid_situatie or "").strip():
            errors["verzuimbeleid_situatie"] = (
                "Noem de situatie uit het verzuimbeleid van de school waar dit signaal onder valt.")
        if p.verzuimsoort is not None:
            errors["verzuimsoort"] = "Een signaal heeft geen verzuimsoort; die hoort bij een melding."
        melding = _signaal_is_melding(ctx.case, p.uren, p.periode_start, p.periode_eind)
        if melding:
            errors["uren"] = melding
    else:
        feiten = melding_feiten_fouten(ctx.case, p.verzuimsoort, p.uren, p.periode_start,
                                       p.periode_eind)
        errors = {**feiten, **errors}
    return errors or None


def kwalificatieplicht_eind(geboortedatum: date) -> date:
    """The last day of the kwalificatieplicht: the day before the 18th birthday (a 29 February
    child turns 18 on 1 March, as age_on counts)."""
    try:
        achttien = geboortedatum.replace(year=geboortedatum.year + 18)
    except ValueError:
        achttien = date(geboortedatum.year + 18, 3, 1)
    return achttien - timedelta(days=1)


def _guard_leerplichtig(ctx: GuardContext):
    """A signaal or melding is only for a pupil who is leerplichtig or kwalificatieplichtig on the
    period's dates (a signaal without a period: the day it is submitted). Leerplicht runs from the
    first day of the month after the 5th birthday to 31 July of the school year of the 16th
    birthday; the kwalificatieplicht follows it until the day before the 18th birthday
    (a startkwalificatie is not recorded here)."""
    from casework.formatting import format_datum

    from .vrijstelling import leerplicht_start

    p, child = ctx.payload, ctx.case.child
    if child is None:
        return None
    begin, eind = leerplicht_start(child.geboortedatum), kwalificatieplicht_eind(child.geboortedatum)
    dagen = [(veld, dag, wat) for veld, dag, wat in (
        ("periode_start", p.periode_start, "begin van de periode"),
        ("periode_eind", p.periode_eind, "einde van de periode")) if dag is not None]
    if not dagen:
        dagen = [("child_id", ctx.today, "de dag van indienen")]
    errors: dict[str, str] = {}
    for veld, dag, wat in dagen:
        if dag < begin:
            errors[veld] = (
                "Verzuim melden kan alleen voor een leerling die leerplichtig is. De leerplicht "
                "begint op de eerste dag van de maand na de 5e verjaardag: voor deze leerling op "
                f"{format_datum(begin)}. Op {format_datum(dag)} ({wat}) was de leerling nog niet "
                "leerplichtig.")
        elif dag > eind:
            errors[veld] = (
                "Verzuim melden kan alleen voor een leerling die leerplichtig of kwalificatieplichtig "
                "is. De kwalificatieplicht eindigt op de dag voor de 18e verjaardag: voor deze "
                f"leerling op {format_datum(eind)}. Op {format_datum(dag)} ({wat}) was de leerling "
                f"{age_on(child.geboortedatum, dag)}. Voor jongeren vanaf 18 is het RMC het aanspreekpunt.")
    return errors or None


def _guard_reden_voor_school(ctx: GuardContext):
    """The reason goes into a letter to the school, which never learns of routes or help."""
    from casework.letters.render import school_tekst_problemen

    words = school_tekst_problemen(ctx.payload.reden)
    if words:
        return {"reden": ("De school leest deze reden. Noem geen hulp of route "
                          f"(u schreef: {', '.join(sorted(set(words)))}). Houd het algemeen.")}
    return None


def _guard_onderzoek(ctx: GuardContext):
    if ctx.payload.gesprek_gepland_op < ctx.today:
        return {"gesprek_gepland_op": "De datum van het gesprek kan niet in het verleden liggen."}
    return None


def _guard_escaleer(ctx: GuardContext):
    p = ctx.payload
    errors = melding_feiten_fouten(ctx.case, p.verzuimsoort, p.uren, p.periode_start, p.periode_eind)
    return errors or None


def _periode_data(case, today: date) -> tuple[date, date]:
    """The absence period of the case (periode_start..periode_eind in data); a case without one
    counts from the day it came in (or today)."""
    d = case.data or {}
    fallback = d.get("ontvangen_op") or today.isoformat()
    start = date.fromisoformat(d.get("periode_start") or d.get("periode_eind") or fallback)
    eind = date.fromisoformat(d.get("periode_eind") or d.get("periode_start") or fallback)
    return start, eind


def leeftijden(case, today: date) -> tuple[int, int, int]:
    """(age when the absence began, age when it ended, age on `today`): Halt and a
    proces-verbaal against the young person look at the period (the offence), the end of
    enforcement at 18 at the day of the choice."""
    start, eind = _periode_data(case, today)
    geb = case.child.geboortedatum
    return age_on(geb, start), age_on(geb, eind), age_on(geb, today)


def _signaal_zonder_meldingsfeiten(case) -> dict[str, str]:
    """For a melding made from a signaal (escaleer_naar_melding): what its own facts lack to be a
    fresh melding (empty: enough). `overig` has no threshold, so it needs 16 hours in 4 lesweken."""
    d = case.data or {}
    if d.get("oorspronkelijke_soort") != "signaal" or d.get("soort") != "melding":
        return {}
    args = (d.get("uren"), d.get("periode_start"), d.get("periode_eind"))
    fouten = melding_feiten_fouten(case, d.get("verzuimsoort"), *args)
    if not fouten and d.get("verzuimsoort") == "overig":
        fouten = melding_feiten_fouten(case, "16_uur_4_weken", *args)
    return fouten


def _route_guards(ctx: GuardContext, route: str) -> dict[str, str]:
    from casework.formatting import format_datum

    case, p = ctx.case, ctx.payload
    errors: dict[str, str] = {}
    soort = case.data.get("soort")
    start, eind = _periode_data(case, ctx.today)
    leeftijd_start, leeftijd_eind, leeftijd = leeftijden(case, ctx.today)
    if soort == "signaal" and route != "vrijwillige_hulp":
        errors["route"] = ("Bij een signaal is alleen vrijwillige hulp mogelijk. Halt, de Raad of "
                           "een proces-verbaal kan pas na een verzuimmelding.")
        return errors
    if route != "vrijwillige_hulp" and leeftijd >= 18:
        errors["route"] = (
            "Vanaf 18 jaar is er geen handhaving meer: geen Halt, geen proces-verbaal en geen "
            "verzoek aan de Raad voor de Kinderbescherming (dat is voor minderjarigen). "
            f"Op {format_datum(ctx.today)} (vandaag) is deze leerling {leeftijd}. Kies vrijwillige "
            "hulp, of sluit de zaak af (bijvoorbeeld: overgedragen aan het RMC).")
        return errors
    if route in ("halt", "proces_verbaal"):
        fouten = _signaal_zonder_meldingsfeiten(case)
        if fouten:
            errors["route"] = (
                "Deze melding is ontstaan uit een signaal. Een signaal is niet bedoeld voor "
                "strafrechtelijke handhaving: Halt of een proces-verbaal kan alleen als de feiten "
                "van de melding zelf genoeg zijn voor een verzuimmelding (bij 'overig': 16 uur of "
                "meer binnen 4 lesweken). Dat is hier niet zo: " + " ".join(fouten.values()))
            return errors
    if route == "halt":
        if leeftijd_start < 12:
            errors["route"] = (
                "Halt is voor jongeren die 12 tot en met 17 jaar waren toen het verzuim gebeurde. "
                f"Op {format_datum(start)} (begin van de periode) was deze leerling {leeftijd_start}.")
        elif leeftijd_eind > 17:
            errors["route"] = (
                "Halt is voor jongeren die 12 tot en met 17 jaar waren toen het verzuim gebeurde. "
                f"Op {format_datum(eind)} (einde van de periode) was deze leerling {leeftijd_eind}.")
        elif not halt_binnen_grenzen(leeftijd_start, case.data.get("uren"), case.data.get("keer_te_laat")):
            errors["route"] = "Halt past bij 9 tot 60 uur verzuim, of 12 tot 60 keer te laat."
        elif earlier_halt(case.child_id, case.id):
            errors["route"] = "Deze leerling ging al eerder naar Halt voor schoolverzuim."
        if not p.toestemming_halt:
            errors["toestemming_halt"] = ("Halt kan alleen met toestemming van de jongere"
                                          + (" en de ouders." if leeftijd < 16 else "."))
    if route == "proces_verbaal":
        if p.tegen is None:
            errors["tegen"] = "Kies tegen wie het proces-verbaal is: de ouders of de jongere."
        elif p.tegen == "jongere" and leeftijd_start < 12:
            errors["tegen"] = (
                "Een proces-verbaal tegen de jongere kan alleen als de jongere 12 jaar of ouder "
                f"was toen het verzuim begon. Op {format_datum(start)} (begin van de periode) was "
                f"deze leerling {leeftijd_start}.")
    return errors


class RouteVoorstelVraag(Payload):
    """What the LPA records about the cause; the product answers with a proposed route."""

    oorzaak_categorie: OorzaakCategorie = "onbekend"
    eerdere_hulp_niet_op_gang: bool = False
    ontwikkeling_in_gevaar: bool = False
    eerdere_routes_mislukt: bool = False
    ouders_werken_niet_mee: bool = False


def proposal_for(ctx: GuardContext) -> tuple[str, str]:
    case, p = ctx.case, ctx.payload
    leeftijd_start, leeftijd_eind, leeftijd = leeftijden(case, ctx.today)
    return propose_route(
        soort=case.data.get("soort"), oorzaak_categorie=p.oorzaak_categorie,
        leeftijd=leeftijd_start, leeftijd_eind=leeftijd_eind, meerderjarig=leeftijd >= 18,
        strafrecht_mogelijk=not _signaal_zonder_meldingsfeiten(case), uren=case.data.get("uren"),
        keer_te_laat=case.data.get("keer_te_laat"), halt_eerder=earlier_halt(case.child_id, case.id),
        verzuimsoort=case.data.get("verzuimsoort"),
        eerdere_hulp_niet_op_gang=p.eerdere_hulp_niet_op_gang,
        ontwikkeling_in_gevaar=p.ontwikkeling_in_gevaar,
        eerdere_routes_mislukt=p.eerdere_routes_mislukt,
        ouders_werken_niet_mee=p.ouders_werken_niet_mee)


def _guard_kies_route(ctx: GuardContext):
    errors = _route_guards(ctx, ctx.payload.route)
    if ctx.payload.gesprek_gevoerd_op > ctx.today:
        errors["gesprek_gevoerd_op"] = "Het gesprek kan niet in de toekomst gevoerd zijn."
    voorstel, _ = proposal_for(ctx)
    if ctx.payload.route != voorstel and not (ctx.payload.motivering_afwijking or "").strip():
        errors["motivering_afwijking"] = (
            f"U kiest een andere route dan het voorstel ({STATES[voorstel]}). "
            "Leg uit waarom (pas toe of leg uit).")
    return errors or None


def _guard_verwijs_door(ctx: GuardContext):
    if ROUTES.index(ctx.payload.route) <= ROUTES.index(ctx.case.state):
        return {"route": "Doorverwijzen kan alleen naar een zwaardere route."}
    return _route_guards(ctx, ctx.payload.route) or None


def _guard_hulp_naast_halt(ctx: GuardContext):
    if ctx.payload.hulp_loopt_door and ctx.payload.route != "halt":
        return {"hulp_loopt_door": "Hulp die doorloopt naast Halt hoort bij de route Halt."}
    return None


def _guard_hervat_route(ctx: GuardContext):
    return _route_guards(ctx, ctx.payload.route) or None


def _guard_monitoring(ctx: GuardContext):
    if ctx.payload.monitoren_tot <= ctx.today:
        return {"monitoren_tot": "Kies een datum in de toekomst tot wanneer de aanwezigheid gevolgd wordt."}
    return None


def _guard_draag_over(ctx: GuardContext):
    from casework.extensions import db
    from casework.models import Organisation

    org = db.session.get(Organisation, ctx.payload.gemeente_id)
    if org is None or org.kind != "gemeente":
        return {"gemeente_id": "Kies de gemeente die de zaak overneemt."}
    if org.id == ctx.case.gemeente_id:
        return {"gemeente_id": "Kies een andere gemeente dan de eigen gemeente."}
    return None


def _guard_sluit_af(ctx: GuardContext):
    if ctx.payload.resultaat == "anders" and not (ctx.payload.toelichting or "").strip():
        return {"toelichting": "Bij resultaat 'anders' is een toelichting nodig."}
    return None


# ---------------------------------------------------------------- effects

def _iso(value):
    return value.isoformat() if value else None


def _apply_dien_in(ctx: GuardContext) -> None:
    p, case = ctx.payload, ctx.case
    case.school_id = case.child.school_id
    case.data = {
        "soort": p.soort, "oorspronkelijke_soort": p.soort, "verzuimsoort": p.verzuimsoort,
        "uren": p.uren, "keer_te_laat": p.keer_te_laat, "periode_start": _iso(p.periode_start),
        "periode_eind": _iso(p.periode_eind), "omschrijving": p.omschrijving,
        "verzuimbeleid_situatie": p.verzuimbeleid_situatie, "ontvangen_op": ctx.today.isoformat(),
        "ingediend_door": ctx.actor.role if ctx.actor else "duo_import",
    }


def _apply_start_onderzoek(ctx: GuardContext) -> None:
    p = ctx.payload
    ctx.case.data = {**ctx.case.data, "gesprek_gepland_op": p.gesprek_gepland_op.isoformat(),
                     "gesprek_tijd": p.gesprek_tijd, "gesprek_plaats": p.gesprek_plaats,
                     "onderzoek_gestart_op": ctx.today.isoformat()}


def _apply_close(kind: str):
    def apply(ctx: GuardContext) -> None:
        extra = {}
        p = ctx.payload
        if hasattr(p, "reden"):
            extra["reden_afsluiting"] = p.reden
        if hasattr(p, "gemeente_id"):
            extra["overgedragen_aan"] = p.gemeente_id
        if hasattr(p, "resultaat"):
            extra["resultaat"] = p.resultaat
            extra["toelichting_resultaat"] = p.toelichting
        ctx.case.data = {**ctx.case.data, **extra, "afsluiting": kind,
                         "afgesloten_op": ctx.today.isoformat()}

    return apply


def _apply_escaleer(ctx: GuardContext) -> None:
    p = ctx.payload
    ctx.case.data = {**ctx.case.data, "soort": "melding", "verzuimsoort": p.verzuimsoort,
                     "uren": p.uren, "keer_te_laat": p.keer_te_laat or ctx.case.data.get("keer_te_laat"),
                     "periode_start": p.periode_start.isoformat(),
                     "periode_eind": p.periode_eind.isoformat(),
                     "omgezet_op": ctx.today.isoformat()}


def _follow_up(ctx: GuardContext) -> str:
    days = ctx.settings.get("ROUTE_OPVOLG_DAGEN", 42)
    return (ctx.payload.opvolgen_op or ctx.today + timedelta(days=days)).isoformat()


def _apply_kies_route(ctx: GuardContext) -> None:
    p = ctx.payload
    voorstel, reden = proposal_for(ctx)
    ctx.case.data = {**ctx.case.data, "route": p.route, "oorzaak": p.oorzaak,
                     "oorzaak_categorie": p.oorzaak_categorie,
                     "gesprek_gevoerd_op": p.gesprek_gevoerd_op.isoformat(),
                     "voorgestelde_route": voorstel, "reden_voorstel": reden,
                     "motivering_afwijking": p.motivering_afwijking if p.route != voorstel else None,
                     "afspraken": p.afspraken, "toestemming_halt": p.toestemming_halt,
                     "tegen": p.tegen if p.route == "proces_verbaal" else None,
                     "routes": [*ctx.case.data.get("routes", []), p.route],
                     "opvolgen_op": _follow_up(ctx)}


def _apply_verwijs_door(ctx: GuardContext) -> None:
    p = ctx.payload
    ctx.case.data = {**ctx.case.data, "route": p.route, "motivering_doorverwijzing": p.motivering,
                     "afspraken": p.afspraken or ctx.case.data.get("afspraken", ""),
                     "toestemming_halt": p.toestemming_halt,
                     "tegen": p.tegen if p.route == "proces_verbaal" else None,
                     "routes": [*ctx.case.data.get("routes", []), p.route],
                     "opvolgen_op": _follow_up(ctx)}


def _hulp_loopt_door(ctx: GuardContext) -> None:
    ctx.case.data = {**ctx.case.data,
                     "hulp_loopt_door": bool(ctx.payload.hulp_loopt_door and ctx.payload.route == "halt")}


def _apply_kies_route_en_hulp(ctx: GuardContext) -> None:
    _apply_kies_route(ctx)
    _hulp_loopt_door(ctx)


def _apply_verwijs_door_en_hulp(ctx: GuardContext) -> None:
    _apply_verwijs_door(ctx)
    _hulp_loopt_door(ctx)


def _apply_hervat_route(ctx: GuardContext) -> None:
    """As a referral, but from monitoring: its own reason and date, an earlier referral's kept."""
    earlier = ctx.case.data.get("motivering_doorverwijzing")
    _apply_verwijs_door_en_hulp(ctx)
    ctx.case.data = {**ctx.case.data, "motivering_doorverwijzing": earlier,
                     "motivering_hervatting": ctx.payload.motivering,
                     "hervat_op": ctx.today.isoformat()}


def _apply_monitoring(ctx: GuardContext) -> None:
    p = ctx.payload
    ctx.case.data = {**ctx.case.data, "uitkomst": p.uitkomst,
                     "monitoren_tot": p.monitoren_tot.isoformat()}


def _audit_kies_route(ctx: GuardContext) -> dict:
    """Proposal, choice and the reason for a difference, in the audit row itself."""
    voorstel, _ = proposal_for(ctx)
    afwijking = ctx.payload.route != voorstel
    return {"voorgestelde_route": voorstel, "gekozen_route": ctx.payload.route,
            "afwijking": afwijking,
            "motivering_afwijking": ctx.payload.motivering_afwijking if afwijking else None}


def _audit_verwijs_door(ctx: GuardContext) -> dict:
    return {"gekozen_route": ctx.payload.route}


def _route_dest(ctx: GuardContext) -> str:
    return ctx.payload.route


def _deadlines(case, settings: dict) -> list[tuple[str, date]]:
    d = case.data
    iso = date.fromisoformat
    found: list[tuple[str, date]] = []
    if case.state == "ontvangen" and d.get("ontvangen_op"):
        found.append(("onderzoek", add_school_days(iso(d["ontvangen_op"]),
                                                   settings.get("VERZUIM_ONDERZOEK_SCHOOLDAGEN", 5))))
    elif case.state == "in_onderzoek" and d.get("gesprek_gepland_op"):
        found.append(("gesprek", iso(d["gesprek_gepland_op"])))
    elif case.state in ROUTES and d.get("opvolgen_op"):
        found.append(("opvolging", iso(d["opvolgen_op"])))
    elif case.state == "monitoring" and d.get("monitoren_tot"):
        found.append(("monitoring", iso(d["monitoren_tot"])))
    return found


def add_school_days(day: date, n: int) -> date:
    """n school days (Monday to Friday) after day."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


_LPA = frozenset({"leerplichtambtenaar"})
_ROUTE_LETTERS = tuple(
    spec for route in ROUTES for spec in (
        LetterSpec(f"vz_route_{route}", "ouder", when=lambda c, r=route: c.state == r),
        LetterSpec(f"vz_route_{route}", "leerling", when=lambda c, r=route: c.state == r),
    )
)

EVENTS = {e.name: e for e in (
    EventSpec("dien_in", "Verzuim melden", (NEW,), "ontvangen",
              frozenset({"school", "leerplichtambtenaar", "duo_import"}), DienIn,
              (_guard_child, _guard_dien_in, _guard_leerplichtig), (LetterSpec("vz_ontvangstbevestiging", "school"),),
              _apply_dien_in),
    EventSpec("start_onderzoek", "Onderzoek starten", ("ontvangen",), "in_onderzoek", _LPA,
              StartOnderzoek, (_guard_onderzoek,),
              (LetterSpec("vz_uitnodiging", "ouder"), LetterSpec("vz_uitnodiging", "leerling")),
              _apply_start_onderzoek),
    EventSpec("neem_ter_kennisgeving_aan", "Ter kennisgeving aannemen", ("ontvangen",), "afgesloten",
              _LPA, NeemTerKennisgevingAan, (_guard_reden_voor_school,),
              (LetterSpec("vz_ter_kennisgeving", "school"),),
              _apply_close("ter_kennisgeving")),
    EventSpec("draag_over", "Overdragen aan andere gemeente", ("ontvangen", "in_onderzoek"),
              "afgesloten", _LPA, DraagOver, (_guard_draag_over,),
              (LetterSpec("vz_overdracht_school", "school"),
               LetterSpec("vz_overdracht_gemeente", "nieuwe_gemeente")), _apply_close("overgedragen")),
    EventSpec("trek_in", "Intrekken", ("ontvangen",), "afgesloten", frozenset({"school"}), TrekIn,
              (_guard_reden_voor_school,), (LetterSpec("vz_intrekking", "school"),),
              _apply_close("ingetrokken")),
    EventSpec("escaleer_naar_melding", "Omzetten naar verzuimmelding", OPEN_STATES, "in_onderzoek",
              frozenset({"school", "leerplichtambtenaar"}), EscaleerNaarMelding, (_guard_escaleer,),
              (LetterSpec("vz_omzetting", "ouder"), LetterSpec("vz_omzetting_school", "school")),
              _apply_escaleer, applies=lambda case: (case.data or {}).get("soort") == "signaal"),
    EventSpec("kies_route", "Route kiezen", ("in_onderzoek",), _route_dest, _LPA, KiesRoute,
              (_guard_kies_route, _guard_hulp_naast_halt), _ROUTE_LETTERS, _apply_kies_route_en_hulp,
              dests=ROUTES,
              audit_details=_audit_kies_route),
    EventSpec("verwijs_door", "Doorverwijzen naar zwaardere route", ROUTES, _route_dest, _LPA,
              VerwijsDoor, (_guard_verwijs_door, _guard_hulp_naast_halt), _ROUTE_LETTERS,
              _apply_verwijs_door_en_hulp,
              dests=ROUTES, audit_details=_audit_verwijs_door),
    EventSpec("start_monitoring", "Monitoring starten", ROUTES, "monitoring", _LPA, StartMonitoring,
              (_guard_monitoring,),
              (LetterSpec("vz_monitoring", "ouder"), LetterSpec("vz_monitoring_school", "school")),
              _apply_monitoring),
    EventSpec("sluit_af", "Afsluiten", ("in_onderzoek", *ROUTES, "monitoring"), "afgesloten", _LPA,
              SluitAf, (_guard_sluit_af,),
              (LetterSpec("vz_afsluiting", "ouder"), LetterSpec("vz_afsluiting_school", "school")),
              _apply_close("afgesloten")),
    EventSpec("hervat_route", "Terug naar een route", ("monitoring",), _route_dest, _LPA,
              HervatRoute, (_guard_hervat_route, _guard_hulp_naast_halt), _ROUTE_LETTERS,
              _apply_hervat_route, dests=ROUTES, audit_details=_audit_verwijs_door),
)}


def letter_facts(kind: str, case, recipient: dict) -> dict:
    """Plain values per letter kind; a school letter never carries cause, route or help."""
    from casework.extensions import db
    from casework.models import Organisation

    d = case.data
    iso = lambda key: date.fromisoformat(d[key]) if d.get(key) else None  # noqa: E731
    school = case.school
    facts: dict = {"soort": d.get("soort"), "school_naam": school.naam if school else "",
                   "aan_leerling": recipient["role"] == "leerling"}
    period = {"verzuimsoort": d.get("verzuimsoort"), "uren": d.get("uren"),
              "periode_start": iso("periode_start"), "periode_eind": iso("periode_eind")}
    if kind == "vz_ontvangstbevestiging":
        facts |= period | {"ontvangen_op": iso("ontvangen_op")}
    elif kind == "vz_uitnodiging":
        facts |= {"gesprek_gepland_op": iso("gesprek_gepland_op"), "gesprek_tijd": d.get("gesprek_tijd", ""),
                  "gesprek_plaats": d.get("gesprek_plaats", "")}
    elif kind in ("vz_ter_kennisgeving", "vz_intrekking"):
        facts |= {"reden": d.get("reden_afsluiting", "")}
    elif kind in ("vz_overdracht_school", "vz_overdracht_gemeente"):
        org = db.session.get(Organisation, d.get("overgedragen_aan"))
        facts |= {"nieuwe_gemeente": org.naam if org else ""}
        if kind == "vz_overdracht_gemeente":
            facts |= period | {"omschrijving": d.get("omschrijving", "")}
    elif kind in ("vz_omzetting", "vz_omzetting_school"):
        facts |= period
    elif kind.startswith("vz_route_"):
        facts |= {"afspraken": d.get("afspraken", ""), "verwezen": len(d.get("routes", [])) > 1,
                  "hulp_loopt_door": bool(d.get("hulp_loopt_door"))}
        if kind == "vz_route_proces_verbaal":
            facts |= {"tegen": d.get("tegen")}
    elif kind in ("vz_monitoring", "vz_monitoring_school"):
        facts |= {"monitoren_tot": iso("monitoren_tot")}
    elif kind == "vz_afsluiting":
        facts |= {"resultaat": d.get("resultaat"), "toelichting": d.get("toelichting_resultaat")}
    return facts


WORKFLOW = Workflow(
    case_type=CASE_TYPE,
    label="Verzuim",
    states=STATES,
    terminal=TERMINAL,
    events=EVENTS,
    open_event="dien_in",
    deadlines=_deadlines,
    reference_prefix="VZ",
    letter_facts=letter_facts,
    one_open_case_per_child=False,
)
