"""Vrijstelling 5 onder a (art. 5 onder a Leerplichtwet 1969), as in domain.md workflow 1."""
from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from typing import Literal

from pydantic import Field, field_validator

from casework.formatting import format_datum
from casework.limits import MAX_REGELS, KorteTekst, Regel, Tekst, VerplichteTekst

from .base import (
    NEW, SYSTEM_ROLE, EventSpec, GuardContext, LetterSpec, Payload, Workflow, add_months, age_on,
)

CASE_TYPE = "vrijstelling_5a"

STATES = {
    "kennisgeving_ontvangen": "Kennisgeving ontvangen",
    "niet_ontvankelijk": "Niet-ontvankelijk: aanvulling nodig",
    "in_behandeling": "In behandeling",
    "advies_gevraagd": "Advies gevraagd aan samenwerkingsverband",
    "advies_uitgebracht": "Advies ontvangen",
    "vrijgesteld": "Vrijgesteld",
    "geen_vrijstelling": "Geen vrijstelling",
    "herbeoordeling": "Herbeoordeling",
    "ingetrokken": "Ingetrokken",
    "beeindigd": "Beëindigd",
}
TERMINAL = frozenset({"ingetrokken", "beeindigd"})

BEEINDIG_REDENEN = ("verlopen", "ingeschreven_op_school", "verhuisd", "einde_leerplicht", "anders")

_SCHOOLJAAR = re.compile(r"^(\d{4})-(\d{4})$")


# ---------------------------------------------------------------- payloads

class DienIn(Payload):
    child_id: int
    schooljaar: KorteTekst
    toelichting: Tekst = ""
    eerder_vrijgesteld: bool = False
    ontvangen_op: date | None = None

    @field_validator("schooljaar")
    @classmethod
    def _schooljaar(cls, value: str) -> str:
        match = _SCHOOLJAAR.match(value)
        if not match or int(match[2]) != int(match[1]) + 1:
            raise ValueError("Vul het schooljaar in als 2027-2028.")
        return value


class NeemInBehandeling(Payload):
    deskundige_id: int
    motivering_te_laat: Tekst | None = None


class VerklaarNietOntvankelijk(Payload):
    reden: VerplichteTekst


class VulAan(Payload):
    aanvulling: VerplichteTekst


class VraagAdvies(Payload):
    swv_id: int
    toestemming: bool
    toestemming_door: Literal["ouder", "jongere"] | None = None
    samenvatting: VerplichteTekst


class BrengAdviesUit(Payload):
    advies: VerplichteTekst
    soort: Literal["persoonlijk", "algemeen"]
    mogelijkheden: list[Regel] = Field([], max_length=MAX_REGELS)


class GeefVerklaring(Payload):
    geschikt: bool
    weging_advies: VerplichteTekst
    verklaringsdatum: date
    niet_behandelend_arts: bool
    ingangsdatum: date | None = None
    einddatum: date | None = None
    herbeoordelingsdatum: date | None = None
    medische_notitie: Tekst | None = None


class StartHerbeoordeling(Payload):
    pass


class Beeindig(Payload):
    reden: Literal["verlopen", "ingeschreven_op_school", "verhuisd", "einde_leerplicht", "anders"]
    toelichting: Tekst | None = None
    #: reden ingeschreven_op_school while an exemption runs: the deskundige judged it no longer needed
    deskundige_akkoord: bool = False


class TrekIn(Payload):
    reden: Tekst | None = None


class Importeer(Payload):
    """An exemption granted under the old rules, as the gemeente registered it (overgangsrecht)."""

    child_id: int
    begindatum: date
    einddatum: date | None = None
    herbeoordelingsdatum: date | None = None


class HerinnerVerlenging(Payload):
    pass


class SluitNietAangevuld(Payload):
    pass


class VraagAnderSwv(VraagAdvies):
    reden: VerplichteTekst


class ZieAf(Payload):
    toelichting: Tekst | None = None


# ---------------------------------------------------------------- rules

def leerplicht_start(geboortedatum: date) -> date:
    """Leerplichtig from the first day of the month after the 5th birthday."""
    fifth = date(geboortedatum.year + 5, geboortedatum.month, 1)
    return add_months(fifth, 1)


def kennisgeving_deadline(geboortedatum: date, schooljaar: str) -> date:
    """Last day the notice is on time (art. 6): a month before leerplicht starts, else before 1 July."""
    first_year = int(schooljaar[:4])
    july_first = date(first_year, 7, 1)
    start = leerplicht_start(geboortedatum)
    if start > july_first:
        return add_months(start, -1)
    return july_first - timedelta(days=1)


