"""A gemeente's own settings (GemeenteInstellingen, models/beheer.py) on top of the product's.

The beheerder sets them on /beheer/instellingen. A setting left empty follows the product's
setting (config/__init__.py), so a gemeente that never opens the page works as before:
- `for_gemeente(id)` gives the settings a workflow guard, a due date or the tick reads;
- `ondertekening(id)` the signatory under the gemeente's letters;
- `logo(id)` the letterhead logo the letter worker hands to WeasyPrint;
- `logo_problem(data)` says in Dutch why an uploaded file cannot be the logo."""
from __future__ import annotations

import hashlib
import io
from collections import ChainMap
from collections.abc import Mapping

from flask import current_app
from sqlalchemy import inspect, select

from casework.extensions import db, transaction_cache
from casework.models import GemeenteInstellingen

# Column of GemeenteInstellingen -> the product setting it overrides for that gemeente.
OVERRIDES = {
    "advies_termijn_dagen": "ADVIES_TERMIJN_DAGEN",
    "herbeoordeling_lead_dagen": "HERBEOORDELING_LEAD_DAYS",
    "verlenging_herinnering_dagen": "VERLENGING_HERINNERING_DAGEN",
}
LOGO_MAX_BYTES = 200 * 1024
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
LOGO_MAX_PIXELS = 4000  # per side: a letterhead needs far less


def row(gemeente_id: int | None) -> GemeenteInstellingen | None:
    """The gemeente's row, read once per transaction (a fire asks for it from its guards, due
    dates and letters; a missing row is remembered too). Read without flushing: a transition asks
    in the middle of its changes (one flush, one version step, at its end)."""
    if not gemeente_id:
        return None
    cache = transaction_cache("gemeente_instellingen")
    if gemeente_id not in cache:
        with db.session.no_autoflush:
            cache[gemeente_id] = db.session.get(GemeenteInstellingen, gemeente_id)
    return cache[gemeente_id]


def remember_loaded(gemeente) -> None:
    """The settings a case read brought along with its gemeente (policy.get_case_for), so that
    row() needs no statement of its own in this transaction."""
    loaded = inspect(gemeente).dict if gemeente is not None else {}
    if "instellingen" in loaded:
        transaction_cache("gemeente_instellingen").setdefault(gemeente.id, loaded["instellingen"])


def for_gemeente(gemeente_id: int | None) -> Mapping:
    """The product settings with this gemeente's own values laid over them."""
    found = row(gemeente_id)
    if found is None:
        return current_app.config
    own = {key: getattr(found, column) for column, key in OVERRIDES.items()
           if getattr(found, column) is not None}
    return ChainMap(own, current_app.config) if own else current_app.config


def per_gemeente(column: str) -> dict[int, int]:
    """{gemeente_id: value} of every gemeente that set `column` (for the tick: one query)."""
    attr = getattr(GemeenteInstellingen, column)
    with db.session.no_autoflush:
        return dict(db.session.execute(
            select(GemeenteInstellingen.gemeente_id, attr).where(attr.is_not(None))).all())


def ondertekening(gemeente_id: int | None) -> dict | None:
    """{"naam", "functie"} of who signs on behalf of the college, or None (not set)."""
    found = row(gemeente_id)
    if found is None or not found.ondertekenaar_naam:
        return None
    return {"naam": found.ondertekenaar_naam, "functie": found.ondertekenaar_functie or ""}


def logo(gemeente_id: int | None) -> tuple[bytes, str] | None:
    """(bytes, MIME type) of the gemeente's letterhead logo, or None."""
    if not gemeente_id:
        return None
    found = db.session.execute(
        select(GemeenteInstellingen.logo, GemeenteInstellingen.logo_type)
        .where(GemeenteInstellingen.gemeente_id == gemeente_id)).first()
    if found is None or not found.logo:
        return None
    return bytes(found.logo), found.logo_type


def logo_summary(data: bytes | None, mime: str | None) -> str | None:
    """How the record of changes names a logo: its type, size and the start of its SHA-256."""
    if not data:
        return None
    kind = {v: k for k, v in LOGO_TYPES.items()}.get(mime or "", mime or "")
    return f"{kind}, {round(len(data) / 1024, 1)} KB, sha256 {hashlib.sha256(data).hexdigest()[:12]}"


def logo_problem(data: bytes) -> tuple[str | None, str | None]:
    """(MIME type, None) for a usable logo; (None, Dutch reason) otherwise."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        return None, "Kies een bestand met het logo."
    if len(data) > LOGO_MAX_BYTES:
        return None, (f"Het logo is te groot: {round(len(data) / 1024)} KB. "
                      f"Het mag maximaal {LOGO_MAX_BYTES // 1024} KB zijn.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format, image.size
            image.verify()  # a broken or truncated file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None, "Dit bestand is geen afbeelding die wij kunnen lezen. Kies een PNG- of JPEG-bestand."
    if fmt not in LOGO_TYPES:
        return None, f"Het logo moet een PNG- of JPEG-bestand zijn, dit is {fmt}."
    if max(width, height) > LOGO_MAX_PIXELS:
        return None, (f"Het logo is {width} bij {height} pixels. Maximaal {LOGO_MAX_PIXELS} pixels per kant.")
    return LOGO_TYPES[fmt], None
