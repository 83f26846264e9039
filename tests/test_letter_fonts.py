"""The letter fonts (letters/fonts.py): a letter set in the Latin part of DejaVu looks exactly as
one set in the full installed DejaVu fonts (every line at the same place, the same glyphs per
line, the same kerning), a name in another script still prints, and a machine without (some of)
the fonts gets its letters in the installed ones.

Self-contained: no Flask app, no database."""
from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.generic import ContentStream
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from casework.letters import fonts, render
from test_letter_templates import KIND, make_context, pdf_text


def _with_installed_fonts(html: str) -> bytes:
    """The letter as WeasyPrint makes it with brief.css and the installed fonts only: no
    @font-face, so "Brief Sans" is unknown and DejaVu Sans sets the text."""
    font_config = FontConfiguration()
    stylesheet = CSS(string=render.STYLESHEET_PATH.read_text(encoding="utf-8"),
                     font_config=font_config)
    return HTML(string=html, url_fetcher=render.DataOnlyURLFetcher()).write_pdf(
        stylesheets=[stylesheet], font_config=font_config)


def _layout(pdf: bytes) -> list[tuple]:
    """Every page's text operations without the font's name and glyph ids: where each line
    starts (Tm), the font size (Tf), and per shown run the number of glyphs and the kerning
    between them (TJ)."""
    reader = PdfReader(io.BytesIO(pdf))
    layout = []
    for page in reader.pages:
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"Tm":
                layout.append(("Tm", *(round(float(x), 3) for x in operands)))
            elif op == b"Tf":
                layout.append(("Tf", round(float(operands[1]), 3)))
            elif op == b"TJ":
                layout.append(("TJ", *(len(x) if isinstance(x, (str, bytes)) else round(float(x), 3)
                                       for x in operands[0])))
    return layout


def _font_names(pdf: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return {str(font["/BaseFont"]).split("+", 1)[1]
            for page in reader.pages for font in page["/Resources"]["/Font"].values()}


def test_a_letter_in_the_letter_fonts_looks_as_in_the_installed_fonts():
    for kind in ("v5a_ontvangstbevestiging", "vz_uitnodiging", "v5a_vrijstelling"):
        html = render.render_letter_html(kind, make_context(kind) if kind.startswith("v5a")
                                         else _verzuim_context(kind))
        pdf, full = render.render_pdf(html), _with_installed_fonts(html)
        assert {"Brief-Sans", "Brief-Serif-Bold"} <= _font_names(pdf), kind
        assert not any("DejaVu" in name for name in _font_names(pdf)), kind
        assert _layout(pdf) == _layout(full), kind
        assert pdf_text(pdf) == pdf_text(full), kind
        assert len(pdf) < len(full), kind  # smaller font subsets besides


def test_a_name_beyond_latin_prints_from_the_installed_font():
    kind = dict(KIND, voornaam="Олександр", achternaam="Łukaszewicz-Nguyễn Ωμέγα")
    html = render.render_letter_html("v5a_ontvangstbevestiging",
                                     make_context("v5a_ontvangstbevestiging", kind=kind))
    pdf, full = render.render_pdf(html), _with_installed_fonts(html)
    assert "Олександр Łukaszewicz-Nguyễn Ωμέγα" in pdf_text(pdf)
    assert "DejaVu-Sans" in _font_names(pdf)  # the Cyrillic and Greek letters
    # The line with the name is shown in two fonts' runs now, but every line stands where it
    # stood, from the same place.
    assert _line_starts(pdf) == _line_starts(full)


def _line_starts(pdf: bytes) -> list[tuple[float, float]]:
    """Per line (y), where its first run starts (x)."""
    starts: dict[float, float] = {}
    for op in _layout(pdf):
        if op[0] == "Tm":
            starts[op[6]] = min(op[5], starts.get(op[6], op[5]))
    return sorted(starts.items())


def test_the_letter_fonts_hold_latin_and_keep_the_installed_names_out():
    from fontTools.ttLib import TTFont

    made = fonts.letter_fonts()
    regular = next(face for face in made if (face.family, face.weight, face.style)
                   == ("Brief Sans", "normal", "normal"))
    font = TTFont(io.BytesIO(made[regular]))
    cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in "AZaz09 éëïçñøłŁőűșțẞ€–—‘’“”•…")
    assert ord("Ж") not in cmap and ord("Ω") not in cmap
    assert {font["name"].getDebugName(i) for i in (1, 4)} == {"Brief Sans"}
    assert "kern" in {r.FeatureTag for r in font["GPOS"].table.FeatureList.FeatureRecord}


def test_without_the_fonts_no_font_face_and_letters_in_the_installed_fonts(tmp_path):
    assert fonts.make_letter_fonts(dirs=[tmp_path]) == {}
    assert fonts.font_face_css([]) == ""


def test_a_family_with_a_face_that_cannot_be_made_is_left_out(tmp_path, monkeypatch, caplog):
    source = fonts.find_font_file("DejaVuSans.ttf")
    for face in fonts.FACES[:2]:
        (tmp_path / face.file_name).write_bytes(source.read_bytes() if face.weight == "normal"
                                                else b"geen lettertype")
    serif = fonts.find_font_file("DejaVuSerif-Bold.ttf")
    (tmp_path / "DejaVuSerif-Bold.ttf").write_bytes(serif.read_bytes())
    with caplog.at_level(logging.WARNING, logger="casework.letters.fonts"):
        made = fonts.make_letter_fonts(dirs=[tmp_path])
    assert {(face.family, face.weight) for face in made} == {("Brief Serif", "bold")}
    assert "DejaVuSans-Bold.ttf niet te verkleinen" in caplog.text
    assert 'font-family: "Brief Serif"; src: url("casework-font:DejaVuSerif-Bold.ttf"); ' \
           "font-weight: bold; font-style: normal;" in fonts.font_face_css(made)


def test_compacting_keeps_text_and_inline_spaces():
    html = ('<main class="inhoud">\n  <p>Een <strong>vet</strong> <em>woord</em>\n en meer.</p>\n'
            '  <p class="citaat">\n  eigen tekst \n</p>\n</main>\n')
    assert render.compact_html(html) == (
        '<main class="inhoud"><p>Een <strong>vet</strong> <em>woord</em>\n en meer.</p>'
        '<p class="citaat">\n  eigen tekst \n</p></main>\n')


def _verzuim_context(kind: str) -> dict:
    from test_letter_templates_verzuim import make_context as verzuim_context

    return verzuim_context(kind)
