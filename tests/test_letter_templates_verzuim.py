"""Verzuim letter templates: every kind renders to a PDF that says what its reader needs to
know, a pupil's own letter is written for a child, and a school never reads a route, a cause
or the help.

Self-contained: no Flask app, no database. Texts are read back from the PDF with pypdf.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from casework.letters import render
from casework.letters.render import (
    LETTER_FIELDS,
    LETTER_KINDS,
    SCHOOL_VERBODEN_SLEUTELS,
    VERZUIM_COMMON_KEYS,
    VERZUIM_KINDS,
    VERZUIM_ONTVANGER,
    LetterContextError,
    render_letter,
    render_letter_html,
    school_tekst_problemen,
)

TEMPLATE_DIR = Path(render.__file__).resolve().parent.parent / "templates" / "letters"

GEMEENTE = {
    "naam": "Gemeente Voorbeeldstad",
    "adres": "Raadhuisplein 1",
    "postcode_plaats": "1234 AB Voorbeeldstad",
    "telefoon": "14 0123",
    "email": "leerplicht@voorbeeldstad.test",
}
# 13 years old on the letter date (22 November 2026): a pupil letter is possible.
KIND = {"voornaam": "Daan", "achternaam": "Visser", "geboortedatum": date(2013, 5, 4)}
KENMERK = "VZ-2026-00012"
SCHOOL_NAAM = "Het Baken College"
OUDER = {"naam": "J. Visser", "adres_regels": ["Kerkstraat 8", "1234 EF Voorbeeldstad"]}
LEERLING = {"naam": "Daan Visser", "adres_regels": ["Kerkstraat 8", "1234 EF Voorbeeldstad"]}
SCHOOL = {
    "naam": f"{SCHOOL_NAAM}, t.a.v. de verzuimcoördinator",
    "adres_regels": ["Schoolweg 3", "1234 GH Voorbeeldstad"],
}
ANDERE_GEMEENTE = "Gemeente Anderstad"
TEAM_ANDERSTAD = {
    "naam": f"{ANDERE_GEMEENTE}, t.a.v. team Leerplicht",
    "adres_regels": ["Postbus 5", "4321 ZZ Anderstad"],
}
LPA = {
    "naam": "Ahmed el Amrani",
    "functie": "Leerplichtambtenaar, Gemeente Voorbeeldstad",
    "telefoon": "06 87654321",
    "email": "a.elamrani@voorbeeldstad.test",
}
AFSPRAKEN = (
    "Daan gaat elke ochtend om 8.15 uur naar school. Het wijkteam komt op 1 december bij "
    "het gezin thuis. Over vier weken praten we opnieuw."
)
OMSCHRIJVING = "Daan mist vooral de eerste uren op maandag en dinsdag."
MELDING = {
    "verzuimsoort": "16_uur_4_weken",
    "uren": 18,
    "periode_start": date(2026, 10, 5),
    "periode_eind": date(2026, 10, 30),
}
PERIODE_TEKST = "van 5 oktober 2026 tot en met 30 oktober 2026"

# kind → (recipient, soort, kind-specific context)
SPECIFIC: dict[str, tuple[dict, str, dict]] = {
    "vz_ontvangstbevestiging": (SCHOOL, "melding", {**MELDING, "ontvangen_op": date(2026, 11, 3)}),
    "vz_uitnodiging": (OUDER, "melding", {
        "gesprek_gepland_op": date(2026, 12, 1), "gesprek_tijd": "14:30",
        "gesprek_plaats": "Stadskantoor, Raadhuisplein 1",
    }),
    "vz_ter_kennisgeving": (SCHOOL, "signaal", {
        "reden": "Het verzuim is inmiddels gestopt; de school houdt de vinger aan de pols.",
    }),
    "vz_overdracht_school": (SCHOOL, "melding", {"nieuwe_gemeente": ANDERE_GEMEENTE}),
    "vz_overdracht_gemeente": (TEAM_ANDERSTAD, "melding", {
        "nieuwe_gemeente": ANDERE_GEMEENTE, **MELDING, "omschrijving": OMSCHRIJVING,
    }),
    "vz_intrekking": (SCHOOL, "melding", {"reden": "Dubbel ingediend, ook via DUO gemeld."}),
    "vz_omzetting": (OUDER, "melding", MELDING),
    "vz_omzetting_school": (SCHOOL, "melding", MELDING),
    "vz_route_vrijwillige_hulp": (OUDER, "melding", {"afspraken": AFSPRAKEN, "verwezen": False}),
    "vz_route_halt": (OUDER, "melding", {"afspraken": "", "verwezen": True}),
    "vz_route_verplicht_kader": (OUDER, "melding", {"verwezen": True}),
    "vz_route_proces_verbaal": (OUDER, "melding", {"tegen": "ouders", "verwezen": True}),
    "vz_monitoring": (OUDER, "melding", {"monitoren_tot": date(2027, 3, 1)}),
    "vz_monitoring_school": (SCHOOL, "melding", {"monitoren_tot": date(2027, 3, 1)}),
    "vz_afsluiting": (OUDER, "melding", {"resultaat": "verzuim_gestopt", "toelichting": None}),
    "vz_afsluiting_school": (SCHOOL, "melding", {}),
}

SCHOOL_KINDS = sorted(k for k, lezer in VERZUIM_ONTVANGER.items() if lezer == "school")
LEERLING_KINDS = [
    "vz_uitnodiging", "vz_route_vrijwillige_hulp", "vz_route_halt", "vz_route_verplicht_kader",
    "vz_route_proces_verbaal",
]

# Facts each letter to the ouder / school / gemeente must state, as they read in the PDF.
FACTS: dict[str, list[str]] = {
    "vz_ontvangstbevestiging": [
        "Op 3 november 2026 hebben wij uw verzuimmelding ontvangen", "Ons kenmerk is VZ-2026-00012",
        "16 uur of meer ongeoorloofd verzuim binnen 4 schoolweken", "18 uur", PERIODE_TEKST,
        "De leerplichtambtenaar neemt contact met u op",
    ],
    "vz_uitnodiging": [
        "Wij nodigen u uit voor een gesprek", "Datum: 1 december 2026", "Tijd: 14:30 uur",
        "Plaats: Stadskantoor, Raadhuisplein 1", "waarom Daan school mist", "wat helpt",
        "Wat neemt u mee?", "Kunt u niet op deze dag of tijd?", "nieuwe afspraak",
        "U mag iemand meenemen",
    ],
    "vz_ter_kennisgeving": [
        "ter kennisgeving aangenomen", "signaal zorgelijk verzuim",
        "Wij doen er nu verder niets mee",
        "Het verzuim is inmiddels gestopt; de school houdt de vinger aan de pols.",
    ],
    "vz_overdracht_school": [
        f"overgedragen aan {ANDERE_GEMEENTE}", f"de leerplicht van {ANDERE_GEMEENTE}",
    ],
    "vz_overdracht_gemeente": [
        f"over aan {ANDERE_GEMEENTE}", "Leerling: Daan Visser", "Geboren op: 4 mei 2013",
        f"School: {SCHOOL_NAAM}", "Ons kenmerk: VZ-2026-00012", "verzuimmelding",
        "16 uur of meer ongeoorloofd verzuim binnen 4 schoolweken", "18 uur", PERIODE_TEKST,
        OMSCHRIJVING, "Bel of mail dan Ahmed el Amrani",
    ],
    "vz_intrekking": [
        "ingetrokken", "Dubbel ingediend, ook via DUO gemeld.", "De zaak is gesloten",
    ],
    "vz_omzetting": [
        "signaal een verzuimmelding geworden", "Daan heeft 18 uur les gemist zonder geldige reden",
        PERIODE_TEKST, "16 uur in 4 schoolweken", "onderzoeken waarom Daan school mist",
        "wij willen helpen", "gesprek",
    ],
    "vz_omzetting_school": [
        "omgezet in een verzuimmelding", "16 uur of meer ongeoorloofd verzuim binnen 4 schoolweken",
        "18 uur", PERIODE_TEKST, "onderzoekt de leerplichtambtenaar het verzuim",
    ],
    "vz_route_vrijwillige_hulp": [
        AFSPRAKEN, "Deze hulp is vrijwillig", "Deze brief is ook een waarschuwing",
        "Wat gebeurt er als het niet lukt?", "zwaardere stap",
        "De school hoort van ons niet welke hulp er is afgesproken",
    ],
    "vz_route_halt": [
        "aangemeld bij Halt", "Halt-interventie schoolverzuim", "Wat is Halt?",
        "12 tot en met 17 jaar", "kort leerprogramma over het eigen verzuim",
        "Halt neemt zelf contact op", "Dan is de zaak daarmee afgedaan",
        "Dan kan de leerplichtambtenaar een proces-verbaal opmaken", "toestemming",
        "lichtere aanpak",
    ],
    "vz_route_verplicht_kader": [
        "Raad voor de Kinderbescherming gevraagd om onderzoek", "vrijwillige hulp",
        "niet op gang gekomen", "ontwikkeling van Daan", "Wat doet de Raad nu?",
        "neemt contact met u op", "kinderrechter", "lichtere aanpak",
    ],
    "vz_route_proces_verbaal": [
        "proces-verbaal heeft opgemaakt", "Het proces-verbaal is opgemaakt tegen u als ouder(s)",
        "officier van justitie", "De Raad voor de Kinderbescherming krijgt een kopie",
        "geseponeerd", "strafbeschikking", "kantonrechter", "Het Juridisch Loket",
        "De hulp stopt niet",
    ],
    "vz_monitoring": [
        "tot en met 1 maart 2027", "Wij volgen het schoolbezoek van Daan",
        "Dan sluiten wij de zaak af",
    ],
    "vz_monitoring_school": [
        "tot en met 1 maart 2027", "Meld het dan direct bij de leerplichtambtenaar",
        "minder dan 16 uur",
    ],
    "vz_afsluiting": [
        "afgesloten", "Daan gaat weer naar school. Het verzuim is gestopt.",
        "De school hoort niet waarom",
    ],
    "vz_afsluiting_school": ["afgesloten", "Wij vertellen de school niet"],
}

# What the pupil's own letter says (a child of 12-17 reads it).
LEERLING_FACTS: dict[str, list[str]] = {
    "vz_uitnodiging": [
        "Beste Daan,", "Daarom willen we graag met je praten",
        "iemand van de gemeente die helpt als je veel school mist",
        "Wanneer: 1 december 2026, om 14:30 uur", "Waar: Stadskantoor, Raadhuisplein 1",
        "Het gesprek is geen straf", "Je mag iemand meenemen", "Kun je niet op deze dag?",
    ],
    "vz_route_vrijwillige_hulp": [
        "Beste Daan,", "We hebben met je gepraat over school", AFSPRAKEN,
        "Deze afspraken zijn er om je te helpen", "Dit is ook een waarschuwing",
    ],
    "vz_route_halt": [
        "Beste Daan,", "We hebben je nu aangemeld bij Halt",
        "Halt is er voor jongeren van 12 tot en met 17 jaar", "kort leerprogramma",
        "Halt neemt zelf contact met je op", "Dan is het klaar",
        "officier van justitie",
    ],
    "vz_route_verplicht_kader": [
        "Beste Daan,", "We maken ons zorgen over jou",
        "Raad voor de Kinderbescherming gevraagd om mee te kijken",
        "Je mag vertellen wat jij ervan vindt", "Kindertelefoon",
    ],
    "vz_route_proces_verbaal": [
        "Beste Daan,", "proces-verbaal gemaakt tegen je ouders", "Niet tegen jou",
        "officier van justitie", "Jij krijgt hiervoor zelf geen straf",
    ],
}

# A school never reads these (domain.md: never the route, the cause or the help).
SCHOOL_VERBODEN_WOORDEN = [
    "Halt", "Raad voor de Kinderbescherming", "proces-verbaal", "jeugdhulp", "wijkteam",
    "hulpverlening", "officier van justitie",
]


def make_context(letter_kind: str, /, **overrides) -> dict:
    """A realistic context for ``letter_kind``; overrides replace keys (``kind`` is the child)."""
    ontvanger, soort, specific = SPECIFIC[letter_kind]
    context = {
        "gemeente": GEMEENTE,
        "datum": date(2026, 11, 22),
        "kenmerk": KENMERK,
        "ontvanger": ontvanger,
        "afzender": LPA,
        "kind": KIND,
        "soort": soort,
        "school_naam": SCHOOL_NAAM,
        "aan_leerling": False,
        **specific,
    }
    if overrides.get("aan_leerling"):
        context["ontvanger"] = LEERLING
    context.update(overrides)
    return context


def pdf_text(pdf: bytes) -> str:
    """All text of the PDF with whitespace collapsed (lines may wrap anywhere)."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def letter_text(letter_kind: str, /, **overrides) -> str:
    pdf, _ = render_letter(letter_kind, make_context(letter_kind, **overrides))
    return pdf_text(pdf)


