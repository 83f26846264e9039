"""Letters: Jinja templates (templates/letters/<kind>.html) → HTML → PDF with WeasyPrint.

Templates get plain values (dicts, strings, dates), never ORM objects. The caller builds the
context so that it holds nothing the recipient may not see; this module only checks the
contract (all keys present, no child identity in an SWV letter without consent, nothing
about a verzuim route or its cause in a letter to a school).
"""

from __future__ import annotations

import gc
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from casework.formatting import format_datum, format_datum_tijd
from casework.letters.fonts import font_face_css, letter_fonts

__all__ = [
    "COMMON_KEYS",
    "LETTER_FIELDS",
    "LETTER_KINDS",
    "SCHOOL_VERBODEN_SLEUTELS",
    "VERZUIM_COMMON_KEYS",
    "VERZUIM_KINDS",
    "VERZUIM_ONTVANGER",
    "DataOnlyURLFetcher",
    "ExternalResourceError",
    "LetterContextError",
    "LetterRenderError",
    "env",
    "render_letter",
    "render_letter_html",
    "render_pdf",
    "school_tekst_problemen",
    "standaard_onderwerp",
]

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "letters"

env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["datum"] = format_datum
env.filters["datum_tijd"] = format_datum_tijd


def een_regel(value: Any) -> str:
    """A value on one line of a block whose source line breaks are its lines (class "regels",
    white-space: pre-line): a line break in the value becomes a space, as in the rest of the
    letter."""
    text = value if isinstance(value, str) else str(value)  # Markup stays Markup
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


env.filters["een_regel"] = een_regel

# kind → onderwerp (subject line). The template is templates/letters/<kind>.html.
LETTER_KINDS: dict[str, str] = {
    "v5a_ontvangstbevestiging": "Ontvangstbevestiging kennisgeving vrijstelling leerplicht",
    "v5a_niet_ontvankelijk": "Uw kennisgeving is nog niet compleet",
    "v5a_aanvulling_ontvangen": "Aanvulling op uw kennisgeving ontvangen",
    "v5a_in_behandeling_ouder": "Uw kennisgeving is in behandeling",
    "v5a_beoordelingsverzoek": "Verzoek om beoordeling vrijstelling leerplicht (artikel 5 onder a)",
    "v5a_adviesaanvraag": "Adviesaanvraag onderwijskundig perspectief",
    "v5a_adviesaanvraag_ouder": "Advies gevraagd aan het samenwerkingsverband",
    "v5a_advies_deskundige": "Advies onderwijskundig perspectief",
    "v5a_advies_ouder": "Advies van het samenwerkingsverband",
    "v5a_vrijstelling": "Bevestiging vrijstelling van de leerplicht",
    "v5a_geen_vrijstelling": "Geen vrijstelling van de leerplicht: de volgende stappen",
    "v5a_herbeoordeling": "Uitnodiging herbeoordeling vrijstelling van de leerplicht",
    "v5a_beeindiging": "Uw zaak over vrijstelling van de leerplicht is afgesloten",
    "v5a_intrekking": "Bevestiging intrekking kennisgeving vrijstelling leerplicht",
    "v5a_procedure_beeindigd": "De behandeling van uw kennisgeving is gestopt",
    "v5a_niet_aangevuld": "Uw kennisgeving is gesloten: niet aangevuld",
    "v5a_ander_swv_ouder": "Advies gevraagd aan een ander samenwerkingsverband",
    "v5a_afzien": "Bevestiging: u ziet af van de vrijstelling",
    "v5a_herinnering_verlenging": "De vrijstelling loopt af: verlengen?",
    "v5a_overgangsrecht": "Uw vrijstelling van de leerplicht is geregistreerd",
    # Verzuim (signaal zorgelijk verzuim and verzuimmelding, MAS routes).
    "vz_ontvangstbevestiging": "Ontvangstbevestiging signaal of verzuimmelding",
    "vz_uitnodiging": "Uitnodiging voor een gesprek over verzuim",
    "vz_ter_kennisgeving": "Signaal of verzuimmelding ter kennisgeving aangenomen",
    "vz_overdracht_school": "Zaak over verzuim overgedragen aan een andere gemeente",
    "vz_overdracht_gemeente": "Overdracht van een zaak over verzuim aan uw gemeente",
    "vz_intrekking": "Bevestiging intrekking signaal of verzuimmelding",
    "vz_omzetting": "Het signaal over verzuim is nu een verzuimmelding",
    "vz_omzetting_school": "Signaal zorgelijk verzuim omgezet in een verzuimmelding",
    "vz_route_vrijwillige_hulp": "Afspraken en hulp om het verzuim te stoppen",
    "vz_route_halt": "Aanmelding bij Halt voor schoolverzuim",
    "vz_route_verplicht_kader": "Verzoek om onderzoek aan de Raad voor de Kinderbescherming",
    "vz_route_proces_verbaal": "Proces-verbaal opgemaakt wegens schoolverzuim",
    "vz_monitoring": "Wij volgen de komende tijd het schoolbezoek",
    "vz_monitoring_school": "Verzoek om nieuw verzuim direct te melden",
    "vz_afsluiting": "De zaak over verzuim is afgesloten",
    "vz_afsluiting_school": "Zaak over verzuim afgesloten",
}

