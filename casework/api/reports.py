"""Reports as JSON: the gemeente's leerplichttelling and the SWV's regional view."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from casework import policy
from casework.services import reports as report_service
from casework.services.suppression import SUPPRESSED

from . import api_bp
from .schemas import OrgRef, Out
from .util import current_user, doc, parse_query, respond

Verzuimsoort = Literal["16_uur_4_weken", "langdurig_relatief", "luxe", "overig"]
DuurBand = Literal["korter_dan_6_maanden", "6_tot_12_maanden", "12_tot_24_maanden",
                   "langer_dan_24_maanden", "hele_leerplicht", "onbekend"]
Reden = Literal["verlopen", "ingeschreven_op_school", "verhuisd", "einde_leerplicht", "anders"]
Uitkomst = Literal["opnieuw_vrijgesteld", "geen_vrijstelling", "beeindigd", "ingetrokken",
                   "loopt_nog"]
Route = Literal["vrijwillige_hulp", "halt", "verplicht_kader", "proces_verbaal"]
# A count as the SWV may see it: a number (0 or 5 and up) or "< 5".
Shown = int | Literal["< 5"]


# ---------------------------------------------------------------- leerplichttelling

class TellingQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    gemeente_id: int | None = Field(None, description="Standaard: uw (eerste) gemeente.")
    schooljaar: str | None = Field(
        None, pattern=r"^\d{4}-\d{4}$", examples=["2025-2026"],
        description="1 augustus tot en met 31 juli. Standaard: het lopende schooljaar.")
    peildatum: date | None = Field(
        None, description="Datum voor 'lopend' en 'thuiszitters'. Standaard: 31 juli van het "
                          "schooljaar, of vandaag als dat eerder is.")


class TellingBeeindigd(Out):
    totaal: int
    per_reden: dict[Reden, int] = Field(description="Uit case.data reden_beeindiging.")


class TellingHerbeoordelingen(Out):
    gestart: int = Field(description="start_herbeoordeling in het schooljaar.")
    uitkomst: dict[Uitkomst, int] = Field(
        description="De eerste beslissende stap erna, tot en met de peildatum; anders loopt_nog.")


class TellingVrijstellingen(Out):
    nieuw: int = Field(description="Verklaringen 'niet geschikt' (geef_verklaring -> vrijgesteld) "
                                   "in het schooljaar.")
    waarvan_na_herbeoordeling: int
    lopend_op_peildatum: int
    beeindigd: TellingBeeindigd = Field(
        description="Beëindigd vanuit vrijgesteld of herbeoordeling in het schooljaar.")
    per_duur: dict[DuurBand, int] = Field(
        description="De nieuwe vrijstellingen naar duur (einddatum meegeteld): korter dan 6 "
                    "maanden; 6 tot en met 12; meer dan 12 tot en met 24; langer; geen einddatum "
                    "= hele leerplicht; onbekend = later geschikt verklaard.")
    herbeoordelingen: TellingHerbeoordelingen


class TellingPerSoort(Out):
    totaal: int
    per_verzuimsoort: dict[Verzuimsoort, int]


class TellingMeldingen(Out):
    totaal: int
    per_verzuimsoort: dict[Verzuimsoort, int]
    direct: TellingPerSoort = Field(description="Als melding ontvangen in het schooljaar.")
    uit_signaal: TellingPerSoort = Field(
        description="Signalen die in het schooljaar een melding werden (naar verzuimsoort bij omzetting).")


class TellingSignalen(Out):
    ontvangen: int
    omgezet_in_melding: int = Field(
        description="Van de ontvangen signalen: omgezet in een melding tot en met de peildatum.")


class TellingThuiszittersSchooljaar(Out):
    vier_weken_of_langer: int = Field(
        description="Kinderen die op minstens één dag van het schooljaar (tot en met de peildatum) "
                    "thuiszitter waren: 4 weken of langer.")
    langer_dan_drie_maanden: int = Field(
        description="Idem, langer dan 3 maanden.")


class TellingThuiszitters(Out):
    vier_weken_of_langer: int = Field(
        description="Kinderen met een open melding langdurig relatief verzuim op de peildatum, "
                    "verzuim sinds 28 dagen of langer (periode_start + 28 dagen <= peildatum).")
    langer_dan_drie_maanden: int = Field(
        description="Idem, verzuim sinds meer dan 3 maanden (periode_start + 3 maanden < peildatum).")
    gedurende_schooljaar: TellingThuiszittersSchooljaar


class TellingRoute(Out):
    totaal: int
    waarvan_doorverwezen: int


class TellingHalt(Out):
    positief: int = Field(description="Van halt naar monitoring.")
    negatief: int = Field(description="Van halt doorverwezen naar een zwaardere route.")
    afgesloten: int = Field(description="Vanuit halt afgesloten.")


class TellingPV(Out):
    totaal: int
    tegen_ouders: int
    tegen_jongere: int


class TellingVerzuim(Out):
    meldingen: TellingMeldingen
    signalen: TellingSignalen
    thuiszitters: TellingThuiszitters
    routes: dict[Route, TellingRoute] = Field(
        description="kies_route en verwijs_door in het schooljaar, naar gekozen route.")
    halt_afloop: TellingHalt
    processen_verbaal: TellingPV


class TellingMaand(Out):
    maand: str = Field(examples=["2025-08"])
    label: str = Field(examples=["augustus 2025"])
    vrijstellingen_nieuw: int
    meldingen: int
    signalen: int


class LeerplichttellingOut(Out):
    gemeente: OrgRef
    schooljaar: str
    van: date
    tot: date
    peildatum: date
    vrijstellingen: TellingVrijstellingen
    verzuim: TellingVerzuim
    per_maand: list[TellingMaand] = Field(description="Maanden die al begonnen zijn.")


@api_bp.get("/reports/leerplichttelling")
@doc(summary="Leerplichttelling van een gemeente", tag="reports", query=TellingQuery,
     response=LeerplichttellingOut, errors=(400, 404, 422),
     description="De jaarlijkse telling (artikel 25 Leerplichtwet 1969) per gemeente en "
                 "schooljaar. De leerplichtambtenaar ziet die van de eigen gemeenten, de "
                 "beheerder die van de eigen gemeente; een andere gemeente geeft 404. Alleen "
                 "aantallen, geen zaken.")
def report_leerplichttelling():
    user = current_user()
    params = parse_query(TellingQuery)
    gemeente_id = policy.report_gemeente_id(user, params.gemeente_id)
    schooljaar = params.schooljaar or report_service.schooljaar_of(date.today())
    telling = report_service.leerplichttelling(gemeente_id, schooljaar, params.peildatum)
    return respond(LeerplichttellingOut.model_validate(telling))


# ---------------------------------------------------------------- SWV

class RegioQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    van: date | None = Field(None, description="Standaard: het begin van het kwartaal twee jaar terug.")
    tot: date | None = Field(None, description="Standaard (en hoogstens): vandaag.")


class RegioKwartaal(Out):
    code: str = Field(examples=["2025-K3"])
    label: str = Field(examples=["3e kwartaal 2025"])
    van: date
    tot: date = Field(description="Ook de peildatum voor de standen (lopend, thuiszitters).")
    volledig: bool = Field(description="false: het kwartaal is afgekapt op van of tot (bijvoorbeeld "
                                       "het lopende kwartaal); de stromen zijn dan niet compleet.")


class RegioRij(Out):
    gemeente: OrgRef
    waarden: list[Shown] = Field(description="Per kwartaal, in de volgorde van `kwartalen`.")
    totaal: Shown | None = Field(description="Over alle kwartalen; null bij een stand.")


class RegioTrend(Out):
    eerste: Shown | None
    laatste: Shown | None
    richting: Literal["stijgt", "daalt", "gelijk", "onbekend"] = Field(
        description="Regiototaal van het laatste kwartaal tegenover het eerste — bij een stroom "
                    "alleen volledige kwartalen; onbekend als een van beide verborgen is of er "
                    "geen twee zijn.")
    eerste_kwartaal: str | None = Field(examples=["2025-K1"])
    laatste_kwartaal: str | None = Field(examples=["2026-K3"])


class RegioTabel(Out):
    sleutel: Literal["vrijstellingen_nieuw", "vrijstellingen_lopend", "meldingen", "signalen",
                     "thuiszitters", "thuiszitters_3_maanden"]
    titel: str
    uitleg: str
    soort: Literal["stroom", "stand"] = Field(
        description="stroom: aantal in het kwartaal (met totalen per gemeente); stand: aantal "
                    "op de laatste dag van het kwartaal (alleen regiototalen).")
    rijen: list[RegioRij]
    totalen: list[Shown] = Field(description="Regiototaal per kwartaal.")
    totaal: Shown | None
    trend: RegioTrend


class RegioOverzichtOut(Out):
    """Every count from 1 to 4 is "< 5"; so is any value that would let one be recomputed."""

    swv: OrgRef
    van: date
    tot: date
    kwartalen: list[RegioKwartaal]
    gemeenten: list[OrgRef]
    tabellen: list[RegioTabel]


@api_bp.get("/reports/swv")
@doc(summary="Regio-overzicht van het samenwerkingsverband", tag="reports", query=RegioQuery,
     response=RegioOverzichtOut, errors=(400, 404, 422),
     description="Voor de adviseur van een samenwerkingsverband: per gemeente van de eigen regio "
                 f"en per kwartaal vrijstellingen 5 onder a en verzuim. Aantallen van 0 tot en met 4 "
                 f"zijn de tekst \"{SUPPRESSED}\"; ook een aantal dat anders uit een totaal terug te "
                 f"rekenen is, staat er zo. Alleen hele kwartalen: `van` is de eerste dag van een "
                 f"kwartaal, `tot` de laatste dag van een kwartaal of vandaag (anders 422). Geen "
                 f"zaken, geen kenmerken.")
def report_swv():
    user = current_user()
    params = parse_query(RegioQuery)
    swv_id = policy.report_swv_id(user)
    van, tot = report_service.default_swv_range(date.today())
    overzicht = report_service.swv_overzicht(swv_id, params.van or van, params.tot or tot)
    return respond(RegioOverzichtOut.model_validate(overzicht))
