"""Letter templates: every kind renders to a PDF that says what its reader needs to know.

Self-contained: no Flask app, no database. Texts are read back from the PDF with pypdf.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from casework.formatting import format_datum, format_datum_tijd
from casework.letters import render
from casework.letters.render import (
    LETTER_FIELDS,
    LOGO_URL,
    LETTER_KINDS,
    DataOnlyURLFetcher,
    ExternalResourceError,
    LetterContextError,
    render_letter,
    render_letter_html,
    render_pdf,
)

TEMPLATE_DIR = Path(render.__file__).resolve().parent.parent / "templates" / "letters"

GEMEENTE = {
    "naam": "Gemeente Voorbeeldstad",
    "adres": "Raadhuisplein 1",
    "postcode_plaats": "1234 AB Voorbeeldstad",
    "telefoon": "14 0123",
    "email": "leerplicht@voorbeeldstad.test",
}
KIND = {"voornaam": "Sanne", "achternaam": "Brouwer", "geboortedatum": date(2013, 3, 17)}
OUDER = {"naam": "M. Brouwer", "adres_regels": ["Lindelaan 12", "1234 CD Voorbeeldstad"]}
LPA = {
    "naam": "Petra Jansen",
    "functie": "Leerplichtambtenaar",
    "telefoon": "06 12345678",
    "email": "p.jansen@voorbeeldstad.test",
}
JEUGDARTS = {
    "naam": "Dr. K. Bakker",
    "functie": "Jeugdarts, GGD Voorbeeld",
    "telefoon": "088 123 4567",
    "email": "k.bakker@ggd-voorbeeld.test",
}
SWV_ADVISEUR = {
    "naam": "Anouk Smit",
    "functie": "Adviseur passend onderwijs",
    "telefoon": "010 765 4321",
    "email": "a.smit@swv-regio.test",
}
SWV_NAAM = "Samenwerkingsverband Passend Onderwijs Regio Voorbeeld"
MOGELIJKHEDEN = [
    "Onderwijszorgarrangement De Brug (deeltijd)",
    "Digitaal afstandsonderwijs met begeleiding",
]
ADVIES = "Een start met een paar uur per week in een onderwijszorgarrangement lijkt haalbaar."
# A school the child once attended; it may only appear where the recipient may see it.
SCHOOL = "Basisschool De Regenboog"
DESKUNDIGE = {
    "naam": "Dr. K. Bakker, GGD Voorbeeld",
    "adres_regels": ["Postbus 10", "1230 AA Voorbeeldstad"],
}
SWV = {
    "naam": f"{SWV_NAAM}, t.a.v. de adviseur onderwijskundig perspectief",
    "adres_regels": ["Postbus 99", "1230 ZZ Voorbeeldstad"],
}
ADVIES_FEITEN = {
    "swv_naam": SWV_NAAM, "soort": "persoonlijk", "advies": ADVIES, "mogelijkheden": MOGELIJKHEDEN,
}

# kind → (recipient, sender, kind-specific context)
SPECIFIC: dict[str, tuple[dict, dict, dict]] = {
    "v5a_ontvangstbevestiging": (
        OUDER, LPA, {"ontvangen_op": date(2026, 11, 20), "te_laat": False},
    ),
    "v5a_niet_ontvankelijk": (OUDER, LPA, {
        "reden": "De toelichting op de gronden voor vrijstelling ontbreekt.",
        "aanvullen_voor": date(2026, 12, 20),
    }),
    "v5a_aanvulling_ontvangen": (OUDER, LPA, {"ontvangen_op": date(2026, 12, 3)}),
    "v5a_in_behandeling_ouder": (OUDER, LPA, {
        "deskundige_organisatie": "GGD Voorbeeld",
        "te_laat": False,
        "motivering_te_laat": None,
    }),
    "v5a_beoordelingsverzoek": (
        DESKUNDIGE,
        LPA,
        {"deskundige_naam": "Dr. K. Bakker", "beoordelen_voor": date(2027, 1, 15)},
    ),
    "v5a_adviesaanvraag": (
        SWV,
        JEUGDARTS,
        {
            "swv_naam": SWV_NAAM,
            "advies_voor": date(2026, 12, 18),
            "toestemming": True,
            "samenvatting": (
                f"Leerling van 13 jaar, eerder op {SCHOOL}; kan nu geen volle schooldag aan."
            ),
        },
    ),
    "v5a_adviesaanvraag_ouder": (OUDER, JEUGDARTS, {
        "swv_naam": SWV_NAAM, "toestemming": True, "toestemming_door": "ouder",
    }),
    "v5a_advies_deskundige": (DESKUNDIGE, SWV_ADVISEUR, ADVIES_FEITEN),
    "v5a_advies_ouder": (OUDER, SWV_ADVISEUR, ADVIES_FEITEN),
    "v5a_vrijstelling": (OUDER, LPA, {
        "ingangsdatum": date(2027, 1, 1),
        "einddatum": date(2027, 7, 31),
        "herbeoordelingsdatum": date(2027, 6, 1),
        "mogelijkheden": MOGELIJKHEDEN,
    }),
    "v5a_geen_vrijstelling": (OUDER, LPA, {
        "vrijstelling_tot": None, "inschrijven_voor": date(2026, 12, 6),
    }),
    "v5a_herbeoordeling": (OUDER, LPA, {
        "einddatum": date(2027, 7, 31), "herbeoordelingsdatum": date(2027, 6, 1),
    }),
    "v5a_beeindiging": (OUDER, LPA, {
        "beeindigd_op": date(2027, 8, 1), "reden": "verlopen", "toelichting": None,
    }),
    "v5a_intrekking": (OUDER, LPA, {"ingetrokken_op": date(2026, 12, 2)}),
    "v5a_procedure_beeindigd": (OUDER, LPA, {
        "beeindigd_op": date(2026, 12, 10), "reden": "verhuisd", "toelichting": None,
    }),
    "v5a_niet_aangevuld": (OUDER, LPA, {
        "aanvullen_voor": date(2026, 12, 20), "beeindigd_op": date(2026, 12, 21),
    }),
    "v5a_ander_swv_ouder": (OUDER, JEUGDARTS, {
        "swv_naam": SWV_NAAM, "toestemming": False, "toestemming_door": "ouder",
    }),
    "v5a_herinnering_verlenging": (OUDER, LPA, {
        "einddatum": date(2027, 7, 31), "verlengen_voor": date(2027, 6, 30),
        "schooljaar_verlenging": "2027-2028",
    }),
    "v5a_overgangsrecht": (OUDER, LPA, {
        "ingangsdatum": date(2025, 8, 1), "einddatum": date(2027, 7, 31),
        "herbeoordelingsdatum": None,
    }),
    "v5a_afzien": (OUDER, LPA, {
        "beeindigd_op": date(2027, 3, 1), "ingangsdatum": date(2027, 1, 1),
    }),
}

# Facts each letter must state (beyond the common ones), as they read in the PDF.
FACTS: dict[str, list[str]] = {
    "v5a_ontvangstbevestiging": [
        "20 november 2026", "2027-2028", "compleet", "deskundige", "jeugdarts",
        "samenwerkingsverband", "gedeeld mogen worden",
    ],
    "v5a_niet_ontvankelijk": [
        "De toelichting op de gronden voor vrijstelling ontbreekt.", "20 december 2026",
        "Log in", "V5A-2026-00012", '"Aanvullen"',
    ],
    "v5a_aanvulling_ontvangen": ["3 december 2026", "aanvulling ontvangen", "weer op de lijst"],
    "v5a_in_behandeling_ouder": [
        "GGD Voorbeeld", "uitnodiging", "gesprek", "samenwerkingsverband", "verklaring",
    ],
    "v5a_beoordelingsverzoek": [
        "Dr. K. Bakker", "15 januari 2027", "geschikt is om tot een school te worden toegelaten",
        "onderwijskundig perspectief", "niet de behandelend arts", "17 maart 2013",
    ],
    "v5a_adviesaanvraag": [
        SWV_NAAM, "18 december 2026", "onderwijskundig perspectief", "persoonlijk",
        "17 maart 2013", SCHOOL,
    ],
    "v5a_adviesaanvraag_ouder": [
        SWV_NAAM, "U heeft toestemming gegeven", "naam en de geboortedatum",
    ],
    "v5a_advies_deskundige": [
        SWV_NAAM, "persoonlijk advies", ADVIES, *MOGELIJKHEDEN, "Weeg dit advies mee",
    ],
    "v5a_advies_ouder": [SWV_NAAM, "Het advies gaat over Sanne zelf", ADVIES, *MOGELIJKHEDEN],
    "v5a_vrijstelling": [
        "De vrijstelling geldt van 1 januari 2027 tot en met 31 juli 2027",
        "1 juni 2027", "niet in te schrijven op een school", "recht op onderwijs",
        *MOGELIJKHEDEN, "als er iets verandert", "geen besluit",
    ],
    "v5a_geen_vrijstelling": [
        "uiterlijk op 6 december 2026",
        "onderwijs kan volgen", "geen vrijstelling", "leerplichtig", "inschrijven op een school",
        "samenwerkingsverband", "maatwerk",
    ],
    "v5a_herbeoordeling": [
        "herbeoordeling", "1 juni 2027", "tot en met 31 juli 2027", "De vrijstelling loopt door",
        "De deskundige neemt contact met u op",
    ],
    "v5a_beeindiging": ["1 augustus 2027", "verlopen", "weer leerplichtig", "nieuwe kennisgeving"],
    "v5a_intrekking": [
        "ingetrokken", "2 december 2026", "leerplichtig", "ingeschreven zijn op een school",
    ],
    "v5a_procedure_beeindigd": [
        "10 december 2026", "geen verklaring", "geen vrijstelling", "nieuwe gemeente",
    ],
    "v5a_niet_aangevuld": [
        "tot en met 20 december 2026", "21 december 2026", "geen vrijstelling", "leerplichtig",
        "nieuwe kennisgeving",
    ],
    "v5a_ander_swv_ouder": [
        SWV_NAAM, "ander samenwerkingsverband", "U heeft gekozen om geen gegevens",
        "zonder naam",
    ],
    "v5a_herinnering_verlenging": [
        "tot en met 31 juli 2027", "uiterlijk op 30 juni 2027", "2027-2028", "nieuwe kennisgeving",
        "samenwerkingsverband",
    ],
    "v5a_overgangsrecht": [
        "vanaf 1 augustus 2025 tot en met 31 juli 2027", "regels van vóór de Wet terugdringen",
        "vóór 1 juli", "samenwerkingsverband",
    ],
    "v5a_afzien": [
        "afziet van de vrijstelling", "1 januari 2027", "gestopt op 1 maart 2027",
        "weer leerplichtig",
    ],
}


def make_context(letter_kind: str, /, **overrides) -> dict:
    """A realistic context for ``letter_kind``; overrides replace keys (``kind`` is the child)."""
    ontvanger, afzender, specific = SPECIFIC[letter_kind]
    context = {
        "gemeente": GEMEENTE,
        "datum": date(2026, 11, 22),
        "kenmerk": "V5A-2026-00012",
        "ontvanger": ontvanger,
        "afzender": afzender,
        "kind": KIND,
        "schooljaar": "2027-2028",
        **specific,
    }
    context.update(overrides)
    return context


def pdf_text(pdf: bytes) -> str:
    """All text of the PDF with whitespace collapsed (lines may wrap anywhere)."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def letter_text(letter_kind: str, /, **overrides) -> str:
    pdf, _ = render_letter(letter_kind, make_context(letter_kind, **overrides))
    return pdf_text(pdf)