# Subject lines that depend on the context (when the caller gives no `onderwerp`).
_ONDERWERP_PER_SOORT: dict[str, dict[str, str]] = {
    "vz_ontvangstbevestiging": {
        "signaal": "Ontvangstbevestiging signaal zorgelijk verzuim",
        "melding": "Ontvangstbevestiging verzuimmelding",
    },
    "vz_ter_kennisgeving": {
        "signaal": "Uw signaal zorgelijk verzuim is ter kennisgeving aangenomen",
        "melding": "Uw verzuimmelding is ter kennisgeving aangenomen",
    },
    "vz_intrekking": {
        "signaal": "Bevestiging intrekking signaal zorgelijk verzuim",
        "melding": "Bevestiging intrekking verzuimmelding",
    },
}
_ONDERWERP_LEERLING: dict[str, str] = {
    "vz_uitnodiging": "We willen graag met je praten",
    "vz_route_vrijwillige_hulp": "Onze afspraken over school",
    "vz_route_halt": "Je bent aangemeld bij Halt",
    "vz_route_verplicht_kader": (
        "We hebben de Raad voor de Kinderbescherming gevraagd mee te kijken"
    ),
    "vz_route_proces_verbaal": "Er is een proces-verbaal gemaakt",
}

COMMON_KEYS: tuple[str, ...] = (
    "gemeente", "datum", "kenmerk", "ontvanger", "afzender", "kind", "schooljaar",
)
# A verzuim case has no schooljaar; every verzuim letter knows the kind of report and school.
VERZUIM_COMMON_KEYS: tuple[str, ...] = (
    "gemeente", "datum", "kenmerk", "ontvanger", "afzender", "kind",
    "soort", "school_naam", "aan_leerling",
)

# Kind-specific keys: all must be present (values may be None where the contract says so).
LETTER_FIELDS: dict[str, tuple[str, ...]] = {
    "v5a_ontvangstbevestiging": ("ontvangen_op", "te_laat"),
    "v5a_niet_ontvankelijk": ("reden", "aanvullen_voor"),
    "v5a_aanvulling_ontvangen": ("ontvangen_op",),
    "v5a_in_behandeling_ouder": ("deskundige_organisatie", "te_laat", "motivering_te_laat"),
    "v5a_beoordelingsverzoek": ("deskundige_naam", "beoordelen_voor"),
    "v5a_adviesaanvraag": ("swv_naam", "advies_voor", "toestemming", "samenvatting"),
    "v5a_adviesaanvraag_ouder": ("swv_naam", "toestemming", "toestemming_door"),
    "v5a_advies_deskundige": ("swv_naam", "soort", "advies", "mogelijkheden"),
    "v5a_advies_ouder": ("swv_naam", "soort", "advies", "mogelijkheden"),
    "v5a_vrijstelling": ("ingangsdatum", "einddatum", "herbeoordelingsdatum", "mogelijkheden"),
    "v5a_geen_vrijstelling": ("vrijstelling_tot", "inschrijven_voor"),
    "v5a_herbeoordeling": ("einddatum", "herbeoordelingsdatum"),
    "v5a_beeindiging": ("beeindigd_op", "reden", "toelichting"),
    "v5a_intrekking": ("ingetrokken_op",),
    "v5a_procedure_beeindigd": ("beeindigd_op", "reden", "toelichting"),
    "v5a_niet_aangevuld": ("aanvullen_voor", "beeindigd_op"),
    "v5a_ander_swv_ouder": ("swv_naam", "toestemming", "toestemming_door"),
    "v5a_afzien": ("beeindigd_op", "ingangsdatum"),
    "v5a_herinnering_verlenging": ("einddatum", "verlengen_voor", "schooljaar_verlenging"),
    "v5a_overgangsrecht": ("ingangsdatum", "einddatum", "herbeoordelingsdatum"),
    "vz_ontvangstbevestiging": (
        "verzuimsoort", "uren", "periode_start", "periode_eind", "ontvangen_op",
    ),
    "vz_uitnodiging": ("gesprek_gepland_op", "gesprek_tijd", "gesprek_plaats"),
    "vz_ter_kennisgeving": ("reden",),
    "vz_overdracht_school": ("nieuwe_gemeente",),
    "vz_overdracht_gemeente": (
        "nieuwe_gemeente", "verzuimsoort", "uren", "periode_start", "periode_eind",
        "omschrijving",
    ),
    "vz_intrekking": ("reden",),
    "vz_omzetting": ("verzuimsoort", "uren", "periode_start", "periode_eind"),
    "vz_omzetting_school": ("verzuimsoort", "uren", "periode_start", "periode_eind"),
    "vz_route_vrijwillige_hulp": ("afspraken", "verwezen"),
    "vz_route_halt": ("afspraken", "verwezen"),
    "vz_route_verplicht_kader": ("verwezen",),
    "vz_route_proces_verbaal": ("tegen", "verwezen"),
    "vz_monitoring": ("monitoren_tot",),
    "vz_monitoring_school": ("monitoren_tot",),
    "vz_afsluiting": ("resultaat", "toelichting"),
    "vz_afsluiting_school": (),
}