def schooljaar_van(day: date) -> str:
    """The school year (1 August – 31 July) a day falls in, as "2027-2028"."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def _guard_leerplichtig_in_schooljaar(ctx: GuardContext):
    """Leerplicht from leerplicht_start until 31 July of the school year of the 16th birthday; a 5a
    exemption also covers the kwalificatieplicht, until the 18th birthday. One day in the year is enough."""
    child = ctx.case.child
    if child is None:
        return None
    first_year = int(ctx.payload.schooljaar[:4])
    begin, eind = date(first_year, 8, 1), date(first_year + 1, 7, 31)
    start = leerplicht_start(child.geboortedatum)
    if start > eind:
        return {"schooljaar": (f"{child.voornaam} wordt leerplichtig op {format_datum(start)}. "
                               f"Kies het schooljaar {schooljaar_van(start)} of later.")}
    gd = child.geboortedatum
    achttien = date(gd.year + 18, 3, 1) if (gd.month, gd.day) == (2, 29) else gd.replace(year=gd.year + 18)
    if age_on(gd, begin) >= 18:
        hem = {"M": "hem", "V": "haar"}.get(child.geslacht, child.voornaam)
        return {"schooljaar": (f"{child.voornaam} wordt op {format_datum(achttien)} 18 jaar; in het schooljaar "
                               f"{ctx.payload.schooljaar} geldt voor {hem} geen leerplicht of "
                               "kwalificatieplicht meer.")}
    return None


def _guard_child_visible(ctx: GuardContext):
    from casework import policy

    if ctx.case.child is None or not policy.may_file_for_child(ctx.actor, ctx.case.child):
        return {"child_id": "Dit kind is niet gevonden, of u mag voor dit kind geen kennisgeving doen."}
    return None


def _guard_ontvangen_op(ctx: GuardContext):
    received = ctx.payload.ontvangen_op
    if received is None:
        return None
    if ctx.actor.role != "leerplichtambtenaar":
        return {"ontvangen_op": "Alleen de leerplichtambtenaar vult de ontvangstdatum van een papieren kennisgeving in."}
    if received > ctx.today:
        return {"ontvangen_op": "De ontvangstdatum kan niet in de toekomst liggen."}
    return None


def _guard_motivering_te_laat(ctx: GuardContext):
    if ctx.case.data.get("te_laat") and not (ctx.payload.motivering_te_laat or "").strip():
        return {"motivering_te_laat": "De kennisgeving kwam te laat binnen: schrijf op waarom u haar toch in behandeling neemt."}
    return None


def _guard_deskundige(ctx: GuardContext):
    from casework import policy

    if not policy.is_deskundige_for_gemeente(ctx.payload.deskundige_id, ctx.case.gemeente_id):
        return {"deskundige_id": "Kies een jeugdarts van een JGZ-organisatie die voor deze gemeente werkt."}
    return None


def _guard_swv(ctx: GuardContext):
    from casework import policy

    if not policy.is_swv_for_gemeente(ctx.payload.swv_id, ctx.case.gemeente_id):
        return {"swv_id": "Kies het samenwerkingsverband van de regio van het kind, of een naburig samenwerkingsverband."}
    return None


def _guard_toestemming(ctx: GuardContext):
    """Before 16 the parents decide about sharing the child's data, from 16 the young person."""
    p, child = ctx.payload, ctx.case.child
    age = age_on(child.geboortedatum, ctx.today)
    wie = "ouder" if age < 16 else "jongere"
    if p.toestemming_door == wie:
        return None
    hij = {"M": "hij", "V": "zij"}.get(child.geslacht, child.voornaam)
    zijn = {"M": "zijn ouders", "V": "haar ouders"}.get(child.geslacht, f"de ouders van {child.voornaam}")
    if wie == "ouder":
        regel = (f"Op {format_datum(ctx.today)} is {child.voornaam} {age} jaar: {zijn} beslissen over "
                 "het delen van gegevens. Kies 'de ouder'.")
    else:
        regel = (f"Op {format_datum(ctx.today)} is {child.voornaam} {age} jaar: {hij} beslist vanaf 16 jaar "
                 "zelf over het delen van gegevens. Kies 'de jongere'.")
    if p.toestemming_door is None:
        regel = "Vul in wie besliste over het delen van gegevens. " + regel
    return {"toestemming_door": regel}


def _guard_advies_soort(ctx: GuardContext):
    if ctx.payload.soort == "persoonlijk" and not ctx.case.toestemming:
        return {"soort": "Zonder toestemming mag alleen een algemeen advies worden gegeven, geen persoonlijk advies."}
    return None


def _guard_verklaring(ctx: GuardContext):
    p = ctx.payload
    errors: dict[str, str] = {}
    if not p.niet_behandelend_arts:
        errors["niet_behandelend_arts"] = "De verklaring moet komen van een deskundige die niet de behandelend arts van het kind is."
    if p.verklaringsdatum > ctx.today:
        errors["verklaringsdatum"] = "De datum van de verklaring kan niet in de toekomst liggen."
    elif p.verklaringsdatum < add_months(ctx.today, -3):
        errors["verklaringsdatum"] = "De verklaring is ouder dan 3 maanden. Een nieuwe verklaring is nodig."
    if not p.geschikt:
        max_months = ctx.case.gemeente.max_herbeoordeling_maanden or ctx.settings["MAX_HERBEOORDELING_MAANDEN"]
        if p.ingangsdatum is None:
            errors["ingangsdatum"] = "Vul de datum in waarop de vrijstelling ingaat."
        if p.herbeoordelingsdatum is None:
            errors["herbeoordelingsdatum"] = "Vul de datum van de herbeoordeling in."
        if p.ingangsdatum and p.einddatum and p.einddatum < p.ingangsdatum:
            errors["einddatum"] = "De einddatum kan niet voor de ingangsdatum liggen."
        if p.ingangsdatum and p.herbeoordelingsdatum:
            if p.herbeoordelingsdatum <= p.ingangsdatum:
                errors["herbeoordelingsdatum"] = "De herbeoordeling moet na de ingangsdatum liggen."
            elif p.einddatum and p.herbeoordelingsdatum > p.einddatum:
                errors["herbeoordelingsdatum"] = "De herbeoordeling kan niet na de einddatum liggen."
            elif p.herbeoordelingsdatum > add_months(p.ingangsdatum, max_months):
                errors["herbeoordelingsdatum"] = (
                    f"De herbeoordeling mag hoogstens {max_months} maanden na de ingangsdatum liggen."
                )
    return errors or None