# The verzuim letters (vz_*) have their own tests: tests/test_letter_templates_verzuim.py.
V5A_KINDS = sorted(kind for kind in LETTER_KINDS if kind.startswith("v5a_"))


def test_every_kind_has_context_and_facts():
    assert set(V5A_KINDS) == set(SPECIFIC) == set(FACTS)
    assert {kind for kind in LETTER_FIELDS if kind.startswith("v5a_")} == set(SPECIFIC)
    for kind, (_, _, specific) in SPECIFIC.items():
        assert set(specific) == set(LETTER_FIELDS[kind]), kind
        assert (TEMPLATE_DIR / f"{kind}.html").is_file(), kind


@pytest.mark.parametrize("kind", V5A_KINDS)
def test_letter_states_what_the_reader_needs(kind):
    pdf, sha = render_letter(kind, make_context(kind))
    assert pdf.startswith(b"%PDF-")
    assert sha == hashlib.sha256(pdf).hexdigest()

    text = pdf_text(pdf)
    _, afzender, _ = SPECIFIC[kind]
    common = [
        "Gemeente Voorbeeldstad", "Raadhuisplein 1", "1234 AB Voorbeeldstad", "14 0123",
        "leerplicht@voorbeeldstad.test",
        "Datum: 22 november 2026", "Kenmerk: V5A-2026-00012", f"Onderwerp: {LETTER_KINDS[kind]}",
        "Sanne Brouwer", "geboren op 17 maart 2013",
        afzender["naam"], afzender["functie"], afzender["telefoon"], afzender["email"],
        "Heeft u een vraag of bent u het ergens niet mee eens?", "klacht",
    ]
    for expected in common + FACTS[kind]:
        assert expected in text, f"{kind}: {expected!r} ontbreekt"
    assert "bezwaar" not in text.lower()