def onderwerp(text: str) -> str:
    match = re.search(r"Onderwerp: (.+?) Over:", text)
    assert match, "geen onderwerp"
    return match.group(1)


def assert_no_school_secrets(kind: str, text: str) -> None:
    for word in SCHOOL_VERBODEN_WOORDEN:
        assert word.lower() not in text.lower(), f"{kind}: {word!r} in een brief aan de school"
    assert not re.search(r"\bhalt\b", text, re.IGNORECASE), kind


# --- the contract -----------------------------------------------------------------------


def test_every_verzuim_kind_has_context_facts_and_template():
    assert set(SPECIFIC) == set(FACTS) == VERZUIM_KINDS == set(VERZUIM_ONTVANGER)
    assert VERZUIM_KINDS <= set(LETTER_KINDS) and VERZUIM_KINDS <= set(LETTER_FIELDS)
    assert set(LEERLING_FACTS) == set(LEERLING_KINDS)
    for kind, (_, _, specific) in SPECIFIC.items():
        assert set(specific) == set(LETTER_FIELDS[kind]), kind
        assert (TEMPLATE_DIR / f"{kind}.html").is_file(), kind
    assert set(VERZUIM_COMMON_KEYS) == {
        "gemeente", "datum", "kenmerk", "ontvanger", "afzender", "kind",
        "soort", "school_naam", "aan_leerling",
    }


