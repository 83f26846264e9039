"""The letter task's SQL: rendering one letter issues a fixed, small number of statements, however
many letters, recipients or events the case has, so an N+1 (a lazy load per recipient, per
letter or per setting) fails here. Counted with a before_cursor_execute listener on the engine;
transaction control (BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO: the test's savepoints and SQLite's
BEGIN IMMEDIATE) is left out, so the count is the same on SQLite and PostgreSQL."""
from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from casework.extensions import db
from casework.letters.tasks import render_letter_now
from casework.models import GemeenteInstellingen, Letter
from factories import letters_of, make_case
from sql_statements import counted, explain

_summary = explain


def _render_one(letter_id: int) -> list[str]:
    with counted() as seen:  # as in the worker: a fresh session knows no rows
        assert render_letter_now(letter_id) == "rendered"
    return seen


# What render_letter_now reads and writes for one letter.
EXPECTED = 4
WHAT = ("1 SELECT of the letter by id; 1 SELECT of its case's gemeente_id; 1 SELECT of the "
        "gemeente's logo (GemeenteInstellingen); after rendering, 1 UPDATE of the letter "
        "(pdf, sha256, status, attempts, last_error, rendered_at)")


def test_one_letter_takes_a_fixed_number_of_statements(demo):
    case = make_case(demo, "beeindigd", toestemming=True)  # 9 letters to 3 kinds of recipient
    letters = letters_of(case.id)
    assert len(letters) == 9
    first, last = letters[0].id, letters[-1].id
    for letter_id in (first, last):
        seen = _render_one(letter_id)
        assert len(seen) == EXPECTED, (
            f"render_letter_now issued {len(seen)} statements for one letter, expected {EXPECTED}: "
            f"{WHAT}. Issued:\n{_summary(seen)}")
    assert db.session.get(Letter, first).status == "rendered"


def test_a_gemeente_with_a_logo_takes_the_same_statements(demo):
    from test_letters_render_reuse import _png

    gemeente_id = demo.voorbeeldstad.id
    settings = db.session.get(GemeenteInstellingen, gemeente_id) or GemeenteInstellingen(
        gemeente_id=gemeente_id)
    settings.logo, settings.logo_type = _png((10, 80, 160)), "image/png"
    db.session.add(settings)
    db.session.commit()
    case = make_case(demo, "kennisgeving_ontvangen")
    [letter_id] = db.session.scalars(select(Letter.id).where(Letter.case_id == case.id))
    seen = _render_one(letter_id)
    assert len(seen) == EXPECTED, (
        f"render_letter_now issued {len(seen)} statements for one letter with a logo, expected "
        f"{EXPECTED}: {WHAT}. Issued:\n{_summary(seen)}")
    pdf = db.session.get(Letter, letter_id).pdf
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1  # the logo was read and used
