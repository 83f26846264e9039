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
    "duo_import": "DUO (verzuimregister)",
    "import": "Import van bestaande vrijstellingen",
}

# The work list is the same page for every role; its title says what it holds.
LIST_TITLES = {
    "leerplichtambtenaar": "Werkvoorraad",
    "jeugdarts": "Mijn toegewezen zaken",
    "swv_adviseur": "Adviesaanvragen",
    "ouder": "Zaken van mijn kinderen",
    "school": "Verzuim",
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
    # verzuim
    "onderzoek": "Onderzoek starten",
    "gesprek": "Gesprek met ouders en leerling",
    "opvolging": "Route opvolgen",
    "monitoring": "Einde van de monitoring",
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
    "deskundige_akkoord": "De deskundige vindt de vrijstelling niet meer nodig",
    "reden_intrekking": "Reden van intrekking",
    "ingetrokken_op": "Ingetrokken op",
    "reden_ander_swv": "Waarom een ander samenwerkingsverband is gevraagd",
    "vorige_swv_id": "Eerder gevraagd samenwerkingsverband",
    "procedure_afgebroken": "Gestopt vóór de verklaring",
    "verlengt_zaak": "Verlenging van de vrijstelling in zaak",
    "herinnering_verlenging_op": "Herinnering verlenging verstuurd op",
    "verlengen_voor": "Nieuwe kennisgeving uiterlijk op",
    "vrijstelling_beeindigd_op": "Vrijstelling gestopt op (na herbeoordeling)",
    "overgangsrecht": "Vrijstelling van vóór de nieuwe wet (overgangsrecht): loopt tot de oorspronkelijke einddatum",
}
DATE_FIELDS = {
    "ontvangen_op", "kennisgeving_deadline", "aanvullen_voor", "aangevuld_op", "in_behandeling_op",
    "beoordelen_voor", "advies_gevraagd_op", "advies_voor", "advies_uitgebracht_op",
    "verklaringsdatum", "ingangsdatum", "einddatum", "herbeoordelingsdatum",
    "herbeoordeling_gestart_op", "beeindigd_op", "ingetrokken_op", "herinnering_verlenging_op",
    "verlengen_voor", "vrijstelling_beeindigd_op",
}
VALUE_LABELS = {
    "advies_soort": {"persoonlijk": "Persoonlijk advies over dit kind",
                     "algemeen": "Algemeen advies over het aanbod in de regio"},
    "toestemming_door": {"ouder": "De ouder of verzorger", "jongere": "De jongere zelf"},
    "reden_beeindiging": {
        "verlopen": "De vrijstelling is verlopen",
        "ingeschreven_op_school": "Het kind gaat weer volledig naar school (de deskundige vindt de "
                                  "vrijstelling niet meer nodig)",
        "verhuisd": "Het kind is verhuisd",
        "einde_leerplicht": "De leerplicht en de kwalificatieplicht zijn afgelopen",
        "anders": "Anders",
        "niet_aangevuld": "De kennisgeving is niet op tijd aangevuld",
        "afgezien": "De ouder heeft afgezien van de vrijstelling",
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


# ------------------------------------------------------------------ verzuim (workflow 2)
# The verzuim texts live apart from the vrijstelling ones above: the state names differ, and a
# school, a parent and the leerplichtambtenaar each read a different depth of the same case.

SOORT_LABELS = {"signaal": "Signaal", "melding": "Melding"}  # the work list's "Soort" column
CASE_KIND_FILTERS = {"vrijstelling": "Vrijstelling", "signaal": "Signaal", "melding": "Melding"}


def case_kind_label(case) -> str:
    """Vrijstelling, Signaal or Melding: what kind of case this is, in one word."""
    if case.type == "verzuim":
        return SOORT_LABELS.get((case.data or {}).get("soort"), "Verzuim")
    return "Vrijstelling"


SOORT_TITELS = {"signaal": "Signaal zorgelijk verzuim", "melding": "Verzuimmelding"}
# One sentence each, shown next to the choice on the "Verzuim melden" form.
SOORT_UITLEG = {
    "signaal": "Een signaal is voor zorgelijk verzuim van minder dan 16 uur in 4 schoolweken: "
               "zo kan de leerplichtambtenaar vroeg helpen, zonder straf.",
    "melding": "Een melding is verplicht bij 16 uur of meer ongeoorloofd verzuim in 4 schoolweken, "
               "bij 4 weken of langer aaneengesloten verzuim, bij luxeverzuim en bij ander verzuim "
               "dat u moet melden.",
}
VERZUIMSOORT_LABELS = {
    "16_uur_4_weken": "16 uur of meer ongeoorloofd verzuim in 4 schoolweken",
    "langdurig_relatief": "Langdurig verzuim: 4 weken of langer afwezig zonder geldige reden",
    "luxe": "Luxeverzuim: vrij genomen buiten de schoolvakanties, zonder toestemming",
    "overig": "Ander verzuim, bijvoorbeeld een vermoeden van verborgen verzuim",
}
OORZAAK_LABELS = {
    "zorg_of_gezondheid": "Zorg of gezondheid (bijvoorbeeld ziekte of psychische klachten)",
    "thuissituatie": "De thuissituatie",
    "pesten_of_veiligheid": "Pesten, of zich niet veilig voelen",
    "geen_passend_aanbod": "Geen passend onderwijs of geen passende plek",
    "eigen_initiatief": "Eigen keuze van de jongere (spijbelen)",
    "luxe": "Luxeverzuim (vakantie of vrij nemen)",
    "onbekend": "Nog onbekend, of iets anders",
}
RESULTAAT_LABELS = {
    "verzuim_gestopt": "Het verzuim is gestopt",
    "doorverwezen": "Doorverwezen naar hulp of zorg",
    "schoolwissel": "De leerling gaat naar een andere school",
    "vrijstelling": "De leerling heeft een vrijstelling",
    "verhuisd": "De leerling is verhuisd",
    "rmc": "Overgedragen aan het RMC (voor jongeren vanaf 18 jaar)",
    "anders": "Anders (schrijf het in de toelichting)",
}
UITKOMST_LABELS = {
    "hulp_gestart": "De hulp is gestart",
    "afspraken_lopen": "De afspraken lopen",
    "halt_positief": "Halt is goed afgerond",
    "raad_onderzoek": "De Raad voor de Kinderbescherming is ingeschakeld",
    "pv_ingestuurd": "Het proces-verbaal is ingestuurd",
    "anders": "Anders",
}
TEGEN_LABELS = {"ouders": "De ouders", "jongere": "De jongere (vanaf 12 jaar)"}
AFSLUITING_LABELS = {
    "ter_kennisgeving": "Ter kennisgeving aangenomen",
    "overgedragen": "Overgedragen aan een andere gemeente",
    "ingetrokken": "Ingetrokken door de school",
    "afgesloten": "Afgesloten na behandeling",
}
INGEDIEND_DOOR_LABELS = {"school": "School", "leerplichtambtenaar": "Leerplichtambtenaar",
                         "duo_import": "DUO (verzuimregister)"}
# The handling status the gemeente reports back to DUO (art. 21a lid 6), with what it means.
DUO_STATUS_LABELS = {
    "R": "R – geregistreerd: ontvangen, nog niet in behandeling",
    "B": "B – in behandeling bij de leerplichtambtenaar",
    "G": "G – afgesloten (na behandeling, of overgedragen aan een andere gemeente)",
    "K": "K – ter kennisgeving aangenomen: geen verdere actie",
    "I": "I – ingetrokken door de school",
}

VERZUIM_FIELD_LABELS = {
    "hulp_loopt_door": "Vrijwillige hulp loopt door naast Halt",
    "motivering_hervatting": "Waarom weer een route (na monitoring)",
    "hervat_op": "Terug naar een route op",
    "soort": "Soort",
    "oorspronkelijke_soort": "Ingediend als",
    "omgezet_op": "Omgezet naar verzuimmelding op",
    "verzuimsoort": "Soort verzuim",
    "uren": "Uren ongeoorloofd verzuim",
    "keer_te_laat": "Aantal keer te laat",
    "periode_start": "Periode vanaf",
    "periode_eind": "Periode tot en met",
    "omschrijving": "Omschrijving van de school",
    "verzuimbeleid_situatie": "Situatie uit het verzuimbeleid",
    "ontvangen_op": "Ontvangen op",
    "ingediend_door": "Ingediend door",
    "duo_status": "Status bij DUO",
    "gesprek_gepland_op": "Gesprek gepland op",
    "gesprek_tijd": "Tijd van het gesprek",
    "gesprek_plaats": "Plaats van het gesprek",
    "onderzoek_gestart_op": "Onderzoek gestart op",
    "gesprek_gevoerd_op": "Gesprek gevoerd op",
    "oorzaak": "Oorzaak van het verzuim",
    "oorzaak_categorie": "Soort oorzaak",
    "voorgestelde_route": "Voorgestelde route",
    "reden_voorstel": "Waarom dit voorstel",
    "route": "Route",
    "motivering_afwijking": "Waarom een andere route dan het voorstel",
    "routes": "Gevolgde routes",
    "motivering_doorverwijzing": "Waarom doorverwezen",
    "afspraken": "Afspraken",
    "toestemming_halt": "Toestemming voor Halt",
    "tegen": "Proces-verbaal tegen",
    "opvolgen_op": "Opvolgen op",
    "uitkomst": "Uitkomst van de route",
    "monitoren_tot": "Schoolbezoek volgen tot",
    "afsluiting": "Manier van afsluiten",
    "reden_afsluiting": "Reden",
    "overgedragen_aan": "Overgedragen aan",
    "resultaat": "Resultaat",
    "toelichting_resultaat": "Toelichting bij het resultaat",
    "afgesloten_op": "Afgesloten op",
}
VERZUIM_DATE_FIELDS = {
    "periode_start", "periode_eind", "ontvangen_op", "omgezet_op", "gesprek_gepland_op",
    "onderzoek_gestart_op", "gesprek_gevoerd_op", "opvolgen_op", "monitoren_tot", "afgesloten_op",
}


def _route_labels() -> dict[str, str]:
    from casework.workflows.verzuim import ROUTES, STATES

    return {r: STATES[r] for r in ROUTES}


def verzuim_value_labels() -> dict[str, dict[str, str]]:
    routes = _route_labels()
    return {
        "soort": SOORT_TITELS, "oorspronkelijke_soort": SOORT_TITELS,
        "verzuimsoort": VERZUIMSOORT_LABELS, "oorzaak_categorie": OORZAAK_LABELS,
        "route": routes, "voorgestelde_route": routes, "routes": routes,
        "tegen": TEGEN_LABELS, "resultaat": RESULTAAT_LABELS, "uitkomst": UITKOMST_LABELS,
        "afsluiting": AFSLUITING_LABELS, "ingediend_door": INGEDIEND_DOOR_LABELS,
        "duo_status": DUO_STATUS_LABELS,
    }


def field_labels(case_type: str) -> dict[str, str]:
    return VERZUIM_FIELD_LABELS if case_type == "verzuim" else FIELD_LABELS


def format_case_value(case_type: str, key: str, value):
    """Like format_value, with the labels of the case's own type (lists are labelled per item)."""
    if case_type != "verzuim":
        return format_value(key, value)
    if isinstance(value, bool):
        return "Ja" if value else "Nee"
    if key in VERZUIM_DATE_FIELDS and isinstance(value, (str, date)):
        try:
            return format_datum(value)
        except (TypeError, ValueError):
            return str(value)
    labels = verzuim_value_labels().get(key)
    if labels is not None:
        if isinstance(value, list):
            return [labels.get(v, v) for v in value]
        return labels.get(value, value)
    return value


# MAS: the phases of the method, and where each state stands in it (mas.md).
MAS_PHASES = (("waarnemen", "Waarnemen"), ("analyseren", "Analyseren"), ("plannen", "Plannen"),
              ("handelen", "Handelen"), ("evalueren", "Evalueren"))
MAS_PHASE_UITLEG = {
    "waarnemen": "het signaal of de melding is binnen.",
    "analyseren": "het gesprek met de ouders en de leerling, contact met de school: wat is de oorzaak?",
    "plannen": "de route kiezen die bij de oorzaak past.",
    "handelen": "de gekozen route uitvoeren.",
    "evalueren": "volgen of de leerling weer naar school gaat.",
}
_STATE_PHASE = {"ontvangen": "waarnemen", "in_onderzoek": "analyseren", "vrijwillige_hulp": "handelen",
                "halt": "handelen", "verplicht_kader": "handelen", "proces_verbaal": "handelen",
                "monitoring": "evalueren"}


def mas_phase(state: str, *, proposal: bool = False) -> str | None:
    """The MAS phase of a state; `plannen` while the LPA weighs the route proposal."""
    if state == "in_onderzoek" and proposal:
        return "plannen"
    return _STATE_PHASE.get(state)


def lpa_next_step(state: str, data: dict, *, proposal: bool = False) -> str:
    """What the leerplichtambtenaar does next, in one or two sentences."""
    def d(key):
        return format_datum(data[key]) if data.get(key) else ""

    if state == "ontvangen":
        return ("Start het onderzoek: nodig de ouders (en de leerling vanaf 12 jaar) uit voor een gesprek, "
                "binnen 5 schooldagen. Hoort de zaak bij een andere gemeente? Draag haar dan over. "
                "Is er geen actie nodig? Neem haar ter kennisgeving aan.")
    if state == "in_onderzoek" and proposal:
        return ("Kies de route. Het voorstel staat hieronder. Kiest u een andere route, "
                "leg dan uit waarom (pas toe of leg uit).")
    if state == "in_onderzoek":
        gesprek = f" (gepland op {d('gesprek_gepland_op')})" if d("gesprek_gepland_op") else ""
        return (f"Voer het gesprek met de ouders en de leerling{gesprek} en neem contact op met de school. "
                "Leg daarna de oorzaak vast en bekijk het routevoorstel.")
    if state == "vrijwillige_hulp":
        return ("Volg de afspraken en de hulp. Werkt het? Start dan de monitoring. Werkt het niet? "
                "Verwijs door naar een zwaardere route.")
    if state == "halt":
        return ("Wacht op de uitkomst van Halt. Goed afgerond: start de monitoring. "
                "Niet goed afgerond: verwijs door naar een proces-verbaal.")
    if state == "verplicht_kader":
        return ("De Raad voor de Kinderbescherming doet onderzoek. Volg de uitkomst; "
                "start daarna de monitoring of sluit de zaak af.")
    if state == "proces_verbaal":
        return ("Het proces-verbaal gaat naar de officier van justitie. "
                "Start daarna de monitoring, of sluit de zaak af.")
    if state == "monitoring":
        tot = f" tot {d('monitoren_tot')}" if d("monitoren_tot") else ""
        return f"Volg het schoolbezoek{tot}. Is het verzuim gestopt? Sluit de zaak dan af."
    if state == "afgesloten":
        hoe = AFSLUITING_LABELS.get(data.get("afsluiting"), "Afgesloten")
        return f"De zaak is afgesloten ({hoe.lower()}). Er hoeft niets meer te gebeuren."
    return ""


# What a school reads: only how far its submission is, never where it went (domain.md).
SCHOOL_UITLEG = {
    "ontvangen": "De leerplichtambtenaar heeft dit ontvangen en neemt contact op met de leerling en de "
                 "ouders. U hoeft nu niets te doen.",
    "in_behandeling": "De leerplichtambtenaar is met deze leerling bezig. Wat er gebeurt, blijft tussen de "
                      "leerplichtambtenaar, de leerling en de ouders. Ziet u nieuw verzuim? Meld het dan.",
    "afgesloten": "De zaak is afgesloten. Verzuimt de leerling weer? Doe dan een nieuw signaal of een "
                  "nieuwe melding.",
}
# A school's own history: its steps and the LPA's, in words that do not reveal a route.
SCHOOL_EVENT_LABELS = {
    "dien_in": "Ingediend",
    "start_onderzoek": "In behandeling genomen",
    "neem_ter_kennisgeving_aan": "Ter kennisgeving aangenomen",
    "draag_over": "Overgedragen aan een andere gemeente",
    "trek_in": "Ingetrokken",
    "escaleer_naar_melding": "Omgezet naar verzuimmelding",
    "start_monitoring": "Schoolbezoek wordt gevolgd",
    "sluit_af": "Afgesloten",
}

# A parent's short status of a verzuim case.
VERZUIM_OUDER_STATUS = {
    "ontvangen": "De school heeft verzuim gemeld",
    "in_onderzoek": "Uitnodiging voor een gesprek",
    "vrijwillige_hulp": "Afspraken en hulp",
    "halt": "Aangemeld bij Halt",
    "verplicht_kader": "Onderzoek door de Raad voor de Kinderbescherming",
    "proces_verbaal": "Proces-verbaal opgemaakt",
    "monitoring": "We volgen het schoolbezoek",
    "afgesloten": "Afgesloten",
}


def ouder_status(case) -> str | None:
    """A parent's short status of any case; None when the type has none."""
    if case.type == "verzuim":
        if case.state == "ontvangen" and (case.data or {}).get("soort") == "signaal":
            return "De school maakt zich zorgen over verzuim"
        return VERZUIM_OUDER_STATUS.get(case.state)
    return OUDER_STATUS.get(case.state)


def ouder_uitleg_case(case, data: dict) -> tuple[str, bool]:
    """ouder_uitleg for any case type: (text, action needed)."""
    if case.type == "verzuim":
        return ouder_uitleg_verzuim(case.state, data)
    return ouder_uitleg(case.state, data)


def ouder_uitleg_verzuim(state: str, data: dict) -> tuple[str, bool]:
    """Where the verzuim case is, what comes next, whether the parent must act (B1, "u")."""
    def d(key):
        return format_datum(data[key]) if data.get(key) else ""

    if state == "ontvangen":
        if data.get("soort") == "signaal":
            return ("De school maakt zich zorgen over het verzuim van uw kind en heeft dat aan de "
                    "leerplichtambtenaar laten weten. Dit heet een signaal. Het doel is om op tijd hulp te "
                    "vinden; u krijgt geen straf. De leerplichtambtenaar neemt contact met u op. "
                    "U hoeft nu niets te doen.", False)
        return ("De school heeft het verzuim van uw kind gemeld bij de leerplichtambtenaar. Dat moet de school "
                "doen als een leerling vaak zonder geldige reden afwezig is. De leerplichtambtenaar nodigt u "
                "uit voor een gesprek. U hoeft nu niets te doen.", False)
    if state == "in_onderzoek":
        if data.get("gesprek_gepland_op"):
            wanneer = d("gesprek_gepland_op")
            if data.get("gesprek_tijd"):
                wanneer += f" om {data['gesprek_tijd']} uur"
            waar = f" ({data['gesprek_plaats']})" if data.get("gesprek_plaats") else ""
            gepland = date.fromisoformat(str(data["gesprek_gepland_op"])[:10])
            if gepland >= date.today():
                return (f"De leerplichtambtenaar heeft u uitgenodigd voor een gesprek op {wanneer}{waar}. "
                        "In het gesprek kijken we samen waarom uw kind niet naar school gaat en wat kan helpen. "
                        "Kom naar het gesprek, samen met uw kind als het 12 jaar of ouder is. Kunt u niet? "
                        "Neem dan contact op met de leerplichtambtenaar.", True)
        return ("De leerplichtambtenaar praat met u, met uw kind en met de school om te begrijpen waarom uw "
                "kind niet naar school gaat. Daarna hoort u wat de volgende stap is.", False)
    if state == "vrijwillige_hulp":
        return ("Er zijn afspraken gemaakt om het verzuim te stoppen, en er is hulp geregeld. In de brief "
                "leest u de afspraken. Houd u en uw kind aan de afspraken. De leerplichtambtenaar kijkt of "
                "de afspraken werken.", True)
    if state == "halt":
        return ("Uw kind is aangemeld bij Halt. Halt geeft jongeren van 12 tot 18 jaar een korte straf om "
                "van te leren, in plaats van een zaak bij de rechter. Halt neemt contact met u en uw kind op "
                "voor een afspraak. Maakt uw kind de Halt-straf goed af? Dan volgt er geen proces-verbaal.",
                True)
    if state == "verplicht_kader":
        return ("De leerplichtambtenaar heeft de Raad voor de Kinderbescherming gevraagd om te onderzoeken wat "
                "uw kind nodig heeft. Dat gebeurt als vrijwillige hulp niet genoeg helpt. De Raad neemt "
                "contact met u op. Werk mee aan het onderzoek.", True)
    if state == "proces_verbaal":
        tegen = {"ouders": "u als ouder", "jongere": "uw kind"}.get(data.get("tegen"), "")
        tegen = f" tegen {tegen}" if tegen else ""
        return (f"De leerplichtambtenaar heeft een proces-verbaal{tegen} opgemaakt en naar de officier van "
                "justitie gestuurd. De officier van justitie beslist wat er gebeurt; u krijgt daarover een "
                "brief. De Raad voor de Kinderbescherming krijgt een kopie. U hoeft nu niets te doen.", False)
    if state == "monitoring":
        tot = f" tot {d('monitoren_tot')}" if d("monitoren_tot") else ""
        return (f"De leerplichtambtenaar en de school volgen{tot} of uw kind weer elke dag naar school gaat. "
                "U hoeft niets extra te doen: zorg dat uw kind naar school gaat.", False)
    if state == "afgesloten":
        resultaat = RESULTAAT_LABELS.get(data.get("resultaat"))
        waarom = f" {resultaat}." if resultaat and data.get("resultaat") != "anders" else ""
        return (f"De zaak over het verzuim is afgesloten.{waarom} Heeft u vragen? Neem dan contact op met de "
                "leerplichtambtenaar.", False)
    return ("", False)