def _guard_einde_na_herbeoordeling(ctx: GuardContext):
    """Fit after a herbeoordeling: the exemption ends on the verklaring's date or a date set."""
    from casework.formatting import format_datum

    p, case = ctx.payload, ctx.case
    if not (p.geschikt and heeft_vrijstelling(case)):
        return None
    end = p.einddatum or p.verklaringsdatum
    if end < case.ingangsdatum:
        return {"einddatum": (f"De vrijstelling liep vanaf {format_datum(case.ingangsdatum)}. "
                              "Zij kan niet eerder eindigen.")}
    if case.einddatum and end > case.einddatum:
        return {"einddatum": (f"De vrijstelling eindigt al op {format_datum(case.einddatum)}. "
                              "Kies die datum of een eerdere.")}
    return None


def verlengen_voor(case, today: date) -> date:
    """Last day to file the renewal kennisgeving on time: before 1 July preceding the school
    year after the end date (art. 6); already past, then before the end date itself."""
    deadline = kennisgeving_deadline(case.child.geboortedatum, schooljaar_van(case.einddatum + timedelta(days=1)))
    return deadline if deadline >= today else case.einddatum


def _renewal(case):
    from sqlalchemy import select

    from casework.extensions import db
    from casework.models import Case

    with db.session.no_autoflush:
        return db.session.scalar(select(Case).where(Case.vorige_case_id == case.id).limit(1))


def _guard_herinnering(ctx: GuardContext):
    from casework.formatting import format_datum

    case = ctx.case
    if case.einddatum is None:
        return {"einddatum": "Deze vrijstelling loopt tot het einde van de leerplicht: een herinnering "
                             "om te verlengen is niet nodig."}
    sent = case.data.get("herinnering_verlenging_op")
    if sent:
        return {"einddatum": f"De herinnering is al verstuurd op {format_datum(date.fromisoformat(sent))}."}
    renewal = _renewal(case)
    if renewal is not None:
        return {"einddatum": f"Er is al een nieuwe kennisgeving ingediend ({renewal.reference})."}
    lead = ctx.settings["VERLENGING_HERINNERING_DAGEN"]
    if ctx.actor is None and case.einddatum - timedelta(days=lead) > ctx.today:
        return {"einddatum": (f"De herinnering gaat {lead // 7} weken voor de einddatum "
                              f"({format_datum(case.einddatum)}) uit, niet eerder.")}
    return None


def _guard_import(ctx: GuardContext):
    from casework.formatting import format_datum

    p = ctx.payload
    errors: dict[str, str] = {}
    if ctx.case.child is None:
        errors["child_id"] = "Dit kind is niet gevonden."
    if p.einddatum and p.einddatum < p.begindatum:
        errors["einddatum"] = (f"De einddatum ({format_datum(p.einddatum)}) ligt voor de begindatum "
                               f"({format_datum(p.begindatum)}).")
    if p.herbeoordelingsdatum:
        if p.herbeoordelingsdatum <= p.begindatum:
            errors["herbeoordelingsdatum"] = "De herbeoordelingsdatum moet na de begindatum liggen."
        elif p.einddatum and p.herbeoordelingsdatum > p.einddatum:
            errors["herbeoordelingsdatum"] = "De herbeoordelingsdatum kan niet na de einddatum liggen."
    return errors or None


def _guard_verklaring_volgorde(ctx: GuardContext):
    """The verklaring follows the advice request; the exemption starts no earlier than the
    kennisgeving (never retroactive) and at most 3 months after the verklaring."""
    p, d = ctx.payload, ctx.case.data
    errors: dict[str, str] = {}
    gevraagd = date.fromisoformat(d["advies_gevraagd_op"]) if d.get("advies_gevraagd_op") else None
    if gevraagd and p.verklaringsdatum < gevraagd:
        errors["verklaringsdatum"] = (
            f"De verklaring kan niet van voor de adviesaanvraag zijn: het advies is gevraagd op "
            f"{format_datum(gevraagd)}, de verklaring is van {format_datum(p.verklaringsdatum)}.")
    if not p.geschikt and p.ingangsdatum:
        ontvangen = date.fromisoformat(d["ontvangen_op"]) if d.get("ontvangen_op") else None
        uiterlijk = add_months(p.verklaringsdatum, 3)
        if ontvangen and p.ingangsdatum < ontvangen:
            errors["ingangsdatum"] = (
                f"Een vrijstelling geldt niet met terugwerkende kracht: de kennisgeving is ontvangen op "
                f"{format_datum(ontvangen)}. Kies die datum of later.")
        elif p.ingangsdatum > uiterlijk:
            errors["ingangsdatum"] = (
                f"De vrijstelling moet ingaan binnen 3 maanden na de verklaring van "
                f"{format_datum(p.verklaringsdatum)}: uiterlijk op {format_datum(uiterlijk)}.")
    return errors or None


