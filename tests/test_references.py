"""Case references without gaps: PREFIX-YYYY-NNNNN per prefix and year, from reference_counters.

A transaction that rolls back gives its number back: a DUO dry run, a case whose letters fail
after it was flushed, the loser of a race. On PostgreSQL the old numbering (the case id) left a
gap for each of them, since a sequence never hands a value back.
"""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text, update

from casework.extensions import db
from casework.models import Case, Child, ReferenceCounter, User, utcnow
from casework.services import cases as case_service
from casework.services import duo
from casework.services.cases import commit, open_case
from casework.services.errors import Conflict
from conftest import PG_URL, fresh_postgres_database_url
from factories import demo_namespace, dien_in_data, own_app
from factories_verzuim import make_pupil_aged, melding_data
from test_concurrency import _race
from test_duo import GOOD, csv_file, row
from test_migrations import _alembic_config, scratch_database_url

V5A, VZ = "vrijstelling_5a", "verzuim"
REFERENCE = re.compile(r"([A-Z0-9]+)-([0-9]{4})-([0-9]{5,})")


def numbers(prefix: str, year: int) -> list[int]:
    """The numbers of the references of this prefix and year, as the cases table holds them."""
    found = []
    for reference in db.session.scalars(select(Case.reference).where(Case.reference.like(f"{prefix}-{year}-%"))):
        match = REFERENCE.fullmatch(reference)
        assert match, reference
        found.append(int(match[3]))
    return sorted(found)


def highest(prefix: str, year: int | None = None) -> int:
    return max(numbers(prefix, year or utcnow().year), default=0)


def number_of(case: Case) -> tuple[str, int, int]:
    match = REFERENCE.fullmatch(case.reference)
    assert match, case.reference
    return match[1], int(match[2]), int(match[3])


def assert_gapless(prefix: str, year: int | None = None) -> None:
    found = numbers(prefix, year or utcnow().year)
    assert found == list(range(1, len(found) + 1)), found


def new_kennisgeving(demo, voornaam: str = "Mirte") -> Case:
    child = make_pupil_aged(demo, 8, voornaam=voornaam)
    case = open_case(demo.ouder1, V5A, dien_in_data(child))
    commit()
    return case


def new_melding(demo, voornaam: str = "Jesse") -> Case:
    child = make_pupil_aged(demo, 14, voornaam=voornaam)
    case = open_case(demo.lpa, VZ, melding_data(child))
    commit()
    return case


# ------------------------------------------------------------------ rollbacks give the number back


def test_a_duo_dry_run_takes_no_number(demo):
    year = utcnow().year
    before = highest("VZ")
    for _ in range(2):
        report = duo.import_meldingen(GOOD, dry_run=True, gemeente_ids=[demo.voorbeeldstad.id])
        assert report.ok and report.counts["valid"] == 3, report.summary
    assert highest("VZ") == before

    report = duo.import_meldingen(GOOD, dry_run=False, gemeente_ids=[demo.voorbeeldstad.id])
    assert report.counts["created"] == 3, report.summary
    assert [r.reference for r in report.rows] == [f"VZ-{year}-{n:05d}" for n in range(before + 1, before + 4)]
    assert number_of(new_melding(demo))[2] == before + 4
    assert_gapless("VZ")


def test_a_refused_duo_import_takes_no_number(demo):
    before = highest("VZ")
    report = duo.import_meldingen(csv_file(row(), row(code="X")), dry_run=False,
                                  gemeente_ids=[demo.voorbeeldstad.id])
    assert not report.ok and report.counts["created"] == 0
    assert number_of(new_melding(demo))[2] == before + 1


def test_a_case_whose_letters_fail_after_the_flush_takes_no_number(demo, monkeypatch):
    """The case, its audit row and its number are flushed; the letter then fails, and the
    request's rollback takes the number back with the case."""
    before = highest("V5A")
    child = make_pupil_aged(demo, 8, voornaam="Mirte")

    def broken_letters(case, *args, **kwargs):
        assert case.id is not None and case.reference is not None  # all of it was flushed
        raise RuntimeError("de ontvangstbevestiging kan niet worden opgemaakt")

    monkeypatch.setattr(case_service, "record_letters", broken_letters)
    with pytest.raises(RuntimeError):
        open_case(demo.ouder1, V5A, dien_in_data(child))
    db.session.rollback()
    monkeypatch.undo()

    assert db.session.scalar(select(Case).where(Case.child_id == child.id)) is None
    assert highest("V5A") == before
    case = open_case(demo.ouder1, V5A, dien_in_data(db.session.get(Child, child.id)))
    commit()
    assert number_of(case)[2] == before + 1
    assert_gapless("V5A")