@pytest.mark.parametrize("kind", V5A_KINDS)
def test_recipient_address_is_printed(kind):
    ontvanger = SPECIFIC[kind][0]
    text = letter_text(kind)
    for regel in [ontvanger["naam"], *ontvanger["adres_regels"]]:
        assert regel in text


def test_no_template_source_mentions_bezwaar():
    # Mededelingen, not besluiten: no bezwaar clause in any branch, rendered or not.
    for path in TEMPLATE_DIR.glob("*.html"):
        assert "bezwaar" not in path.read_text(encoding="utf-8").lower(), path.name


def test_onderwerp_can_be_overridden():
    text = letter_text("v5a_intrekking", onderwerp="Uw intrekking")
    assert "Onderwerp: Uw intrekking" in text


# --- SWV without consent: no child identity at all -------------------------------------


ANONIEME_SCHETS = "Jongere van middelbareschoolleeftijd; kan nu geen volle schooldag aan."


def test_swv_letter_without_consent_has_no_child_identity():
    ctx = make_context(
        "v5a_adviesaanvraag", kind=None, toestemming=False, samenvatting=ANONIEME_SCHETS,
    )
    html = render_letter_html("v5a_adviesaanvraag", ctx)
    pdf, _ = render_letter("v5a_adviesaanvraag", ctx)
    text = pdf_text(pdf)
    for source in (html, text):
        for forbidden in ("Sanne", "Brouwer", "17 maart", "2013", "S. B.", "S.B.", SCHOOL,
                          "Lindelaan", "1234 CD"):
            assert forbidden not in source, forbidden
    assert "de jongere in deze aanvraag" in text
    assert "V5A-2026-00012" in text
    assert "geen toestemming" in text
    assert "algemeen advies" in text
    assert ANONIEME_SCHETS in text
    assert SWV_NAAM in text and "18 december 2026" in text
    assert "persoonlijk advies" not in text