def _guard_beeindig(ctx: GuardContext):
    if ctx.payload.reden == "anders" and not (ctx.payload.toelichting or "").strip():
        return {"toelichting": "Bij reden 'anders' is een toelichting nodig."}
    # An exempt child may still be enrolled and follow lessons, e.g. part-time: enrolment alone
    # does not end a running exemption, only the deskundige's judgement that it is no longer needed.
    if (ctx.payload.reden == "ingeschreven_op_school" and heeft_vrijstelling(ctx.case)
            and ctx.case.state != "geen_vrijstelling" and not ctx.payload.deskundige_akkoord):
        return {"deskundige_akkoord": (
            "Een kind met een vrijstelling mag ingeschreven zijn op een school, bijvoorbeeld in deeltijd. "
            "De inschrijving alleen beëindigt de vrijstelling dus niet. Beëindigen om deze reden kan "
            "alleen als de deskundige heeft beoordeeld dat de vrijstelling niet meer nodig is.")}
    return None


# Ending a procedure in which no exemption ever ran: only reasons that fit it.
_REDENEN_ZONDER_VRIJSTELLING = ("verhuisd", "einde_leerplicht", "anders")


def heeft_vrijstelling(case) -> bool:
    """Whether an exemption period runs (or ran) in this case: a herbeoordeling keeps it."""
    return case.ingangsdatum is not None


def _guard_einde_kwalificatieplicht(ctx: GuardContext):
    """Reason einde_leerplicht says both duties are over. A 5a exemption also covers the
    kwalificatieplicht (art. 15), which lasts until the 18th birthday; a startkwalificatie that ends
    it earlier is not recorded here, so that ending takes reason 'anders' with its explanation."""
    from casework.formatting import format_datum

    from .verzuim import kwalificatieplicht_eind

    child = ctx.case.child
    if ctx.payload.reden != "einde_leerplicht" or child is None:
        return None
    laatste = kwalificatieplicht_eind(child.geboortedatum)
    if ctx.today <= laatste:
        achttien = laatste + timedelta(days=1)
        return {"reden": (
            f"{child.voornaam} wordt op {format_datum(achttien)} 18 jaar. Tot die dag geldt de "
            "kwalificatieplicht, en de vrijstelling geldt daar ook voor. Heeft "
            f"{child.voornaam} al een startkwalificatie (een diploma havo, vwo of mbo-2)? Kies dan "
            "'Anders' en schrijf dat in de toelichting.")}
    return None


def _guard_beeindig_zonder_vrijstelling(ctx: GuardContext):
    if heeft_vrijstelling(ctx.case) or ctx.case.state == "geen_vrijstelling":
        return None
    if ctx.payload.reden not in _REDENEN_ZONDER_VRIJSTELLING:
        return {"reden": ("Er loopt nog geen vrijstelling: de zaak is nog in behandeling. Beëindig "
                          "haar alleen omdat het kind verhuisd is, de leerplicht is afgelopen, of "
                          "om een andere reden (met toelichting).")}
    return None


def _guard_aanvultermijn_voorbij(ctx: GuardContext):
    from casework.formatting import format_datum

    until = ctx.case.data.get("aanvullen_voor")
    if until and date.fromisoformat(until) >= ctx.today:
        return {"aanvullen_voor": (f"De ouder kan de kennisgeving nog aanvullen tot en met "
                                   f"{format_datum(date.fromisoformat(until))}. Pas daarna wordt "
                                   "zij gesloten.")}
    return None


def _guard_ander_swv(ctx: GuardContext):
    if ctx.payload.swv_id == ctx.case.swv_id:
        return {"swv_id": "Dit samenwerkingsverband is al gevraagd. Kies een ander samenwerkingsverband."}
    return None


# ---------------------------------------------------------------- effects on the case

def _apply_dien_in(ctx: GuardContext) -> None:
    p, case = ctx.payload, ctx.case
    received = p.ontvangen_op or ctx.today
    deadline = kennisgeving_deadline(case.child.geboortedatum, p.schooljaar)
    case.data = {
        **case.data,
        "schooljaar": p.schooljaar,
        "toelichting": p.toelichting,
        "eerder_vrijgesteld": p.eerder_vrijgesteld,
        "ontvangen_op": received.isoformat(),
        "kennisgeving_deadline": deadline.isoformat(),
        "te_laat": received > deadline,
        "papier": ctx.actor.role == "leerplichtambtenaar",
    }
    if case.vorige_case_id:  # a renewal while the exemption runs
        from casework.extensions import db
        from casework.models import Case

        case.data = {**case.data, "verlengt_zaak": db.session.get(Case, case.vorige_case_id).reference}


def _apply_niet_ontvankelijk(ctx: GuardContext) -> None:
    until = ctx.today + timedelta(days=ctx.settings["AANVUL_TERMIJN_DAGEN"])
    ctx.case.data = {**ctx.case.data, "reden_niet_ontvankelijk": ctx.payload.reden,
                     "aanvullen_voor": until.isoformat()}


