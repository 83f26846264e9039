"""What the renderer reuses between letters (font set-up, stylesheet, decoded logos) never
carries one letter's content into another: each gemeente's letter shows its own logo, however
the renders interleave, and the shared stylesheet fetches nothing.

Self-contained: no Flask app, no database."""
from __future__ import annotations

import io
import re

from PIL import Image
from pypdf import PdfReader

from casework.letters import render
from casework.letters.render import STYLESHEET_PATH, render_letter
from test_letter_templates import make_context, pdf_text


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(out, "PNG")
    return out.getvalue()


def _logo_colour(pdf: bytes) -> tuple[int, int, int]:
    [image] = PdfReader(io.BytesIO(pdf)).pages[0].images
    return image.image.convert("RGB").getpixel((0, 0))


RED, BLUE = (200, 0, 0), (0, 0, 200)


def test_each_letter_shows_its_own_logo_however_renders_interleave():
    red, blue = (_png(RED), "image/png"), (_png(BLUE), "image/png")
    context = make_context("v5a_intrekking")
    seen = [_logo_colour(render_letter("v5a_intrekking", context, logo)[0])
            for logo in (red, blue, red, blue)]
    assert seen == [RED, BLUE, RED, BLUE]
    # A letter without a logo stays without one after letters with a logo.
    pdf, _ = render_letter("v5a_intrekking", context)
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 0


def test_the_image_caches_are_bounded():
    for i in range(render.IMAGE_CACHES_MAX + 5):
        render._renderer.image_cache({render.LOGO_URL: (bytes([i]), "image/png")})
    assert len(render._renderer.image_caches) == render.IMAGE_CACHES_MAX


def test_the_shared_stylesheet_fetches_nothing_and_styles_every_letter():
    css = STYLESHEET_PATH.read_text(encoding="utf-8")
    assert re.findall(r"url\(|@import|@font-face", css) == []
    # The letter HTML carries no CSS of its own; the page footer comes from brief.css.
    html = render.render_letter_html("v5a_intrekking", make_context("v5a_intrekking"))
    assert "<style" not in html
    text = pdf_text(render_letter("v5a_intrekking", make_context("v5a_intrekking"))[0])
    assert "Pagina 1 van 1" in text and "Kenmerk V5A-2026-00012" in text


def test_a_large_logo_is_embedded_at_print_size_and_a_small_one_as_uploaded():
    context = make_context("v5a_intrekking")
    big, small = Image.new("RGB", (4000, 1200), BLUE), _png(RED)
    out = io.BytesIO()
    big.save(out, "PNG")
    pdf, _ = render_letter("v5a_intrekking", context, (out.getvalue(), "image/png"))
    [image] = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert image.image.size == render.LOGO_BOX_PIXELS  # 300 dpi of the 60 x 18 mm it gets
    assert image.image.convert("RGB").getpixel((0, 0)) == BLUE
    pdf, _ = render_letter("v5a_intrekking", context, (small, "image/png"))
    [image] = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert image.image.size == (40, 20)


def test_the_garbage_collector_is_paused_during_a_letter_only():
    import gc
    import threading

    context = make_context("v5a_intrekking")
    seen = []
    real_write_pdf = render.HTML.write_pdf

    def write_pdf(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return real_write_pdf(self, *args, **kwargs)

    render.HTML.write_pdf = write_pdf
    try:
        assert gc.isenabled()
        render_letter("v5a_intrekking", context)
        assert gc.isenabled()  # back on after the letter
        # Threads: paused while any letter is being made, on again when none is.
        threads = [threading.Thread(target=render_letter, args=("v5a_intrekking", context))
                   for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert gc.isenabled() and render._collector.letters == 0
        # A process that turned the collector off keeps it off.
        gc.disable()
        try:
            render_letter("v5a_intrekking", context)
            assert not gc.isenabled()
        finally:
            gc.enable()
        # A letter that fails leaves the collector as it was.
        try:
            render.render_pdf('<img src="http://127.0.0.1:9/x.png">')
        except render.ExternalResourceError:
            pass
        assert gc.isenabled() and render._collector.letters == 0
    finally:
        render.HTML.write_pdf = real_write_pdf
    assert seen and not any(seen)