def test_v5a_kinds_are_unchanged_and_still_need_schooljaar():
    v5a = {k for k in LETTER_KINDS if k.startswith("v5a_")}
    assert {"v5a_ontvangstbevestiging", "v5a_intrekking"} <= v5a and not (v5a & VERZUIM_KINDS)
    assert set(LETTER_KINDS) == set(LETTER_FIELDS) == v5a | VERZUIM_KINDS
    ctx = {
        "gemeente": GEMEENTE, "datum": date(2026, 11, 22), "kenmerk": "V5A-2026-00012",
        "ontvanger": OUDER, "afzender": LPA, "kind": KIND, "ingetrokken_op": date(2026, 12, 2),
    }
    with pytest.raises(LetterContextError, match="schooljaar"):
        render_letter_html("v5a_intrekking", ctx)


def test_school_kinds_are_the_letters_to_a_school():
    assert SCHOOL_KINDS == sorted([
        "vz_ontvangstbevestiging", "vz_ter_kennisgeving", "vz_overdracht_school", "vz_intrekking",
        "vz_omzetting_school", "vz_monitoring_school", "vz_afsluiting_school",
    ])
    assert "resultaat" not in LETTER_FIELDS["vz_afsluiting_school"]


# --- every letter -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(VERZUIM_KINDS))
def test_letter_states_what_the_reader_needs(kind):
    pdf, sha = render_letter(kind, make_context(kind))
    assert pdf.startswith(b"%PDF-")
    assert sha == hashlib.sha256(pdf).hexdigest()

    text = pdf_text(pdf)
    ontvanger = SPECIFIC[kind][0]
    common = [
        "Gemeente Voorbeeldstad", "Raadhuisplein 1", "1234 AB Voorbeeldstad", "14 0123",
        "leerplicht@voorbeeldstad.test",
        "Datum: 22 november 2026", f"Kenmerk: {KENMERK}", "Daan Visser", "geboren op 4 mei 2013",
        f"School: {SCHOOL_NAAM}",
        ontvanger["naam"], *ontvanger["adres_regels"],
        LPA["naam"], LPA["functie"], LPA["telefoon"], LPA["email"],
        "Heeft u een vraag",
    ]
    for expected in common + FACTS[kind]:
        assert expected in text, f"{kind}: {expected!r} ontbreekt"
    assert "bezwaar" not in text.lower()