def _apply_vul_aan(ctx: GuardContext) -> None:
    ctx.case.data = {**ctx.case.data, "aanvulling": ctx.payload.aanvulling,
                     "aangevuld_op": ctx.today.isoformat()}


def _apply_neem_in_behandeling(ctx: GuardContext) -> None:
    ctx.case.deskundige_id = ctx.payload.deskundige_id
    due = ctx.today + timedelta(days=ctx.settings["BEOORDEEL_TERMIJN_DAGEN"])
    ctx.case.data = {**ctx.case.data, "motivering_te_laat": ctx.payload.motivering_te_laat,
                     "in_behandeling_op": ctx.today.isoformat(), "beoordelen_voor": due.isoformat()}


# Round ids lie far above any case id a gemeente will reach, within the ids a request may carry
# (limits.MAX_INT): one in a billion to guess.
_ROUND_ID_LOW, _ROUND_ID_HIGH = 2 ** 30, 2 ** 31 - 1


def start_swv_round(case, swv_id: int, toestemming: bool) -> None:
    """Record a new advice round. It gets its own random id when this SWV was asked before with
    the other consent (or a round of it already had its own id): nothing the SWV saw of the
    earlier round then leads to this one, nor back."""
    rounds = list(case.swv_rondes or [])
    if not rounds and case.swv_id is not None:  # asked before rounds were kept: the last one
        rounds = [{"swv": case.swv_id, "toestemming": bool(case.toestemming), "id": None}]
    separate = any(r["swv"] == swv_id and (r["toestemming"] != toestemming or r["id"] is not None)
                   for r in rounds)
    case.swv_ronde_id = (_ROUND_ID_LOW + secrets.randbelow(_ROUND_ID_HIGH - _ROUND_ID_LOW)
                         if separate else None)
    case.swv_rondes = [*rounds, {"swv": swv_id, "toestemming": toestemming, "id": case.swv_ronde_id}]


def _apply_vraag_advies(ctx: GuardContext) -> None:
    p = ctx.payload
    start_swv_round(ctx.case, p.swv_id, p.toestemming)
    ctx.case.swv_id = p.swv_id
    ctx.case.toestemming = p.toestemming
    due = ctx.today + timedelta(days=ctx.settings["ADVIES_TERMIJN_DAGEN"])
    data = {k: v for k, v in ctx.case.data.items() if k not in ("advies", "advies_soort", "mogelijkheden")}
    ctx.case.data = {**data, "toestemming_door": p.toestemming_door,
                     "samenvatting": p.samenvatting, "advies_gevraagd_op": ctx.today.isoformat(),
                     "advies_voor": due.isoformat()}


def _apply_breng_advies_uit(ctx: GuardContext) -> None:
    p = ctx.payload
    ctx.case.data = {**ctx.case.data, "advies": p.advies, "advies_soort": p.soort,
                     "mogelijkheden": [m for m in p.mogelijkheden if m.strip()],
                     "advies_uitgebracht_op": ctx.today.isoformat()}


def _apply_geef_verklaring(ctx: GuardContext) -> None:
    p, case = ctx.payload, ctx.case
    case.data = {**case.data, "geschikt": p.geschikt, "weging_advies": p.weging_advies,
                 "verklaringsdatum": p.verklaringsdatum.isoformat(),
                 "niet_behandelend_arts": p.niet_behandelend_arts}
    if p.geschikt and heeft_vrijstelling(case):
        # A herbeoordeling found the child fit: the exemption that ran ends, and stays on record
        # (DUO's vrijstellingenregister, the counts of past years).
        case.einddatum = p.einddatum or p.verklaringsdatum
        case.herbeoordelingsdatum = None
        case.data = {**case.data, "vrijstelling_beeindigd_op": case.einddatum.isoformat()}
    elif p.geschikt:
        case.ingangsdatum = case.einddatum = case.herbeoordelingsdatum = None
    else:
        case.ingangsdatum, case.einddatum = p.ingangsdatum, p.einddatum
        case.herbeoordelingsdatum = p.herbeoordelingsdatum


def _apply_start_herbeoordeling(ctx: GuardContext) -> None:
    # A new assessment, a new deadline: the first one's date would make it overdue at once.
    due = ctx.today + timedelta(days=ctx.settings["BEOORDEEL_TERMIJN_DAGEN"])
    ctx.case.data = {**ctx.case.data, "herbeoordeling_gestart_op": ctx.today.isoformat(),
                     "beoordelen_voor": due.isoformat()}


def _apply_beeindig(ctx: GuardContext) -> None:
    # Ended before any verklaring: the procedure stopped, no exemption ran (its own letter).
    afgebroken = not heeft_vrijstelling(ctx.case) and "geschikt" not in ctx.case.data
    ctx.case.data = {**ctx.case.data, "reden_beeindiging": ctx.payload.reden,
                     "toelichting_beeindiging": ctx.payload.toelichting,
                     "deskundige_akkoord": ctx.payload.deskundige_akkoord,
                     "beeindigd_op": ctx.today.isoformat(), "procedure_afgebroken": afgebroken}