def test_swv_letter_refuses_child_without_consent():
    ctx = make_context("v5a_adviesaanvraag", toestemming=False)  # kind still set: a leak
    with pytest.raises(LetterContextError, match="zonder toestemming"):
        render_letter_html("v5a_adviesaanvraag", ctx)


def test_parent_letters_require_the_child():
    with pytest.raises(LetterContextError):
        render_letter_html("v5a_vrijstelling", make_context("v5a_vrijstelling", kind=None))


def test_missing_key_is_named():
    ctx = make_context("v5a_vrijstelling")
    del ctx["herbeoordelingsdatum"]
    with pytest.raises(LetterContextError, match="herbeoordelingsdatum"):
        render_letter_html("v5a_vrijstelling", ctx)


def test_unknown_kind_is_refused():
    with pytest.raises(LetterContextError):
        render_letter_html("v5a_bestaat_niet", make_context("v5a_intrekking"))


# --- variants per event ---------------------------------------------------------------


def test_ontvangstbevestiging_late_notice():
    text = letter_text("v5a_ontvangstbevestiging", te_laat=True)
    assert "te laat" in text
    assert "weegt wel de reden mee" in text
    assert "te laat" not in letter_text("v5a_ontvangstbevestiging")


def test_in_behandeling_late_with_motivering():
    motivering = "De ouders wisten pas in augustus dat school niet meer lukte."
    text = letter_text("v5a_in_behandeling_ouder", te_laat=True, motivering_te_laat=motivering)
    assert "te laat" in text and motivering in text
    text = letter_text("v5a_in_behandeling_ouder", te_laat=True, motivering_te_laat=None)
    assert "te laat" in text