@pytest.mark.parametrize("kind", sorted(VERZUIM_KINDS))
def test_subject_line(kind):
    text = letter_text(kind)
    subject = onderwerp(text)
    if kind == "vz_ontvangstbevestiging":
        assert subject == "Ontvangstbevestiging verzuimmelding"
    elif kind == "vz_ter_kennisgeving":
        assert subject == "Uw signaal zorgelijk verzuim is ter kennisgeving aangenomen"
    elif kind == "vz_intrekking":
        assert subject == "Bevestiging intrekking verzuimmelding"
    else:
        assert subject == LETTER_KINDS[kind]
    assert onderwerp(letter_text(kind, onderwerp="Eigen onderwerp")) == "Eigen onderwerp"


def test_parent_letters_address_the_parent_and_offer_a_complaint_line():
    for kind, lezer in VERZUIM_ONTVANGER.items():
        if lezer != "ouder":
            continue
        text = letter_text(kind)
        assert "Beste J. Visser," in text, kind
        assert "klacht" in text, kind
        assert "Noem dan het kenmerk VZ-2026-00012" in text, kind


def test_school_and_gemeente_letters_say_whom_to_contact():
    for kind, lezer in VERZUIM_ONTVANGER.items():
        if lezer == "ouder":
            continue
        text = letter_text(kind)
        assert "Heeft u een vraag over deze brief? Neem dan contact op met Ahmed el Amrani" in text
        assert "06 87654321" in text and "a.elamrani@voorbeeldstad.test" in text
        greeting = "Beste collega's," if lezer == "gemeente" else "Geachte heer, mevrouw,"
        assert greeting in text, kind