def _apply_importeer(ctx: GuardContext) -> None:
    p, case = ctx.payload, ctx.case
    case.ingangsdatum, case.einddatum = p.begindatum, p.einddatum
    case.herbeoordelingsdatum = p.herbeoordelingsdatum
    case.data = {"schooljaar": schooljaar_van(p.begindatum), "ontvangen_op": ctx.today.isoformat(),
                 "overgangsrecht": True, "papier": True}


def _apply_herinner_verlenging(ctx: GuardContext) -> None:
    ctx.case.data = {**ctx.case.data, "herinnering_verlenging_op": ctx.today.isoformat(),
                     "verlengen_voor": verlengen_voor(ctx.case, ctx.today).isoformat()}


def _apply_sluit_niet_aangevuld(ctx: GuardContext) -> None:
    ctx.case.data = {**ctx.case.data, "reden_beeindiging": "niet_aangevuld",
                     "beeindigd_op": ctx.today.isoformat(), "procedure_afgebroken": True}


def _apply_vraag_ander_swv(ctx: GuardContext) -> None:
    vorige = ctx.case.swv_id
    _apply_vraag_advies(ctx)
    ctx.case.data = {**ctx.case.data, "vorige_swv_id": vorige,
                     "reden_ander_swv": ctx.payload.reden}


def _audit_vraag_ander_swv(ctx: GuardContext) -> dict:
    return {"vorige_swv_id": ctx.case.data.get("vorige_swv_id"), "swv_id": ctx.payload.swv_id,
            "reden": ctx.payload.reden}


def _apply_zie_af(ctx: GuardContext) -> None:
    ctx.case.data = {**ctx.case.data, "reden_beeindiging": "afgezien",
                     "toelichting_beeindiging": ctx.payload.toelichting,
                     "beeindigd_op": ctx.today.isoformat()}


def _apply_trek_in(ctx: GuardContext) -> None:
    ctx.case.data = {**ctx.case.data, "reden_intrekking": ctx.payload.reden,
                     "ingetrokken_op": ctx.today.isoformat()}


def _verklaring_dest(ctx: GuardContext) -> str:
    return "geen_vrijstelling" if ctx.payload.geschikt else "vrijgesteld"


def _deadlines(case, settings: dict) -> list[tuple[str, date]]:
    d = case.data
    iso = date.fromisoformat
    found: list[tuple[str, date]] = []
    if case.state == "kennisgeving_ontvangen" and d.get("ontvangen_op"):
        found.append(("behandeling", iso(d["ontvangen_op"]) + timedelta(days=settings["BEHANDEL_TERMIJN_DAGEN"])))
    elif case.state == "niet_ontvankelijk" and d.get("aanvullen_voor"):
        found.append(("aanvulling", iso(d["aanvullen_voor"])))
    elif case.state in ("in_behandeling", "herbeoordeling", "advies_uitgebracht") and d.get("beoordelen_voor"):
        found.append(("beoordeling", iso(d["beoordelen_voor"])))
    elif case.state == "advies_gevraagd" and d.get("advies_voor"):
        found.append(("advies", iso(d["advies_voor"])))
    if case.state == "vrijgesteld" and case.herbeoordelingsdatum:
        found.append(("herbeoordeling", case.herbeoordelingsdatum))
    if case.state in ("vrijgesteld", "herbeoordeling", "advies_gevraagd", "advies_uitgebracht") \
            and case.einddatum:
        found.append(("einddatum", case.einddatum))
    return found


_LPA = frozenset({"leerplichtambtenaar"})
_OUDER = frozenset({"ouder"})
# The steps of a procedure before the verklaring, where the LPA can still end the case.
_PROCEDURE_STATES = ("niet_ontvankelijk", "in_behandeling", "advies_gevraagd", "advies_uitgebracht")
_ARTS = frozenset({"jeugdarts"})

