"""Dutch words and sentences of the web UI: roles, field labels, state explanations (B1)."""
from __future__ import annotations

from datetime import date

from casework.formatting import format_datum

ROLE_LABELS = {
    "leerplichtambtenaar": "Leerplichtambtenaar",
    "jeugdarts": "Jeugdarts",
    "swv_adviseur": "Adviseur samenwerkingsverband",
    "ouder": "Ouder of verzorger",
    "school": "School",
    "beheerder": "Beheerder",
    "systeem": "Automatisch (systeem)",
}

# The work list is the same page for every role; its title says what it holds.
LIST_TITLES = {
    "leerplichtambtenaar": "Werkvoorraad",
    "jeugdarts": "Mijn toegewezen zaken",
    "swv_adviseur": "Adviesaanvragen",
    "ouder": "Zaken van mijn kinderen",
}

LETTER_STATUS = {
    "rendered": "Klaar",
    "pending": "Wordt gemaakt",
    "failed": "Mislukt — probeert opnieuw",
}

RECIPIENT_LABELS = {
    "ouder": "ouder",
    "deskundige": "deskundige",
    "swv": "samenwerkingsverband",
    "school": "school",
}

DEADLINE_LABELS = {
    "behandeling": "Kennisgeving behandelen",
    "aanvulling": "Kennisgeving aanvullen",
    "beoordeling": "Beoordeling door de jeugdarts",
    "advies": "Advies van het samenwerkingsverband",
    "herbeoordeling": "Herbeoordeling",
    "einddatum": "Einde van de vrijstelling",
}
# Deadlines a role is shown on the case page (the others are internal planning).
DEADLINES_FOR_ROLE = {
    "ouder": {"aanvulling", "herbeoordeling", "einddatum"},
    "swv_adviseur": {"advies"},
}

# Labels of case data fields, in the order the case page shows them.
FIELD_LABELS = {
    "schooljaar": "Schooljaar",
    "ontvangen_op": "Kennisgeving ontvangen op",
    "papier": "Kennisgeving op papier",
    "kennisgeving_deadline": "Uiterste datum voor de kennisgeving",
    "te_laat": "Te laat ingediend",
    "eerder_vrijgesteld": "Eerder vrijgesteld",
    "toelichting": "Toelichting van de ouder",
    "reden_niet_ontvankelijk": "Wat ontbreekt in de kennisgeving",
    "aanvullen_voor": "Aanvullen vóór",
    "aanvulling": "Aanvulling van de ouder",
    "aangevuld_op": "Aangevuld op",
    "in_behandeling_op": "In behandeling genomen op",
    "motivering_te_laat": "Waarom toch in behandeling (te late kennisgeving)",
    "deskundige_id": "Deskundige",
    "beoordelen_voor": "Beoordeling vóór",
    "swv_id": "Samenwerkingsverband",
    "toestemming": "Toestemming om gegevens van het kind te delen",
    "toestemming_door": "Toestemming gegeven door",
    "samenvatting": "Samenvatting voor het samenwerkingsverband",
    "advies_gevraagd_op": "Advies gevraagd op",
    "advies_voor": "Advies vóór",
    "advies_soort": "Soort advies",
    "advies": "Advies van het samenwerkingsverband",
    "mogelijkheden": "Mogelijkheden in de regio",
    "advies_uitgebracht_op": "Advies gegeven op",
    "geschikt": "Geschikt om naar school te gaan",
    "verklaringsdatum": "Datum van de verklaring",
    "niet_behandelend_arts": "Verklaring van een arts die het kind niet behandelt",
    "weging_advies": "Hoe het advies is gewogen",
    "ingangsdatum": "Vrijstelling gaat in op",
    "einddatum": "Vrijstelling eindigt op",
    "herbeoordelingsdatum": "Datum van de herbeoordeling",
    "herbeoordeling_gestart_op": "Herbeoordeling gestart op",
    "reden_beeindiging": "Reden van beëindiging",
    "toelichting_beeindiging": "Toelichting bij de beëindiging",
    "beeindigd_op": "Beëindigd op",
    "reden_intrekking": "Reden van intrekking",
    "ingetrokken_op": "Ingetrokken op",
}
DATE_FIELDS = {
    "ontvangen_op", "kennisgeving_deadline", "aanvullen_voor", "aangevuld_op", "in_behandeling_op",
    "beoordelen_voor", "advies_gevraagd_op", "advies_voor", "advies_uitgebracht_op",
    "verklaringsdatum", "ingangsdatum", "einddatum", "herbeoordelingsdatum",
    "herbeoordeling_gestart_op", "beeindigd_op", "ingetrokken_op",
}
VALUE_LABELS = {
    "advies_soort": {"persoonlijk": "Persoonlijk advies over dit kind",
                     "algemeen": "Algemeen advies over het aanbod in de regio"},
    "toestemming_door": {"ouder": "De ouder of verzorger", "jongere": "De jongere zelf"},
    "reden_beeindiging": {
        "verlopen": "De vrijstelling is verlopen",
        "ingeschreven_op_school": "Het kind staat ingeschreven op een school",
        "verhuisd": "Het kind is verhuisd",
        "einde_leerplicht": "De leerplicht is afgelopen",
        "anders": "Anders",
    },
}

