"""The benchmark's floor (benchmarks/floor.py) does casework's work, and benchmark.py's helpers.

The floor is only a fair lower bound if its fire really leaves what casework's leaves: a case
moved on with its version, an audit row the product's own verifier accepts (chain and seals),
the letter and the access-log row. Its work list and search must find what casework's API finds.
The floor commits, so each backend gets a database of its own: on SQLite a copy of the session
app's database, on PostgreSQL (when CASEWORK_TEST_DATABASE_URL is set) bench_floor_<test
database>, which the test makes and drops.
"""
from __future__ import annotations

import importlib.util
import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.floor import create_app as create_floor
from casework import create_app
from casework.extensions import db, queue
from casework.models import AccessLog, Case, Letter
from casework.services.audit import verify_chains
from casework.services.cases import commit, open_case
from conftest import PG_URL, api_token, fresh_postgres_database_url
from factories import demo_namespace, own_app
from factories_verzuim import signaal_data
from config import TestConfig

pytestmark = pytest.mark.no_transaction

ROOT = Path(__file__).resolve().parent.parent


def _bench_module():
    spec = importlib.util.spec_from_file_location("casework_benchmark", ROOT / "scripts" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drop_postgres(url: str) -> None:
    name = make_url(url).database
    base = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with base.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    base.dispose()


@contextmanager
def _sqlite_copy_app(app, tmp_dir: Path):
    """On SQLite, a copy of the session app's database (migrated, demo data committed; the tests'
    own writes are rolled back) instead of migrating and loading the demo once more."""
    source = make_url(db.state(app).engine.url.render_as_string(hide_password=False)).database
    target = tmp_dir / "floor.db"
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    cfg = TestConfig.from_env()
    cfg.update(DATABASE_URL=f"sqlite:///{target}", QUEUE_BACKEND="memory")
    saved = (queue.huey.storage, queue.huey.immediate, queue.app)
    try:
        copy = create_app(cfg)
        try:
            yield copy
        finally:
            db.state(copy).engine.dispose()
    finally:
        queue.huey.storage, queue.huey.immediate, queue.app = saved


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def apps(request, app, tmp_path_factory):
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("CASEWORK_TEST_DATABASE_URL not set")
    tmp_dir = tmp_path_factory.mktemp("floor")
    url = fresh_postgres_database_url("bench_floor") if request.param == "postgresql" else None
    same_backend = PG_URL is None if request.param == "sqlite" else False
    try:
        with (_sqlite_copy_app(app, tmp_dir) if same_backend else own_app(tmp_dir, url)) as ours:
            floor = create_floor(dict(ours.config))
            yield ours, floor
            floor.extensions["floor_engine"].dispose()
    finally:
        if url:
            _drop_postgres(url)


def test_a_floor_fire_leaves_a_valid_chain_a_letter_and_an_access_row(apps):
    app, floor = apps
    client = app.test_client()
    with app.app_context():
        demo = demo_namespace()
        headers = api_token(client, demo.lpa.email)
        case = open_case(demo.school, "verzuim", signaal_data(demo.daan))
        commit()
        case_id, version = case.id, case.version
        letters_before = db.session.scalar(select(func.count()).select_from(Letter))
        reads_before = db.session.scalar(select(func.count()).select_from(AccessLog))
        db.session.remove()

    fc = floor.test_client()
    path = f"/floor/cases/{case_id}/events/neem_ter_kennisgeving_aan"
    response = fc.post(path, headers=headers, json={"reden": "Het verzuim is opgelost.",
                                                     "expected_version": version})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["state"] == "afgesloten"
    # The same fire again: the version moved on (409), nothing is written twice.
    again = fc.post(path, headers=headers, json={"reden": "Nogmaals.", "expected_version": version})
    assert again.status_code == 409
    assert fc.post(path, json={"reden": "Zonder token."}).status_code == 401

    with app.app_context():
        result = verify_chains()
        assert result.ok, (result.problem, result.first_bad)
        case = db.session.get(Case, case_id)
        assert (case.state, case.version, case.is_open) == ("afgesloten", version + 1, False)
        assert case.afsluiting == "ter_kennisgeving" and case.data["reden_afsluiting"]
        new = db.session.scalars(select(Letter).where(Letter.case_id == case_id,
                                                      Letter.kind == "vz_ter_kennisgeving")).all()
        assert len(new) == 1 and new[0].status == "pending" and new[0].recipient_role == "school"
        assert db.session.scalar(select(func.count()).select_from(Letter)) == letters_before + 1
        assert db.session.scalar(select(func.count()).select_from(AccessLog)) == reads_before + 1
        db.session.remove()
    for command in (["audit", "verify"], ["access-log", "verify"]):
        out = app.test_cli_runner().invoke(args=command)
        assert out.exit_code == 0, out.output


def test_floor_list_and_search_find_what_the_api_finds(apps):
    app, floor = apps
    client = app.test_client()
    with app.app_context():
        demo = demo_namespace()
        headers = api_token(client, demo.lpa.email)
        name = demo.sam.achternaam
        db.session.remove()
    fc = floor.test_client()
    for query in ("per_page=25", f"per_page=25&q={name}", "per_page=25&q=Onbekendenaam"):
        ours = client.get(f"/api/v1/cases?{query}", headers=headers)
        theirs = fc.get(f"/floor/cases?{query}", headers=headers)
        assert ours.status_code == theirs.status_code == 200, theirs.get_data(as_text=True)
        a, b = ours.get_json(), theirs.get_json()
        assert a["total"] == b["total"], query
        assert [i["id"] for i in a["items"]] == [i["id"] for i in b["items"]], query


def test_benchmark_helpers():
    bench = _bench_module()
    assert bench.percentile([], 50) is None
    assert bench.percentile([3.0], 95) == 3.0
    assert bench.percentile([1, 2, 3, 4], 50) == 2.5
    assert bench.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert bench.ratio(3.0, 2.0) == 1.5 and bench.ratio(1.0, 0) is None and bench.ratio(None, 1) is None
    assert bench.verdict(1.4, "<=", 1.5) == "PASS"
    assert bench.verdict(1.6, "<=", 1.5) == "NOT YET"
    assert bench.verdict(0.95, ">=", 0.9) == "PASS"
    assert bench.verdict(None, "<=", 1.5) == "-"
    table = bench.format_table([
        {"figure": "fire CPU ms (4 conn)", "casework": 18.2, "floor": 3.1, "ratio": 5.87,
         "goal": "ratio <= 1.5", "verdict": "NOT YET"},
        {"figure": "leerplichttelling s", "casework": 1.32, "floor": None, "ratio": None,
         "goal": "", "verdict": "-"},
    ])
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["figure", "casework"]
    assert "5.87" in table and "NOT YET" in table and lines[-1].rstrip().endswith("-")
    assert len(lines) == 4  # header, rule, two rows
    assert len({line.index("casework") if "casework" in line else None for line in lines[:1]}) == 1


def test_markdown_table_puts_databases_side_by_side():
    bench = _bench_module()
    row = bench.goal_row("fire 4 conn: CPU ms/fire", 6.0, 3.0, "ratio <= 1.5", on="ratio", target=1.5)
    assert row["ratio"] == 2.0 and row["verdict"] == "NOT YET"
    results = [{"meta": {"label": "SQLite 10k"}, "table": [row]},
               {"meta": {"label": "PostgreSQL 10k"},
                "table": [{**row, "casework": 4.0, "ratio": 4 / 3, "verdict": "PASS"}]}]
    lines = bench.markdown_table(results).splitlines()
    assert lines[0].startswith("| figure | SQLite 10k casework | SQLite 10k floor | SQLite 10k ratio |")
    assert lines[2] == ("| fire 4 conn: CPU ms/fire | 6.00 | 3.00 | 2.00 | 4.00 | 3.00 | 1.33 "
                        "| ratio <= 1.5 | NOT YET | PASS |")