EVENTS = {e.name: e for e in (
    EventSpec("dien_in", "Kennisgeving indienen", (NEW,), "kennisgeving_ontvangen",
              frozenset({"ouder", "leerplichtambtenaar"}), DienIn,
              (_guard_child_visible, _guard_ontvangen_op, _guard_leerplichtig_in_schooljaar),
              (LetterSpec("v5a_ontvangstbevestiging", "ouder"),), _apply_dien_in),
    EventSpec("neem_in_behandeling", "In behandeling nemen", ("kennisgeving_ontvangen",),
              "in_behandeling", _LPA, NeemInBehandeling, (_guard_deskundige, _guard_motivering_te_laat),
              (LetterSpec("v5a_in_behandeling_ouder", "ouder"),
               LetterSpec("v5a_beoordelingsverzoek", "deskundige")), _apply_neem_in_behandeling),
    EventSpec("verklaar_niet_ontvankelijk", "Niet-ontvankelijk verklaren", ("kennisgeving_ontvangen",),
              "niet_ontvankelijk", _LPA, VerklaarNietOntvankelijk, (),
              (LetterSpec("v5a_niet_ontvankelijk", "ouder"),), _apply_niet_ontvankelijk),
    EventSpec("vul_aan", "Kennisgeving aanvullen", ("niet_ontvankelijk",), "kennisgeving_ontvangen",
              _OUDER, VulAan, (), (LetterSpec("v5a_aanvulling_ontvangen", "ouder"),), _apply_vul_aan),
    EventSpec("vraag_advies", "Advies vragen aan samenwerkingsverband", ("in_behandeling", "herbeoordeling"),
              "advies_gevraagd", _ARTS, VraagAdvies, (_guard_swv, _guard_toestemming),
              (LetterSpec("v5a_adviesaanvraag", "swv"), LetterSpec("v5a_adviesaanvraag_ouder", "ouder")),
              _apply_vraag_advies),
    EventSpec("breng_advies_uit", "Advies uitbrengen", ("advies_gevraagd",), "advies_uitgebracht",
              frozenset({"swv_adviseur"}), BrengAdviesUit, (_guard_advies_soort,),
              (LetterSpec("v5a_advies_deskundige", "deskundige"), LetterSpec("v5a_advies_ouder", "ouder")),
              _apply_breng_advies_uit),
    EventSpec("geef_verklaring", "Verklaring afgeven", ("advies_uitgebracht",), _verklaring_dest, _ARTS,
              GeefVerklaring, (_guard_verklaring, _guard_verklaring_volgorde, _guard_einde_na_herbeoordeling),
              (LetterSpec("v5a_vrijstelling", "ouder", when=lambda c: c.state == "vrijgesteld"),
               LetterSpec("v5a_geen_vrijstelling", "ouder", when=lambda c: c.state == "geen_vrijstelling")),
              _apply_geef_verklaring, dests=("vrijgesteld", "geen_vrijstelling")),
    EventSpec("start_herbeoordeling", "Herbeoordeling starten", ("vrijgesteld",), "herbeoordeling",
              frozenset({"leerplichtambtenaar", SYSTEM_ROLE}), StartHerbeoordeling, (),
              (LetterSpec("v5a_herbeoordeling", "ouder"),), _apply_start_herbeoordeling),
    EventSpec("beeindig", "Beëindigen", ("vrijgesteld", "geen_vrijstelling", "herbeoordeling",
                                          *_PROCEDURE_STATES), "beeindigd",
              frozenset({"leerplichtambtenaar", SYSTEM_ROLE}), Beeindig,
              (_guard_beeindig, _guard_beeindig_zonder_vrijstelling, _guard_einde_kwalificatieplicht),
              (LetterSpec("v5a_beeindiging", "ouder", when=lambda c: not c.data.get("procedure_afgebroken")),
               LetterSpec("v5a_procedure_beeindigd", "ouder",
                          when=lambda c: bool(c.data.get("procedure_afgebroken")))),
              _apply_beeindig),
    EventSpec("trek_in", "Kennisgeving intrekken",
              ("kennisgeving_ontvangen", "niet_ontvankelijk", "in_behandeling", "advies_gevraagd",
               "advies_uitgebracht"), "ingetrokken", _OUDER, TrekIn, (),
              (LetterSpec("v5a_intrekking", "ouder"),), _apply_trek_in,
              # During a herbeoordeling an exemption runs: the parent gives it up (zie_af).
              applies=lambda case: not heeft_vrijstelling(case),
              not_applicable=("Er loopt een vrijstelling: een kennisgeving intrekken kan niet meer. "
                              "Wilt u de vrijstelling stoppen? Kies dan 'Afzien van de vrijstelling'.")),
    EventSpec("sluit_niet_aangevuld", "Sluiten: niet aangevuld", ("niet_ontvankelijk",), "beeindigd",
              frozenset({"leerplichtambtenaar", SYSTEM_ROLE}), SluitNietAangevuld,
              (_guard_aanvultermijn_voorbij,), (LetterSpec("v5a_niet_aangevuld", "ouder"),),
              _apply_sluit_niet_aangevuld),
    EventSpec("vraag_ander_swv", "Advies vragen aan een ander samenwerkingsverband", ("advies_gevraagd",),
              "advies_gevraagd", frozenset({"jeugdarts", "leerplichtambtenaar"}), VraagAnderSwv,
              (_guard_swv, _guard_toestemming, _guard_ander_swv),
              (LetterSpec("v5a_adviesaanvraag", "swv"), LetterSpec("v5a_ander_swv_ouder", "ouder")),
              _apply_vraag_ander_swv, audit_details=_audit_vraag_ander_swv),
    EventSpec("zie_af", "Afzien van de vrijstelling",
              ("vrijgesteld", "herbeoordeling", "advies_gevraagd", "advies_uitgebracht"), "beeindigd",
              _OUDER, ZieAf, (), (LetterSpec("v5a_afzien", "ouder"),), _apply_zie_af,
              applies=heeft_vrijstelling,
              not_applicable="Er loopt nog geen vrijstelling. U kunt de kennisgeving wel intrekken."),
    # Exemptions granted under the old rules keep their dates (overgangsrecht); role import.
    EventSpec("importeer", "Bestaande vrijstelling importeren", (NEW,), "vrijgesteld",
              frozenset({"import"}), Importeer, (_guard_import,),
              (LetterSpec("v5a_overgangsrecht", "ouder"),), _apply_importeer),
    EventSpec("herinner_verlenging", "Herinnering verlenging sturen", ("vrijgesteld",), "vrijgesteld",
              frozenset({"leerplichtambtenaar", SYSTEM_ROLE}), HerinnerVerlenging,
              (_guard_herinnering,), (LetterSpec("v5a_herinnering_verlenging", "ouder"),),
              _apply_herinner_verlenging),
)}