@pytest.mark.parametrize(
    ("toestemming", "door", "expected"),
    [
        (True, "ouder", "U heeft toestemming gegeven"),
        (True, "jongere", "Sanne heeft zelf toestemming gegeven"),
        (False, "ouder", "U heeft gekozen om geen gegevens"),
        (False, "jongere", "Sanne heeft zelf gekozen om geen gegevens te delen"),
        (True, None, "Er is toestemming gegeven om gegevens van Sanne te delen"),
        (False, None, "Er is gekozen om geen gegevens van Sanne te delen"),
    ],
)
def test_adviesaanvraag_ouder_consent_choice(toestemming, door, expected):
    text = letter_text("v5a_adviesaanvraag_ouder", toestemming=toestemming, toestemming_door=door)
    assert expected in text
    assert SWV_NAAM in text
    assert ("algemeen advies" in text) is (not toestemming)


def test_advies_algemeen_and_without_options():
    for kind in ("v5a_advies_ouder", "v5a_advies_deskundige"):
        text = letter_text(kind, soort="algemeen", mogelijkheden=[])
        assert "algemeen advies" in text.lower() or "advies is algemeen" in text
        assert "geen concrete mogelijkheden" in text
        assert ADVIES in text


def test_vrijstelling_until_end_of_leerplicht():
    text = letter_text("v5a_vrijstelling", einddatum=None, mogelijkheden=[])
    assert "De vrijstelling geldt van 1 januari 2027 tot het einde van de leerplicht" in text
    assert "1 juni 2027" in text
    assert "geen concrete mogelijkheden" in text


def test_herbeoordeling_until_end_of_leerplicht():
    text = letter_text("v5a_herbeoordeling", einddatum=None)
    assert "tot het einde van de leerplicht" in text
    assert "1 juni 2027" in text


@pytest.mark.parametrize(
    ("reden", "expected"),
    [
        ("verlopen", ["is verlopen", "weer leerplichtig"]),
        ("ingeschreven_op_school", ["staat ingeschreven op een school", "Er loopt geen vrijstelling"]),
        ("verhuisd", ["woont niet meer in onze gemeente", "nieuwe gemeente"]),
        ("einde_leerplicht", ["valt niet meer onder de leerplicht en niet meer onder de",
                              "geldt ook voor de", "kwalificatieplicht (artikel 15"]),
        ("anders", ["om een andere reden", "Wilt u weten waarom?"]),
    ],
)
def test_beeindiging_explains_reason(reden, expected):
    text = letter_text("v5a_beeindiging", reden=reden)
    assert "1 augustus 2027" in text
    for fragment in expected:
        assert fragment in text, fragment


def test_beeindiging_at_school_with_the_deskundiges_judgement():
    text = letter_text("v5a_beeindiging", reden="ingeschreven_op_school", deskundige_akkoord=True)
    assert "De deskundige heeft beoordeeld dat de vrijstelling niet meer nodig is" in text
    assert "moet nu volledig naar school gaan" in text
    assert "Er loopt geen vrijstelling" not in text


def test_beeindiging_toelichting_is_shown():
    toelichting = "Sanne volgt nu onderwijs in het buitenland."
    text = letter_text("v5a_beeindiging", reden="anders", toelichting=toelichting)
    assert toelichting in text
    assert "Wilt u weten waarom?" not in text


def test_beeindiging_unknown_reason_is_refused():
    with pytest.raises(LetterContextError):
        render_letter_html("v5a_beeindiging", make_context("v5a_beeindiging", reden="zomaar"))


def test_values_are_escaped():
    ctx = make_context("v5a_niet_ontvankelijk", reden='<img src="file:///etc/passwd"> & meer')
    html = render_letter_html("v5a_niet_ontvankelijk", ctx)
    assert "&lt;img" in html and "<img" not in html
    assert '<img src="file:///etc/passwd"> & meer' in pdf_text(render_pdf(html))