def test_no_template_source_mentions_bezwaar():
    # Mededelingen, not besluiten: no bezwaar clause in any branch, rendered or not.
    for path in TEMPLATE_DIR.glob("*vz_*.html"):
        assert "bezwaar" not in path.read_text(encoding="utf-8").lower(), path.name


# --- the pupil's own letter -------------------------------------------------------------


@pytest.mark.parametrize("kind", LEERLING_KINDS)
def test_pupil_letter_is_written_for_a_child(kind):
    text = letter_text(kind, aan_leerling=True)
    for expected in LEERLING_FACTS[kind]:
        assert expected in text, f"{kind}: {expected!r} ontbreekt"
    for expected in ["Gemeente Voorbeeldstad", "Datum: 22 november 2026", f"Kenmerk: {KENMERK}",
                     "Daan Visser", "Heb je een vraag?", LPA["telefoon"], LPA["email"]]:
        assert expected in text, f"{kind}: {expected!r} ontbreekt"
    # "je", never "u"/"uw" as the form of address; no "klacht" legalese either.
    assert re.search(r"\bje\b", text)
    assert not re.search(r"\b[Uu]w?\b", text), re.findall(r".{30}\b[Uu]w?\b.{30}", text)
    assert "bezwaar" not in text.lower()
    assert onderwerp(text) == render.standaard_onderwerp(kind, {"aan_leerling": True})
    assert onderwerp(text) != LETTER_KINDS[kind]


@pytest.mark.parametrize("kind", LEERLING_KINDS)
def test_pupil_letter_sentences_are_short(kind):
    text = letter_text(kind, aan_leerling=True)
    body = text.split("Beste Daan,", 1)[1].split("Met vriendelijke groet", 1)[0]
    sentences = [s for s in re.split(r"(?<=[.?!:])\s+", body) if s]
    longest = max(sentences, key=lambda s: len(s.split()))
    assert len(longest.split()) <= 20, longest


@pytest.mark.parametrize(
    "kind", sorted(k for k in VERZUIM_KINDS if k not in LEERLING_KINDS),
)
def test_other_letters_never_go_to_the_pupil(kind):
    with pytest.raises(LetterContextError, match="leerling"):
        render_letter_html(kind, make_context(kind, aan_leerling=True))


@pytest.mark.parametrize("geboortedatum", [date(2015, 1, 1), date(2008, 11, 21)])  # 11 and 18
def test_pupil_letter_only_for_12_to_17(geboortedatum):
    kind = {**KIND, "geboortedatum": geboortedatum}
    with pytest.raises(LetterContextError, match="12 tot en met 17"):
        render_letter_html("vz_uitnodiging", make_context("vz_uitnodiging", aan_leerling=True,
                                                          kind=kind))
    # A letter to the parents of that child is fine.
    render_letter_html("vz_uitnodiging", make_context("vz_uitnodiging", kind=kind))


def test_aan_leerling_must_be_a_bool():
    with pytest.raises(LetterContextError, match="aan_leerling"):
        render_letter_html("vz_uitnodiging", make_context("vz_uitnodiging", aan_leerling="ja"))


# --- variants per event -----------------------------------------------------------------


