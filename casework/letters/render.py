"""Letters: Jinja templates (templates/letters/<kind>.html) → HTML → PDF with WeasyPrint.

Templates get plain values (dicts, strings, dates), never ORM objects. The caller builds the
context so that it holds nothing the recipient may not see; this module only checks the
contract (all keys present, no child identity in an SWV letter without consent).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from casework.formatting import format_datum, format_datum_tijd

__all__ = [
    "COMMON_KEYS",
    "LETTER_FIELDS",
    "LETTER_KINDS",
    "DataOnlyURLFetcher",
    "ExternalResourceError",
    "LetterContextError",
    "LetterRenderError",
    "env",
    "render_letter",
    "render_letter_html",
    "render_pdf",
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
}

COMMON_KEYS: tuple[str, ...] = (
    "gemeente", "datum", "kenmerk", "ontvanger", "afzender", "kind", "schooljaar",
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
    "v5a_geen_vrijstelling": (),
    "v5a_herbeoordeling": ("einddatum", "herbeoordelingsdatum"),
    "v5a_beeindiging": ("beeindigd_op", "reden", "toelichting"),
    "v5a_intrekking": ("ingetrokken_op",),
}

BEEINDIGING_REDENEN = (
    "verlopen", "ingeschreven_op_school", "verhuisd", "einde_leerplicht", "anders",
)

# Letters whose recipient may not learn who the child is (unless consent was given).
_ANONIEM_ZONDER_TOESTEMMING = {"v5a_adviesaanvraag"}


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

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data",), fail_on_errors=True)

    def fetch(self, url: str, headers: Any = None) -> Any:
        if not url.lower().startswith("data:"):
            raise ExternalResourceError(f"externe bron geweigerd: {url}")
        return super().fetch(url, headers)


def _check_context(kind: str, context: Mapping[str, Any]) -> None:
    missing = [k for k in (*COMMON_KEYS, *LETTER_FIELDS[kind]) if k not in context]
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


def render_letter_html(kind: str, context: dict) -> str:
    """Render the letter of ``kind`` to HTML; ``onderwerp`` defaults to LETTER_KINDS[kind]."""
    if kind not in LETTER_KINDS:
        raise LetterContextError(f"onbekende brief: {kind!r}")
    _check_context(kind, context)
    values = {"onderwerp": LETTER_KINDS[kind], **context}
    return env.get_template(f"{kind}.html").render(values)


def render_pdf(html: str) -> bytes:
    """HTML → PDF bytes. Only ``data:`` URLs are fetched; any other URL raises."""
    try:
        return HTML(string=html, url_fetcher=DataOnlyURLFetcher()).write_pdf()
    except FatalURLFetchingError as exc:
        # WeasyPrint's fatal error is a BaseException; turn it into one callers can catch.
        raise ExternalResourceError(str(exc.__cause__ or exc)) from exc


def render_letter(kind: str, context: dict) -> tuple[bytes, str]:
    """Render a letter to PDF; returns (pdf bytes, sha256 hex of those bytes)."""
    pdf = render_pdf(render_letter_html(kind, context))
    return pdf, hashlib.sha256(pdf).hexdigest()
