"""The letters' fonts: the Latin part of the system's DejaVu fonts, made once per process.

A letter is set in DejaVu Sans and DejaVu Serif (brief.css). The full fonts hold some 6,000
glyphs each (Greek, Cyrillic, Arabic, symbols, ...) where a Dutch letter uses about a hundred.
WeasyPrint copies each font it uses into Python (about 700 KB) and subsets it, twice, for every
letter; with a font of the Latin scripts alone that costs about 2.5 ms less a letter.

So the renderer declares "Brief Sans" and "Brief Serif" with ``@font-face``: the same glyphs,
widths and kerning as the installed DejaVu faces, limited to the characters of LETTER_RANGES.
brief.css names "DejaVu Sans" (and "DejaVu Serif") after them: a character outside those ranges,
in a name for instance, comes from the full font, as before. A face that is not installed gets no
``@font-face``, and its text is set in the full font, as before.

The fonts are made from the installed files, not shipped: a letter looks the same as with the
DejaVu version the machine has, and no modified font leaves the machine except as the subset
that every PDF embeds.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: where the system keeps its fonts (Debian: fonts-dejavu-core, fonts-dejavu-extra)
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))

#: the characters the letter fonts hold (inclusive code point ranges): Latin with every accent
#: (Latin-1, Extended A and B, IPA and modifier letters, combining marks, Extended Additional),
#: punctuation, currency, letter-like symbols, arrows, mathematical operators, geometric shapes
#: and the Latin ligatures
LETTER_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E), (0x00A0, 0x02FF), (0x0300, 0x036F), (0x1E00, 0x1EFF),
    (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F), (0x2190, 0x21FF),
    (0x2200, 0x22FF), (0x25A0, 0x25FF), (0xFB00, 0xFB06),
)


@dataclass(frozen=True)
class Face:
    family: str  # the name brief.css uses
    weight: str  # CSS font-weight
    style: str  # CSS font-style
    file_name: str  # the installed DejaVu file it is made from

    @property
    def url(self) -> str:
        """Where the letter's stylesheet finds the font (served from memory by the renderer)."""
        return f"casework-font:{self.file_name}"


FACES: tuple[Face, ...] = (
    Face("Brief Sans", "normal", "normal", "DejaVuSans.ttf"),
    Face("Brief Sans", "bold", "normal", "DejaVuSans-Bold.ttf"),
    Face("Brief Sans", "normal", "italic", "DejaVuSans-Oblique.ttf"),
    Face("Brief Sans", "bold", "italic", "DejaVuSans-BoldOblique.ttf"),
    Face("Brief Serif", "normal", "normal", "DejaVuSerif.ttf"),
    Face("Brief Serif", "bold", "normal", "DejaVuSerif-Bold.ttf"),
    Face("Brief Serif", "normal", "italic", "DejaVuSerif-Italic.ttf"),
    Face("Brief Serif", "bold", "italic", "DejaVuSerif-BoldItalic.ttf"),
)


def find_font_file(file_name: str, dirs: Iterable[Path] = FONT_DIRS) -> Path | None:
    """The installed font file of that name, or None."""
    for folder in dirs:
        if (folder / "truetype" / "dejavu" / file_name).is_file():  # Debian's place
            return folder / "truetype" / "dejavu" / file_name
        if folder.is_dir():
            found = next(iter(sorted(folder.rglob(file_name))), None)
            if found is not None and found.is_file():
                return found
    return None


def latin_subset(path: Path, family: str) -> bytes:
    """The font at `path` with only the glyphs of LETTER_RANGES (and what its ligatures and
    accents need), its kerning and other layout features kept, named `family`."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]  # every feature Pango may apply, kerning first
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # WeasyPrint drops hinting from a PDF's fonts as well
    options.drop_tables += ["MATH", "FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for start, end in LETTER_RANGES for c in range(start, end + 1)])
    with TTFont(path, lazy=False) as font:
        subsetter.subset(font)
        _rename(font, family)
        out = io.BytesIO()
        font.save(out)
    return out.getvalue()


def _rename(font, family: str) -> None:
    """Give the font its own family name: fontconfig would otherwise also know the subset by the
    DejaVu name, and might pick it for a character it lacks instead of the full font."""
    name = font["name"]
    subfamily = (name.getDebugName(2) or "Book").strip()
    full = family if subfamily in ("Book", "Regular") else f"{family} {subfamily}"
    for record in list(name.names):
        if record.nameID in (1, 16):
            name.setName(family, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID in (3, 4):
            name.setName(full, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            name.setName(full.replace(" ", "-"), 6, record.platformID, record.platEncID,
                         record.langID)
        elif record.nameID == 17:
            name.setName(subfamily, 17, record.platformID, record.platEncID, record.langID)


def make_letter_fonts(faces: Iterable[Face] = FACES,
                      dirs: Iterable[Path] = FONT_DIRS) -> dict[Face, bytes]:
    """Every face of `faces` installed under `dirs`, as its Latin subset (about 0.2 s a face).
    A family with a face that cannot be made is left out (logged): its text is set in the
    installed fonts, all faces alike, so that italic text never becomes a slanted upright face
    of the subset while the installed family has a real italic."""
    made: dict[Face, bytes] = {}
    failed: set[str] = set()
    for face in faces:
        path = find_font_file(face.file_name, dirs)
        if path is None:
            continue
        try:
            made[face] = latin_subset(path, face.family)
        except Exception:  # a damaged or unexpected font file: use the installed ones
            log.warning("Lettertype %s niet te verkleinen; de brieven gebruiken de hele "
                        "lettertypen van %s", path, face.family, exc_info=True)
            failed.add(face.family)
    return {face: data for face, data in made.items() if face.family not in failed}


_lock = threading.Lock()
_made: dict[Face, bytes] | None = None


def letter_fonts() -> dict[Face, bytes]:
    """make_letter_fonts(), made on the first call in the process and kept."""
    global _made
    with _lock:
        if _made is None:
            _made = make_letter_fonts()
        return _made


def font_face_css(faces: Iterable[Face]) -> str:
    """The ``@font-face`` rules for `faces`."""
    return "\n".join(
        f'@font-face {{ font-family: "{face.family}"; src: url("{face.url}"); '
        f"font-weight: {face.weight}; font-style: {face.style}; }}"
        for face in faces)