def test_a_refused_kennisgeving_takes_no_number(demo):
    """A second kennisgeving while the first is open is refused (a 409); nothing is counted."""
    first = new_kennisgeving(demo)
    with pytest.raises(Conflict):
        open_case(demo.ouder1, V5A, dien_in_data(first.child))
    db.session.rollback()
    assert number_of(new_kennisgeving(demo, "Ravi"))[2] == number_of(first)[2] + 1


# ------------------------------------------------------------------ per prefix, per year


def test_each_prefix_counts_on_its_own(demo):
    v5a, vz = highest("V5A"), highest("VZ")
    assert number_of(new_melding(demo))[2] == vz + 1
    assert number_of(new_kennisgeving(demo))[2] == v5a + 1
    assert number_of(new_melding(demo, "Noa"))[2] == vz + 2
    assert number_of(new_kennisgeving(demo, "Ravi"))[2] == v5a + 2
    assert_gapless("V5A")
    assert_gapless("VZ")


def test_a_new_year_starts_at_one(demo, monkeypatch):
    year = utcnow().year + 5
    monkeypatch.setattr(case_service, "utcnow", lambda: datetime(year, 1, 1, 0, 5))
    assert new_kennisgeving(demo).reference == f"V5A-{year}-00001"
    assert new_melding(demo).reference == f"VZ-{year}-00001"
    assert new_kennisgeving(demo, "Ravi").reference == f"V5A-{year}-00002"
    counters = {(c.prefix, c.year): c.last for c in db.session.scalars(
        select(ReferenceCounter).where(ReferenceCounter.year == year))}
    assert counters == {("V5A", year): 2, ("VZ", year): 1}


def test_a_year_past_99999_gets_a_sixth_digit(demo, monkeypatch):
    year = utcnow().year + 6
    monkeypatch.setattr(case_service, "utcnow", lambda: datetime(year, 6, 1, 12, 0))
    assert new_kennisgeving(demo).reference == f"V5A-{year}-00001"
    db.session.execute(update(ReferenceCounter).where(ReferenceCounter.prefix == "V5A",
                                                      ReferenceCounter.year == year).values(last=99_999))
    commit()
    assert new_kennisgeving(demo, "Ravi").reference == f"V5A-{year}-100000"


# ------------------------------------------------------------------ races (really committed)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_app(request, tmp_path_factory):
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("CASEWORK_TEST_DATABASE_URL not set")
    url = fresh_postgres_database_url("casework_references") if request.param == "postgresql" else None
    with own_app(tmp_path_factory.mktemp("references"), url) as app:
        yield app


@pytest.mark.no_transaction
def test_a_lost_race_takes_no_number(shared_app):
    """Two kennisgevingen for one child at once: one case, and the next case has the next number."""
    app = shared_app
    with app.app_context():
        demo = demo_namespace()
        ouder_id, child_id = demo.ouder2.id, demo.noor.id
        before = highest("V5A")

    def contender():
        def load():
            return (db.session.get(User, ouder_id),)

        def act(ouder):
            open_case(ouder, V5A, dien_in_data(db.session.get(Child, child_id)))

        return load, act

    results = _race(app, {"eerste": contender(), "tweede": contender()})
    outcomes = sorted(r if r == "ok" else type(r).__name__ for r in results.values())
    assert outcomes == ["Conflict", "ok"], results
    with app.app_context():
        demo = demo_namespace()
        [won] = db.session.scalars(select(Case).where(Case.child_id == child_id, Case.type == V5A))
        assert number_of(won)[2] == before + 1
        assert number_of(new_kennisgeving(demo))[2] == before + 2
        assert_gapless("V5A")