def test_ontvangstbevestiging_signaal_is_about_early_help():
    text = letter_text(
        "vz_ontvangstbevestiging", soort="signaal", verzuimsoort=None, uren=6,
        periode_start=date(2026, 10, 5), periode_eind=None,
    )
    assert onderwerp(text) == "Ontvangstbevestiging signaal zorgelijk verzuim"
    assert "Op 3 november 2026 hebben wij uw signaal zorgelijk verzuim ontvangen" in text
    assert "Een signaal is nooit een reden voor straf" in text
    assert "om op tijd te helpen" in text
    assert "6 uur" in text and "vanaf 5 oktober 2026" in text
    # A melding goes through DUO: the gemeente never promises to turn the signaal into one.
    assert "Het signaal wordt dan een verzuimmelding" not in text
    assert "verplicht een verzuimmelding te doen, via DUO" in text
    assert "Het is niet bedoeld voor straf" in text
    assert_no_school_secrets("vz_ontvangstbevestiging", text)


@pytest.mark.parametrize("kind", ["vz_ontvangstbevestiging", "vz_uitnodiging",
                                  "vz_route_vrijwillige_hulp", "vz_monitoring",
                                  "vz_monitoring_school", "vz_afsluiting", "vz_afsluiting_school"])
def test_every_signaal_letter_says_it_is_not_for_punishment(kind):
    """The law: a signaal is not meant for enforcement (seed 002 l. 3608); a melding's letters
    do not carry the sentence."""
    signaal = letter_text(kind, **({"soort": "signaal", "verzuimsoort": None}
                                   if "verzuimsoort" in make_context(kind) else {"soort": "signaal"}))
    assert "niet bedoeld voor straf" in signaal
    assert "niet bedoeld voor straf" not in letter_text(kind)


def test_melding_needs_a_verzuimsoort():
    for kind in ("vz_ontvangstbevestiging", "vz_omzetting", "vz_overdracht_gemeente"):
        with pytest.raises(LetterContextError, match="verzuimsoort"):
            render_letter_html(kind, make_context(kind, verzuimsoort=None))
    with pytest.raises(LetterContextError, match="verzuimsoort"):
        render_letter_html("vz_omzetting", make_context("vz_omzetting", verzuimsoort="spijbelen"))


@pytest.mark.parametrize(
    ("verzuimsoort", "uren", "ouder", "school"),
    [
        ("langdurig_relatief", None, "4 weken of langer niet op school geweest",
         "langdurig verzuim: 4 weken of langer afwezig zonder geldige reden"),
        ("luxe", 24, "op vakantie buiten de schoolvakanties, zonder verlof",
         "luxeverzuim: vakantie buiten de schoolvakanties zonder verlof"),
        ("overig", 10, "zo zorgelijk dat zij het moet melden", "ander ongeoorloofd verzuim"),
        ("16_uur_4_weken", None, "Daan heeft 16 uur of meer les gemist",
         "16 uur of meer ongeoorloofd verzuim binnen 4 schoolweken"),
    ],
)
def test_omzetting_names_the_absence(verzuimsoort, uren, ouder, school):
    over = {"verzuimsoort": verzuimsoort, "uren": uren}
    text = letter_text("vz_omzetting", **over)
    assert ouder in text and PERIODE_TEKST in text
    text = letter_text("vz_omzetting_school", **over)
    assert school in text and PERIODE_TEKST in text
    assert (f"Uren verzuim: {uren} uur" in text) is (uren is not None)
    assert_no_school_secrets("vz_omzetting_school", text)


def test_uitnodiging_without_time_or_place():
    text = letter_text("vz_uitnodiging", gesprek_tijd="", gesprek_plaats="")
    assert "Datum: 1 december 2026" in text
    assert "Tijd: die laten wij u nog weten" in text
    assert "Plaats: die laten wij u nog weten" in text
    text = letter_text("vz_uitnodiging", aan_leerling=True, gesprek_tijd="", gesprek_plaats="")
    assert "Wanneer: 1 december 2026 (de tijd hoor je nog van ons)" in text
    assert "Waar: dat hoor je nog van ons" in text


def test_uitnodiging_signaal_promises_no_punishment():
    text = letter_text("vz_uitnodiging", soort="signaal")
    assert "signaal" in text and "Het leidt nooit tot straf" in text
    text = letter_text("vz_uitnodiging", soort="signaal", aan_leerling=True)
    assert f"Je school, {SCHOOL_NAAM}, maakt zich zorgen" in text