WORKFLOW = Workflow(
    case_type=CASE_TYPE,
    label="Vrijstelling 5 onder a",
    states=STATES,
    terminal=TERMINAL,
    events=EVENTS,
    open_event="dien_in",
    deadlines=_deadlines,
    reference_prefix="V5A",
    letter_facts=lambda kind, case, recipient: letter_facts(kind, case, recipient),
)


def _inschrijf_termijn() -> int:
    from flask import current_app

    return current_app.config["INSCHRIJF_TERMIJN_DAGEN"]


def letter_facts(kind: str, case, recipient: dict) -> dict:
    """The kind-specific plain values of a letter, as the case stands right after the event."""
    d = case.data
    iso = lambda key: date.fromisoformat(d[key]) if d.get(key) else None  # noqa: E731
    swv_naam = case.swv.naam if case.swv else None
    facts: dict = {}
    if kind == "v5a_ontvangstbevestiging":
        facts = {"ontvangen_op": iso("ontvangen_op"), "te_laat": bool(d.get("te_laat"))}
    elif kind == "v5a_niet_ontvankelijk":
        facts = {"reden": d.get("reden_niet_ontvankelijk"), "aanvullen_voor": iso("aanvullen_voor")}
    elif kind == "v5a_aanvulling_ontvangen":
        facts = {"ontvangen_op": iso("aangevuld_op")}
    elif kind == "v5a_in_behandeling_ouder":
        org = case.deskundige.organisation if case.deskundige else None
        facts = {"deskundige_organisatie": org.naam if org else "", "te_laat": bool(d.get("te_laat")),
                 "motivering_te_laat": d.get("motivering_te_laat")}
    elif kind == "v5a_beoordelingsverzoek":
        facts = {"deskundige_naam": case.deskundige.naam if case.deskundige else "",
                 "beoordelen_voor": iso("beoordelen_voor")}
    elif kind == "v5a_adviesaanvraag":
        facts = {"swv_naam": swv_naam, "advies_voor": iso("advies_voor"),
                 "toestemming": bool(case.toestemming), "samenvatting": d.get("samenvatting", "")}
    elif kind == "v5a_adviesaanvraag_ouder":
        facts = {"swv_naam": swv_naam, "toestemming": bool(case.toestemming),
                 "toestemming_door": d.get("toestemming_door")}
    elif kind in ("v5a_advies_deskundige", "v5a_advies_ouder"):
        facts = {"swv_naam": swv_naam, "soort": d.get("advies_soort"), "advies": d.get("advies", ""),
                 "mogelijkheden": list(d.get("mogelijkheden") or [])}
    elif kind == "v5a_vrijstelling":
        facts = {"ingangsdatum": case.ingangsdatum, "einddatum": case.einddatum,
                 "herbeoordelingsdatum": case.herbeoordelingsdatum,
                 "mogelijkheden": list(d.get("mogelijkheden") or [])}
    elif kind == "v5a_overgangsrecht":
        facts = {"ingangsdatum": case.ingangsdatum, "einddatum": case.einddatum,
                 "herbeoordelingsdatum": case.herbeoordelingsdatum}
    elif kind == "v5a_herinnering_verlenging":
        voor = iso("verlengen_voor")
        facts = {"einddatum": case.einddatum, "verlengen_voor": voor,
                 "schooljaar_verlenging": schooljaar_van(case.einddatum + timedelta(days=1))}
    elif kind == "v5a_geen_vrijstelling":
        # After a herbeoordeling the exemption ends first; enrolment follows within the term.
        start = iso("verklaringsdatum") or date.today()
        if case.einddatum:
            start = max(start, case.einddatum + timedelta(days=1))
        facts = {"vrijstelling_tot": case.einddatum,
                 "inschrijven_voor": start + timedelta(days=_inschrijf_termijn())}
    elif kind == "v5a_herbeoordeling":
        facts = {"einddatum": case.einddatum, "herbeoordelingsdatum": case.herbeoordelingsdatum}
    elif kind == "v5a_beeindiging":
        facts = {"beeindigd_op": iso("beeindigd_op"), "reden": d.get("reden_beeindiging"),
                 "toelichting": d.get("toelichting_beeindiging"),
                 "deskundige_akkoord": bool(d.get("deskundige_akkoord"))}
    elif kind == "v5a_intrekking":
        facts = {"ingetrokken_op": iso("ingetrokken_op")}
    elif kind == "v5a_procedure_beeindigd":
        facts = {"beeindigd_op": iso("beeindigd_op"), "reden": d.get("reden_beeindiging"),
                 "toelichting": d.get("toelichting_beeindiging")}
    elif kind == "v5a_niet_aangevuld":
        facts = {"aanvullen_voor": iso("aanvullen_voor"), "beeindigd_op": iso("beeindigd_op")}
    elif kind == "v5a_ander_swv_ouder":
        facts = {"swv_naam": swv_naam, "toestemming": bool(case.toestemming),
                 "toestemming_door": d.get("toestemming_door")}
    elif kind == "v5a_afzien":
        facts = {"beeindigd_op": iso("beeindigd_op"), "ingangsdatum": case.ingangsdatum}
    return {"schooljaar": d.get("schooljaar", ""), **facts}