BEEINDIGING_REDENEN = (
    "verlopen", "ingeschreven_op_school", "verhuisd", "einde_leerplicht", "anders",
)

# Letters whose recipient may not learn who the child is (unless consent was given).
_ANONIEM_ZONDER_TOESTEMMING = {"v5a_adviesaanvraag"}

# --- verzuim ---------------------------------------------------------------------------

# Who reads each verzuim letter; "ouder" letters marked in _LEERLING_MOGELIJK can instead be
# addressed to the pupil (aan_leerling=True) and are then written for a child of 12-17.
VERZUIM_ONTVANGER: dict[str, str] = {
    "vz_ontvangstbevestiging": "school",
    "vz_uitnodiging": "ouder",
    "vz_ter_kennisgeving": "school",
    "vz_overdracht_school": "school",
    "vz_overdracht_gemeente": "gemeente",
    "vz_intrekking": "school",
    "vz_omzetting": "ouder",
    "vz_omzetting_school": "school",
    "vz_route_vrijwillige_hulp": "ouder",
    "vz_route_halt": "ouder",
    "vz_route_verplicht_kader": "ouder",
    "vz_route_proces_verbaal": "ouder",
    "vz_monitoring": "ouder",
    "vz_monitoring_school": "school",
    "vz_afsluiting": "ouder",
    "vz_afsluiting_school": "school",
}
VERZUIM_KINDS = frozenset(VERZUIM_ONTVANGER)
_SCHOOL_KINDS = frozenset(k for k, lezer in VERZUIM_ONTVANGER.items() if lezer == "school")
_LEERLING_MOGELIJK = frozenset({
    "vz_uitnodiging", "vz_route_vrijwillige_hulp", "vz_route_halt", "vz_route_verplicht_kader",
    "vz_route_proces_verbaal",
})
# A signaal is for early help only: never Halt, the Raad or a proces-verbaal (mas.md rule 1).
_ALLEEN_MELDING = frozenset({
    "vz_route_halt", "vz_route_verplicht_kader", "vz_route_proces_verbaal",
})
# Letters about a melding (or a signaal that became one) name the kind of absence.
_VERZUIMSOORT_BIJ_MELDING = frozenset({
    "vz_ontvangstbevestiging", "vz_overdracht_gemeente", "vz_omzetting", "vz_omzetting_school",
})

VERZUIM_SOORTEN = ("signaal", "melding")
VERZUIMSOORTEN = ("16_uur_4_weken", "langdurig_relatief", "luxe", "overig")
AFSLUITING_RESULTATEN = (
    "verzuim_gestopt", "doorverwezen", "schoolwissel", "vrijstelling", "verhuisd", "rmc", "anders",
)
PV_TEGEN = ("ouders", "jongere")