@pytest.mark.no_transaction
def test_cases_opened_at_once_get_consecutive_numbers(shared_app):
    app = shared_app
    with app.app_context():
        demo = demo_namespace()
        lpa_id = demo.lpa.id
        child_ids = [make_pupil_aged(demo, 14, voornaam=f"Tegelijk{n}").id for n in range(4)]
        before = highest("VZ")

    def contender(child_id):
        def load():
            return (db.session.get(User, lpa_id),)

        def act(lpa):
            open_case(lpa, VZ, melding_data(db.session.get(Child, child_id)))

        return load, act

    results = _race(app, {str(cid): contender(cid) for cid in child_ids})
    assert set(results.values()) == {"ok"}, results
    with app.app_context():
        got = sorted(number_of(c)[2] for c in db.session.scalars(select(Case).where(Case.child_id.in_(child_ids))))
        assert got == [before + 1, before + 2, before + 3, before + 4]
        assert_gapless("VZ")


# ------------------------------------------------------------------ the migration


@pytest.mark.no_transaction
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_starts_the_counters_after_the_existing_references(tmp_path, backend):
    url = scratch_database_url(tmp_path, backend, "reference_counters")
    cfg = _alembic_config(url)
    engine = create_engine(url)
    existing = ["V5A-2025-00003", "V5A-2026-00002", "V5A-2026-00014", "VZ-2026-00015", "VZ-2026-00009",
                "VZ-2024-123456", "R-0", "SYN-VZ-2025-0001234", None]
    try:
        command.upgrade(cfg, "9a41c7e05d2b")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO organisations (kind, naam, adres, postcode_plaats, telefoon, email) "
                              "VALUES ('gemeente', 'G', '', '', '', '')"))
            gemeente = conn.execute(text("SELECT id FROM organisations")).scalar()
            for n, reference in enumerate(existing):
                conn.execute(text("INSERT INTO children (bsn, voornaam, achternaam, geboortedatum, geslacht, "
                                  "adres, postcode_plaats, gemeente_id) "
                                  "VALUES (:bsn, 'A', 'B', '2015-01-01', 'X', '', '', :g)"),
                             {"bsn": str(n), "g": gemeente})
                child = conn.execute(text("SELECT id FROM children WHERE bsn = :bsn"), {"bsn": str(n)}).scalar()
                conn.execute(text("INSERT INTO cases (type, reference, state, version, is_open, child_id, "
                                  "gemeente_id, created_at, updated_at, data) VALUES ('verzuim', :ref, "
                                  "'afgesloten', 1, :open, :c, :g, '2026-01-01', '2026-01-01', '{}')"),
                             {"ref": reference, "open": False, "c": child, "g": gemeente})
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            counters = {(r.prefix, r.year): r.last for r in conn.execute(
                text("SELECT prefix, year, last FROM reference_counters"))}
        assert counters == {("V5A", 2025): 3, ("V5A", 2026): 14, ("VZ", 2026): 15, ("VZ", 2024): 123456}

        command.downgrade(cfg, "9a41c7e05d2b")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == len(existing)
        assert "reference_counters" not in inspect(engine).get_table_names()
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT last FROM reference_counters "
                                     "WHERE prefix = 'VZ' AND year = 2026")).scalar() == 15
    finally:
        engine.dispose()


@pytest.mark.no_transaction
def test_the_app_role_may_count_but_not_reset(tmp_path):
    """PostgreSQL with the two roles: the app role reads, inserts and updates the counters, and
    may not delete them (a year's numbering never starts over)."""
    from conftest import PG_APP_ROLE

    if not (PG_URL and PG_APP_ROLE):
        pytest.skip("CASEWORK_TEST_DATABASE_URL and CASEWORK_TEST_APP_ROLE not set")
    from casework.extensions import db as _db

    with own_app(tmp_path, fresh_postgres_database_url("casework_reference_grants")) as app:
        engine = _db.state(app).engine  # connects as the app role
        with app.app_context():
            assert engine.url.username == PG_APP_ROLE
            with engine.connect() as conn:
                rights = {p: conn.execute(text("SELECT has_table_privilege('reference_counters', :p)"),
                                          {"p": p}).scalar()
                          for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")}
        assert rights == {"SELECT": True, "INSERT": True, "UPDATE": True, "DELETE": False, "TRUNCATE": False}