def test_vrijwillige_hulp_for_a_signaal_has_no_warning():
    text = letter_text("vz_route_vrijwillige_hulp", soort="signaal")
    assert AFSPRAKEN in text
    assert "waarschuwing" not in text
    assert "Dit signaal leidt nooit tot straf" in text
    for word in ("proces-verbaal", "Raad voor de Kinderbescherming"):
        assert word not in text
    text = letter_text("vz_route_vrijwillige_hulp", soort="signaal", aan_leerling=True)
    assert "waarschuwing" not in text and "Je krijgt geen straf" in text


def test_route_letters_after_a_referral_say_so():
    for kind in ("vz_route_halt", "vz_route_verplicht_kader", "vz_route_proces_verbaal"):
        assert "lichtere aanpak" in letter_text(kind, verwezen=True)
        assert "lichtere aanpak" not in letter_text(kind, verwezen=False)
        assert "niet genoeg geholpen" in letter_text(kind, verwezen=True, aan_leerling=True)


def test_halt_shows_extra_agreements():
    extra = "Daan meldt zich elke maandag bij de mentor."
    text = letter_text("vz_route_halt", afspraken=extra)
    assert extra in text
    assert extra in letter_text("vz_route_halt", afspraken=extra, aan_leerling=True)
    assert "nog meer afgesproken" not in letter_text("vz_route_halt")


@pytest.mark.parametrize("kind", ["vz_route_halt", "vz_route_verplicht_kader",
                                  "vz_route_proces_verbaal"])
def test_a_signaal_never_leads_to_a_heavy_route(kind):
    with pytest.raises(LetterContextError, match="signaal"):
        render_letter_html(kind, make_context(kind, soort="signaal"))


def test_proces_verbaal_against_the_young_person():
    text = letter_text("vz_route_proces_verbaal", tegen="jongere")
    assert "Het proces-verbaal is opgemaakt tegen Daan zelf" in text
    assert "Vanaf 12 jaar is een jongere zelf ook verantwoordelijk" in text
    assert "kinderrechter" in text and "Daan krijgt een strafbeschikking" in text
    assert "tegen u als ouder" not in text
    text = letter_text("vz_route_proces_verbaal", tegen="jongere", aan_leerling=True)
    assert "De leerplichtambtenaar heeft een proces-verbaal gemaakt tegen jou" in text
    assert "kinderrechter" in text and "Het Juridisch Loket" in text
    assert "tegen je ouders" not in text


def test_proces_verbaal_tegen_is_checked():
    with pytest.raises(LetterContextError, match="tegen"):
        render_letter_html("vz_route_proces_verbaal",
                           make_context("vz_route_proces_verbaal", tegen="school"))


@pytest.mark.parametrize(
    ("resultaat", "expected"),
    [
        ("verzuim_gestopt", "Het verzuim is gestopt"),
        ("doorverwezen", "hulp van een andere organisatie"),
        ("schoolwissel", "naar een andere school"),
        ("vrijstelling", "vrijstelling van de leerplicht"),
        ("verhuisd", "U woont niet meer in onze gemeente"),
        ("anders", "Wilt u weten waarom?"),
    ],
)
def test_afsluiting_explains_the_result(resultaat, expected):
    text = letter_text("vz_afsluiting", resultaat=resultaat)
    assert expected in text


def test_afsluiting_toelichting_and_unknown_result():
    toelichting = "Daan volgt nu een traject bij het mbo."
    text = letter_text("vz_afsluiting", resultaat="anders", toelichting=toelichting)
    assert toelichting in text and "Wilt u weten waarom?" not in text
    with pytest.raises(LetterContextError, match="resultaat"):
        render_letter_html("vz_afsluiting", make_context("vz_afsluiting", resultaat="klaar"))


def test_ter_kennisgeving_without_reason():
    text = letter_text("vz_ter_kennisgeving", reden="", soort="melding")
    assert onderwerp(text) == "Uw verzuimmelding is ter kennisgeving aangenomen"
    assert "verdere stappen nu niet nodig" in text


def test_overdracht_gemeente_of_a_signaal():
    text = letter_text("vz_overdracht_gemeente", soort="signaal", verzuimsoort=None, uren=None,
                       periode_start=None, periode_eind=None, omschrijving="")
    assert "signaal zorgelijk verzuim" in text and "nooit een basis voor Halt" in text
    assert "Er is geen omschrijving gegeven" in text
    assert "Periode:" not in text and "Uren verzuim:" not in text