# A school never learns the route, the cause or the help (domain.md, workflow 2). These keys
# carry exactly that, so a school letter whose context holds one is a leak in the making.
SCHOOL_VERBODEN_SLEUTELS = frozenset({
    "route", "oorzaak", "oorzaak_categorie", "resultaat", "uitkomst", "afspraken", "tegen",
    "verwezen", "toelichting", "motivering", "motivering_afwijking",
})
# Words that name a route or the help; free text to a school (a `reden`) may not hold them.
_SCHOOL_VERBODEN_WOORDEN = re.compile(
    r"\bhalt\b|kinderbescherming|proces[- ]?verbaal|officier van justitie|strafrecht"
    r"|jeugdhulp|wijkteam|hulpverlen|jeugdbescherm",
    re.IGNORECASE,
)


def school_tekst_problemen(tekst: str | None) -> list[str]:
    """The words in ``tekst`` that a school may not read (a route or the help); [] when none.

    Use it to validate free text (e.g. the `reden` of neem_ter_kennisgeving_aan) when it is
    entered: render_letter refuses a school letter that holds such a word.
    """
    return [m.group(0) for m in _SCHOOL_VERBODEN_WOORDEN.finditer(tekst or "")]


def _leeftijd(geboortedatum: date, op: date) -> int:
    verjaard = (op.month, op.day) >= (geboortedatum.month, geboortedatum.day)
    return op.year - geboortedatum.year - (0 if verjaard else 1)


class LetterRenderError(RuntimeError):
    """A letter could not be rendered (the caller marks it failed and retries)."""


class LetterContextError(LetterRenderError, ValueError):
    """The context does not meet the contract of the letter kind."""


class ExternalResourceError(LetterRenderError):
    """The HTML referenced a resource other than a ``data:`` URL."""


class DataOnlyURLFetcher(URLFetcher):
    """Fetches ``data:`` URLs only; anything else (file:, http:, …) is refused.

    Letters carry all their CSS inline, so any other URL is a template defect or an
    injection attempt; with ``fail_on_errors`` WeasyPrint stops instead of skipping it.
    """

    def __init__(self, resources: Mapping[str, tuple[bytes, str]] | None = None) -> None:
        super().__init__(allowed_protocols=("data",), fail_on_errors=True)
        # In-memory files under a fixed URL (the letterhead logo): no encoding into the HTML.
        self.resources = dict(resources or {})

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url in self.resources:
            body, mime = self.resources[url]
            return URLFetcherResponse(url, body, {"Content-Type": mime})
        if not url.lower().startswith("data:"):
            raise ExternalResourceError(f"externe bron geweigerd: {url}")
        return super().fetch(url, headers)


def _check_context(kind: str, context: Mapping[str, Any]) -> None:
    common = VERZUIM_COMMON_KEYS if kind in VERZUIM_KINDS else COMMON_KEYS
    if kind in _SCHOOL_KINDS:
        # Before anything else: the refusal must not depend on the context being complete.
        verboden = sorted(SCHOOL_VERBODEN_SLEUTELS & set(context))
        if verboden:
            raise LetterContextError(
                f"{kind}: een school mag route, oorzaak of hulp niet lezen; "
                f"verboden sleutels: {', '.join(verboden)}"
            )
    missing = [k for k in (*common, *LETTER_FIELDS[kind]) if k not in context]
    if missing:
        raise LetterContextError(f"{kind}: ontbrekende sleutels: {', '.join(missing)}")
    if kind in _ANONIEM_ZONDER_TOESTEMMING:
        if not context["toestemming"] and context["kind"] is not None:
            raise LetterContextError(
                f"{kind}: zonder toestemming mag de brief geen gegevens van het kind bevatten"
            )
        if context["toestemming"] and context["kind"] is None:
            raise LetterContextError(f"{kind}: met toestemming hoort 'kind' erbij")
    elif context["kind"] is None:
        raise LetterContextError(f"{kind}: deze ontvanger kent het kind; 'kind' ontbreekt")
    if kind == "v5a_beeindiging" and context["reden"] not in BEEINDIGING_REDENEN:
        raise LetterContextError(f"{kind}: onbekende reden {context['reden']!r}")
    if kind in VERZUIM_KINDS:
        _check_verzuim(kind, context)