def test_strict_undefined():
    ctx = make_context("v5a_vrijstelling", kind={"voornaam": "Sanne"})  # achternaam missing
    with pytest.raises(Exception, match="achternaam"):
        render_letter_html("v5a_vrijstelling", ctx)


# --- URL fetcher: only data: URLs -----------------------------------------------------

PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
    "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.mark.parametrize(
    "snippet",
    [
        '<link rel="stylesheet" href="file:///etc/passwd">',
        '<img src="file:///etc/passwd">',
        '<style>body { background: url("file:///etc/passwd"); }</style>',
        '<img src="http://127.0.0.1:9/logo.png">',
    ],
)
def test_url_fetcher_refuses_external_resources(snippet):
    html = f"<html><head></head><body>{snippet}<p>Brief</p></body></html>"
    with pytest.raises(ExternalResourceError):
        render_pdf(html)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "https://example.org/x.css", "ftp://x/y"])
def test_fetcher_refuses_before_opening(url):
    with pytest.raises(ExternalResourceError):
        DataOnlyURLFetcher().fetch(url)


def test_url_fetcher_allows_data_urls():
    pdf = render_pdf(f'<html><body><img src="{PIXEL}"><p>Met logo</p></body></html>')
    assert "Met logo" in pdf_text(pdf)
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1


def test_template_with_external_reference_does_not_render():
    # A letter whose HTML references a local file must fail, not embed the file.
    html = render_letter_html("v5a_intrekking", make_context("v5a_intrekking"))
    html = html.replace("</head>", '<link rel="stylesheet" href="file:///etc/passwd"></head>')
    with pytest.raises(ExternalResourceError, match="file:///etc/passwd"):
        render_pdf(html)


def test_base_template_has_no_external_urls():
    # The one reference is the letterhead logo, which the renderer serves from memory (LOGO_URL).
    source = (TEMPLATE_DIR / "_base.html").read_text(encoding="utf-8")
    assert re.findall(r"(?:src|href)\s*=\s*\"[^\"]*\"|url\(|@import", source) == ['src="{{ logo }}"']
    html = render_letter_html("v5a_intrekking", make_context("v5a_intrekking"), with_logo=True)
    assert re.findall(r'src="([^"]*)"', html) == [LOGO_URL]
    assert 'src="' not in render_letter_html("v5a_intrekking", make_context("v5a_intrekking"))


# --- the Jinja environment ------------------------------------------------------------


def test_environment_settings():
    from jinja2 import StrictUndefined

    assert render.env.autoescape is True
    assert render.env.undefined is StrictUndefined
    assert render.env.filters["datum"] is format_datum
    assert render.env.filters["datum_tijd"] is format_datum_tijd


# --- formatting -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 11, 22), "22 november 2026"),
        (date(2027, 1, 1), "1 januari 2027"),
        (date(2026, 12, 31), "31 december 2026"),
        (date(2026, 3, 5), "5 maart 2026"),
        ("2026-11-22", "22 november 2026"),
        ("2024-02-29", "29 februari 2024"),
        (datetime(2026, 11, 22, 14, 5), "22 november 2026"),
        # 23:30 UTC on 31 December is already New Year in Amsterdam.
        (datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc), "1 januari 2027"),
        (None, ""),
        ("", ""),
    ],
)
def test_format_datum(value, expected):
    assert format_datum(value) == expected


def test_all_month_names():
    names = [format_datum(date(2026, m, 1)).split()[1] for m in range(1, 13)]
    assert names == [
        "januari", "februari", "maart", "april", "mei", "juni",
        "juli", "augustus", "september", "oktober", "november", "december",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 11, 22, 13, 5, tzinfo=timezone.utc), "22 november 2026, 14:05"),  # CET
        (datetime(2026, 7, 1, 7, 0, tzinfo=timezone.utc), "1 juli 2026, 09:00"),  # CEST
        (datetime(2026, 11, 22, 13, 5), "22 november 2026, 14:05"),  # naive = UTC
        ("2026-11-22T13:05:00+00:00", "22 november 2026, 14:05"),
        (None, ""),
    ],
)
def test_format_datum_tijd(value, expected):
    assert format_datum_tijd(value) == expected


def test_format_datum_rejects_garbage():
    with pytest.raises(ValueError):
        format_datum("22-11-2026")
    with pytest.raises(TypeError):
        format_datum(20261122)