# What the state means for the professionals who work on the case.
STATE_UITLEG = {
    "kennisgeving_ontvangen": "De kennisgeving is binnen. De leerplichtambtenaar kijkt of zij compleet is, "
                              "en neemt haar in behandeling of verklaart haar niet-ontvankelijk.",
    "niet_ontvankelijk": "De kennisgeving is niet compleet. De ouder kan haar aanvullen.",
    "in_behandeling": "Er is een jeugdarts aangewezen. De jeugdarts vraagt advies aan het "
                      "samenwerkingsverband over het onderwijskundig perspectief.",
    "advies_gevraagd": "Het samenwerkingsverband is gevraagd welk onderwijs zou kunnen passen. "
                       "Het samenwerkingsverband geeft advies.",
    "advies_uitgebracht": "Het advies is binnen. De jeugdarts weegt het advies en geeft de verklaring af.",
    "vrijgesteld": "Het kind is vrijgesteld van de leerplicht. Vóór de herbeoordelingsdatum begint "
                   "de herbeoordeling.",
    "geen_vrijstelling": "Volgens de verklaring kan het kind naar school. De leerplichtambtenaar zoekt "
                         "met de ouders en het samenwerkingsverband een plek en beëindigt de zaak "
                         "als het kind is ingeschreven.",
    "herbeoordeling": "De vrijstelling wordt opnieuw beoordeeld. De jeugdarts vraagt opnieuw advies "
                      "aan het samenwerkingsverband.",
    "ingetrokken": "De ouder heeft de kennisgeving ingetrokken. De zaak is gesloten.",
    "beeindigd": "De zaak is beëindigd.",
}

# Short status for a parent: where the case is, in their words.
OUDER_STATUS = {
    "kennisgeving_ontvangen": "Kennisgeving ontvangen",
    "niet_ontvankelijk": "Uw kennisgeving is nog niet compleet",
    "in_behandeling": "De jeugdarts gaat uw kind beoordelen",
    "advies_gevraagd": "Advies gevraagd aan het samenwerkingsverband",
    "advies_uitgebracht": "Advies ontvangen, de jeugdarts beslist",
    "vrijgesteld": "Uw kind is vrijgesteld",
    "geen_vrijstelling": "Geen vrijstelling: we zoeken samen een school",
    "herbeoordeling": "De vrijstelling wordt opnieuw bekeken",
    "ingetrokken": "U heeft de kennisgeving ingetrokken",
    "beeindigd": "Afgesloten",
}


def ouder_uitleg(state: str, data: dict) -> tuple[str, bool]:
    """Where the case is, what comes next, whether the parent must act: (text, action needed)."""
    def d(key):
        value = data.get(key)
        return format_datum(value) if value else ""

    if state == "kennisgeving_ontvangen":
        return ("Wij hebben uw kennisgeving ontvangen. De leerplichtambtenaar kijkt of alles compleet is "
                "en vraagt daarna een jeugdarts om uw kind te beoordelen. U hoeft nu niets te doen.", False)
    if state == "niet_ontvankelijk":
        wanneer = f" vóór {d('aanvullen_voor')}" if d("aanvullen_voor") else ""
        return ("Uw kennisgeving is nog niet compleet. In de brief leest u wat er ontbreekt. "
                f"Vul uw kennisgeving aan{wanneer} met de knop hieronder. Daarna gaan wij verder.", True)
    if state == "in_behandeling":
        return ("De leerplichtambtenaar heeft een jeugdarts gevraagd om uw kind te beoordelen. "
                "De jeugdarts neemt contact met u op voor een afspraak. U hoeft nu niets te doen.", False)
    if state == "advies_gevraagd":
        return ("De jeugdarts heeft het samenwerkingsverband gevraagd welk onderwijs bij uw kind zou "
                "kunnen passen. U krijgt een brief als het advies er is. U hoeft nu niets te doen.", False)
    if state == "advies_uitgebracht":
        return ("Het samenwerkingsverband heeft advies gegeven over onderwijs dat bij uw kind kan passen. "
                "De jeugdarts neemt dit advies mee en laat u daarna weten wat de uitkomst is. "
                "U hoeft nu niets te doen.", False)
    if state == "vrijgesteld":
        tot = f" tot {d('einddatum')}" if d("einddatum") else ""
        herbeoordeling = (f" Rond {d('herbeoordelingsdatum')} kijken we samen opnieuw of er onderwijs is "
                          "dat past." if d("herbeoordelingsdatum") else "")
        return (f"Uw kind is vrijgesteld van de leerplicht{tot}.{herbeoordeling} "
                "U hoeft nu niets te doen.", False)
    if state == "geen_vrijstelling":
        return ("De jeugdarts vindt dat uw kind naar school kan. Daarom is er geen vrijstelling. "
                "De leerplichtambtenaar zoekt samen met u een school of een plek die past, "
                "en neemt contact met u op.", False)
    if state == "herbeoordeling":
        return ("De vrijstelling van uw kind wordt opnieuw bekeken: is er nu onderwijs dat past? "
                "De jeugdarts neemt contact met u op. U hoeft nu niets te doen.", False)
    if state == "ingetrokken":
        return ("U heeft uw kennisgeving ingetrokken. De zaak is gesloten. Wilt u toch een beroep doen "
                "op vrijstelling? Dan kunt u een nieuwe kennisgeving doen.", False)
    if state == "beeindigd":
        return ("De zaak is afgesloten en de vrijstelling geldt niet meer. In de brief leest u waarom. "
                "Heeft u vragen? Neem dan contact op met de leerplichtambtenaar.", False)
    return ("", False)


def format_value(key: str, value):
    """A case data value as a person reads it: Ja/Nee, 22 november 2026, labels; lists stay lists."""
    if isinstance(value, bool):
        return "Ja" if value else "Nee"
    if key in DATE_FIELDS and isinstance(value, (str, date)):
        try:
            return format_datum(value)
        except (TypeError, ValueError):
            return str(value)
    if key in VALUE_LABELS:
        return VALUE_LABELS[key].get(value, value)
    return value