def _check_verzuim(kind: str, context: Mapping[str, Any]) -> None:
    def fout(reden: str) -> LetterContextError:
        return LetterContextError(f"{kind}: {reden}")

    if context["soort"] not in VERZUIM_SOORTEN:
        raise fout(f"onbekende soort {context['soort']!r}")
    if not isinstance(context["aan_leerling"], bool):
        raise fout("aan_leerling moet True of False zijn")
    if context["aan_leerling"]:
        if kind not in _LEERLING_MOGELIJK:
            raise fout("deze brief gaat nooit naar de leerling zelf")
        geboren, op = context["kind"].get("geboortedatum"), context["datum"]
        bekend = isinstance(geboren, date) and isinstance(op, date)
        if bekend and not 12 <= _leeftijd(geboren, op) <= 17:
            raise fout("een eigen brief aan de leerling alleen van 12 tot en met 17 jaar")
    if kind in _ALLEEN_MELDING and context["soort"] != "melding":
        raise fout("een signaal leidt nooit tot Halt, de Raad of een proces-verbaal")
    if "verzuimsoort" in context and context["verzuimsoort"] is not None:
        if context["verzuimsoort"] not in VERZUIMSOORTEN:
            raise fout(f"onbekende verzuimsoort {context['verzuimsoort']!r}")
    if kind in _VERZUIMSOORT_BIJ_MELDING and context["verzuimsoort"] is None and (
        context["soort"] == "melding" or kind in ("vz_omzetting", "vz_omzetting_school")
    ):
        raise fout("bij een verzuimmelding hoort een verzuimsoort")
    uren = context.get("uren")
    if uren is not None and (isinstance(uren, bool) or not isinstance(uren, int) or uren < 0):
        raise fout(f"uren moet een heel getal of None zijn, niet {uren!r}")
    if "verwezen" in context and not isinstance(context["verwezen"], bool):
        raise fout("verwezen moet True of False zijn")
    if kind == "vz_route_proces_verbaal" and context["tegen"] not in PV_TEGEN:
        raise fout(f"onbekende waarde voor tegen: {context['tegen']!r}")
    if kind == "vz_afsluiting" and context["resultaat"] not in AFSLUITING_RESULTATEN:
        raise fout(f"onbekend resultaat {context['resultaat']!r}")
    if kind in _SCHOOL_KINDS:
        for key in LETTER_FIELDS[kind]:
            woorden = school_tekst_problemen(context[key]) if isinstance(context[key], str) else []
            if woorden:
                raise fout(
                    f"'{key}' noemt iets wat een school niet mag lezen: {', '.join(woorden)}"
                )


def standaard_onderwerp(kind: str, context: Mapping[str, Any]) -> str:
    """The subject line when the context gives none: per soort, or for a pupil."""
    if context.get("aan_leerling") and kind in _ONDERWERP_LEERLING:
        return _ONDERWERP_LEERLING[kind]
    per_soort = _ONDERWERP_PER_SOORT.get(kind, {})
    return per_soort.get(context.get("soort"), LETTER_KINDS[kind])


#: where a letter's HTML finds the gemeente's letterhead logo (served by DataOnlyURLFetcher)
LOGO_URL = "casework-logo:briefhoofd"


def render_letter_html(kind: str, context: dict, *, with_logo: bool = False) -> str:
    """Render the letter of ``kind`` to HTML; ``onderwerp`` defaults to standaard_onderwerp()."""
    if kind not in LETTER_KINDS:
        raise LetterContextError(f"onbekende brief: {kind!r}")
    _check_context(kind, context)
    values = {"onderwerp": standaard_onderwerp(kind, context), "ondertekening": None, **context,
              "logo": LOGO_URL if with_logo else None}
    if kind in VERZUIM_KINDS:
        # Who reads it decides tone, greeting and footer (_vz_base.html).
        values["lezer"] = "leerling" if context["aan_leerling"] else VERZUIM_ONTVANGER[kind]
    return env.get_template(f"{kind}.html").render(values)


#: the letters' stylesheet; render_pdf adds it to every document (_base.html carries no CSS)
STYLESHEET_PATH = TEMPLATE_DIR / "brief.css"
#: how many different logos (image caches) one thread keeps decoded
IMAGE_CACHES_MAX = 32
#: the largest logo in pixels that a letter embeds: brief.css shows it in at most 60 × 18 mm,
#: and 300 dpi of that is plenty for print; a larger upload (up to 4000 pixels a side) is scaled
#: down once per logo instead of being decoded and re-encoded at full size in every letter
LOGO_BOX_PIXELS = (709, 213)