# --- privacy: a school never learns the route, the cause or the help ----------------------


@pytest.mark.parametrize("kind", SCHOOL_KINDS)
@pytest.mark.parametrize("soort", ["signaal", "melding"])
def test_school_letters_name_no_route_or_help(kind, soort):
    overrides = {"soort": soort}
    if soort == "signaal" and kind == "vz_ontvangstbevestiging":
        overrides["verzuimsoort"] = None
    context = make_context(kind, **overrides)
    text = pdf_text(render_letter(kind, context)[0])
    assert_no_school_secrets(kind, text)
    assert_no_school_secrets(kind, render_letter_html(kind, context))


@pytest.mark.parametrize("kind", SCHOOL_KINDS)
@pytest.mark.parametrize(
    ("key", "value"),
    [("route", "halt"), ("oorzaak", "Daan zorgt 's ochtends voor zijn broertjes."),
     ("resultaat", "verzuim_gestopt"), ("afspraken", AFSPRAKEN), ("tegen", "ouders")],
)
def test_school_letters_refuse_route_and_cause_keys(kind, key, value):
    with pytest.raises(LetterContextError, match=key):
        render_letter_html(kind, make_context(kind, **{key: value}))


def test_all_forbidden_school_keys_are_refused():
    assert {"route", "oorzaak", "resultaat", "afspraken", "tegen"} <= SCHOOL_VERBODEN_SLEUTELS
    for key in SCHOOL_VERBODEN_SLEUTELS:
        with pytest.raises(LetterContextError, match=key):
            render_letter_html("vz_afsluiting_school",
                               make_context("vz_afsluiting_school", **{key: None}))
    # ... also when the rest of the context is incomplete.
    with pytest.raises(LetterContextError, match="route"):
        render_letter_html("vz_afsluiting_school", {"route": "halt"})


@pytest.mark.parametrize(
    "reden",
    ["Daan krijgt al jeugdhulp.", "Het wijkteam is betrokken.", "Doorverwezen naar Halt.",
     "De Raad voor de Kinderbescherming onderzoekt het gezin.", "Er loopt een procesverbaal."],
)
def test_school_letters_refuse_free_text_that_names_a_route(reden):
    assert school_tekst_problemen(reden)
    for kind in ("vz_ter_kennisgeving", "vz_intrekking"):
        with pytest.raises(LetterContextError, match="reden"):
            render_letter_html(kind, make_context(kind, reden=reden))


def test_school_tekst_problemen_ignores_innocent_words():
    assert school_tekst_problemen(None) == []
    assert school_tekst_problemen("Haltes en ophalen; verzuim gestopt.") == []


def test_parent_letters_may_name_the_route():
    # The same keys are fine in letters to the family (they are about their own case).
    text = letter_text("vz_route_vrijwillige_hulp")
    assert "wijkteam" in text


# --- small contract checks ----------------------------------------------------------------


def test_verzuim_letters_need_their_common_keys():
    for key in ("soort", "school_naam", "aan_leerling", "kind"):
        ctx = make_context("vz_monitoring")
        del ctx[key]
        with pytest.raises(LetterContextError, match=key):
            render_letter_html("vz_monitoring", ctx)
    with pytest.raises(LetterContextError, match="soort"):
        render_letter_html("vz_monitoring", make_context("vz_monitoring", soort="klacht"))
    with pytest.raises(LetterContextError):
        render_letter_html("vz_monitoring", make_context("vz_monitoring", kind=None))


def test_uren_must_be_a_whole_number():
    for uren in ("18", 1.5, True, -1):
        with pytest.raises(LetterContextError, match="uren"):
            render_letter_html("vz_omzetting", make_context("vz_omzetting", uren=uren))


def test_empty_school_name():
    text = letter_text("vz_omzetting", school_naam="")
    assert "Eerder stuurde de school ons een signaal" in text
    assert "School:" not in text
    text = letter_text("vz_uitnodiging", school_naam="", aan_leerling=True)
    assert "Je school heeft ons verteld" in text


def test_values_are_escaped():
    html = render_letter_html(
        "vz_route_halt", make_context("vz_route_halt", afspraken='<img src="file:///etc/passwd">'),
    )
    assert "&lt;img" in html and "<img" not in html