class _Renderer(threading.local):
    """What WeasyPrint can reuse from one letter to the next, per thread (Pango's font map is not
    shared between threads): the font configuration (fontconfig and Pango set-up, ~15 ms a
    letter when made anew) with the letter fonts (letters/fonts.py), the parsed stylesheet, the
    URL fetcher, and the decoded images.

    Images are cached per set of in-memory resources, keyed by their SHA-256: WeasyPrint keys
    its image cache by URL, and every logo has the same URL (LOGO_URL), so one cache for all
    would put one gemeente's logo in another's letter."""

    def __init__(self) -> None:
        self.font_config = FontConfiguration()
        # One fetcher per thread, given each letter's resources: making one builds urllib's
        # handlers (proxies from the environment, HTTPS, …) that it never uses.
        self.fetcher = DataOnlyURLFetcher()
        # The letter fonts' @font-face rules go with brief.css; WeasyPrint reads the fonts (from
        # memory) into this thread's font configuration once, while parsing.
        faces = letter_fonts()
        self.fetcher.resources = {face.url: (data, "font/ttf") for face, data in faces.items()}
        self.stylesheet = CSS(
            string=font_face_css(faces) + "\n" + STYLESHEET_PATH.read_text(encoding="utf-8"),
            font_config=self.font_config, url_fetcher=self.fetcher)
        self.fetcher.resources = {}
        self.image_caches: OrderedDict[tuple, dict] = OrderedDict()
        self.logos: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()

    def url_fetcher(
        self, resources: Mapping[str, tuple[bytes, str]] | None
    ) -> DataOnlyURLFetcher:
        """This thread's fetcher, serving only ``resources`` (and data: URLs)."""
        self.fetcher.resources = dict(resources or {})
        return self.fetcher

    def logo(self, logo: tuple[bytes, str]) -> tuple[bytes, str]:
        """The logo as letters embed it: at most LOGO_BOX_PIXELS, turned upright (EXIF); made
        once per logo (keyed by its SHA-256) and thread."""
        body, mime = logo
        key = (hashlib.sha256(body).hexdigest(), mime)
        if key not in self.logos:
            self.logos[key] = _fit_logo(body, mime)
            while len(self.logos) > IMAGE_CACHES_MAX:
                self.logos.popitem(last=False)
        self.logos.move_to_end(key)
        return self.logos[key]

    def image_cache(self, resources: Mapping[str, tuple[bytes, str]] | None) -> dict:
        key = tuple(sorted((url, hashlib.sha256(body).hexdigest(), mime)
                           for url, (body, mime) in (resources or {}).items()))
        cache = self.image_caches.get(key)
        if cache is None:
            cache = self.image_caches[key] = {}
            while len(self.image_caches) > IMAGE_CACHES_MAX:
                self.image_caches.popitem(last=False)
        else:
            self.image_caches.move_to_end(key)
        return cache


def _fit_logo(body: bytes, mime: str) -> tuple[bytes, str]:
    import io

    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(body)) as image:
            turned = image.getexif().get(0x0112, 1) not in (0, 1)  # EXIF Orientation
            if not turned and max(image.width / LOGO_BOX_PIXELS[0],
                                  image.height / LOGO_BOX_PIXELS[1]) <= 1:
                return body, mime  # small enough and upright: as uploaded
            upright = ImageOps.exif_transpose(image)
            fmt = image.format if image.format in ("PNG", "JPEG") else "PNG"
            upright.thumbnail(LOGO_BOX_PIXELS, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            if fmt == "JPEG":
                upright.convert("RGB").save(out, "JPEG", quality=90)
            else:
                upright.save(out, "PNG")
            return out.getvalue(), "image/jpeg" if fmt == "JPEG" else "image/png"
    except (OSError, ValueError, SyntaxError):
        return body, mime  # not an image Pillow reads: WeasyPrint reports it as before


_renderer = _Renderer()


class _Collector:
    """Python's cyclic garbage collector, paused while WeasyPrint makes a letter.

    A letter leaves about 4,000 objects in reference cycles (parsed elements, styles, boxes),
    which only the collector frees. Running, it collected about six times during every letter,
    and what was still in use then went to the older generations, so that about every twentieth
    letter set off a collection of the whole process (some 55 ms): some 5 ms a letter on average
    (v5a_ontvangstbevestiging). Paused, the letter's cycles are collected once, just after the
    letter (the youngest generation, under 2 ms).

    The collector is one per process: it stays paused while any thread makes a letter, each
    letter collects its own cycles when done, and it runs as before once no letter is being
    made (if it ran before the first one began)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.letters = 0  # letters being made now, in all threads
        self.was_enabled = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self.lock:
            if self.letters == 0:
                self.was_enabled = gc.isenabled()
                gc.disable()
            self.letters += 1
        try:
            yield
        finally:
            with self.lock:
                self.letters -= 1
                if self.letters == 0 and self.was_enabled:
                    gc.enable()
            gc.collect(0)


_collector = _Collector()


#: the block-level tags of the letter templates: white space between one of them and another tag
#: is no text
_BLOCK_TAGS = ("html|head|meta|title|body|header|main|section|footer|address|div|p|h1|h2|h3|"
               "ol|ul|li|table|thead|tbody|tr|th|td")
_SPACE_AFTER_BLOCK_TAG = re.compile(rf"(<(?:{_BLOCK_TAGS})\b[^>]*>|</(?:{_BLOCK_TAGS})>)\s+(?=<)")
_SPACE_BEFORE_BLOCK_TAG = re.compile(rf"(?<=>)\s+(</?(?:{_BLOCK_TAGS})\b)")


def compact_html(html: str) -> str:
    """The letter without the white space between its tags where one of them is a block-level
    tag (the templates' line breaks and indentation). It shows nowhere: between blocks there is
    no line, and a line's leading and trailing spaces go. WeasyPrint makes a box for every run
    of it, though: about 0.8 ms of a one-page letter. Text is never touched (the context's
    values are escaped, so a ``<`` or ``>`` in them is no tag), nor the space between inline
    tags."""
    return _SPACE_BEFORE_BLOCK_TAG.sub(r"\1", _SPACE_AFTER_BLOCK_TAG.sub(r"\1", html))


def render_pdf(html: str, resources: Mapping[str, tuple[bytes, str]] | None = None) -> bytes:
    """HTML → PDF bytes, with the letters' stylesheet (brief.css). Only ``data:`` URLs and the
    given in-memory `resources` are fetched; any other URL raises."""
    html = compact_html(html)
    if resources and LOGO_URL in resources:
        resources = {**resources, LOGO_URL: _renderer.logo(resources[LOGO_URL])}
    try:
        with _collector.paused():
            return HTML(string=html, url_fetcher=_renderer.url_fetcher(resources)).write_pdf(
                stylesheets=[_renderer.stylesheet], font_config=_renderer.font_config,
                # Only the in-memory resources (the logo) are worth keeping; a data: URL is not
                # in any letter, so a letter without resources gets a fresh cache.
                cache=_renderer.image_cache(resources) if resources else None)
    except FatalURLFetchingError as exc:
        # WeasyPrint's fatal error is a BaseException; turn it into one callers can catch.
        raise ExternalResourceError(str(exc.__cause__ or exc)) from exc


#: the largest letter HTML the worker hands to WeasyPrint (setting LETTER_MAX_HTML_CHARS)
LETTER_MAX_HTML_CHARS = 300_000


class LetterTooLargeError(LetterRenderError):
    """The HTML of a letter is larger than any letter built from bounded texts can be."""


def check_letter_size(html: str) -> None:
    from flask import current_app, has_app_context

    limit = (current_app.config.get("LETTER_MAX_HTML_CHARS", LETTER_MAX_HTML_CHARS)
             if has_app_context() else LETTER_MAX_HTML_CHARS)
    if len(html) > limit:
        raise LetterTooLargeError(
            f"De brief is te groot om te maken ({len(html)} tekens HTML, maximaal {limit}).")


def render_letter(kind: str, context: dict, logo: tuple[bytes, str] | None = None) -> tuple[bytes, str]:
    """Render a letter to PDF; returns (pdf bytes, sha256 hex of those bytes). A letter whose
    HTML is larger than LETTER_MAX_HTML_CHARS is refused before WeasyPrint sees it. `logo`:
    (bytes, MIME type) of the gemeente's letterhead logo."""
    html = render_letter_html(kind, context, with_logo=logo is not None)
    check_letter_size(html)
    pdf = render_pdf(html, {LOGO_URL: logo} if logo else None)
    return pdf, hashlib.sha256(pdf).hexdigest()
