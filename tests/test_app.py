"""The app factory, settings and the demo data."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casework import create_app
from casework.demo import load_demo
from casework.extensions import db
from casework.models import Child, Organisation, User, parent_children
from config import ProductionConfig, load_config


def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch):
    monkeypatch.delenv("CASEWORK_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="CASEWORK_SECRET_KEY"):
        load_config("production")
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "kort")
    with pytest.raises(RuntimeError, match="CASEWORK_SECRET_KEY"):
        load_config("production")


def test_production_starts_with_a_real_key(monkeypatch, tmp_path):
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "x" * 48)
    monkeypatch.setenv("CASEWORK_AUDIT_KEY", "a" * 48)
    monkeypatch.setenv("CASEWORK_DATABASE_URL", f"sqlite:///{tmp_path}/prod.db")
    cfg = ProductionConfig.from_env()
    assert cfg["SESSION_COOKIE_SECURE"] is True
    app = create_app(cfg, QUEUE_BACKEND="memory")
    assert app.config["SECRET_KEY"] == "x" * 48


def test_factory_has_no_side_effects_on_the_database(tmp_path, monkeypatch):
    target = tmp_path / "nooit.db"
    monkeypatch.setenv("CASEWORK_DATABASE_URL", f"sqlite:///{target}")
    create_app(load_config("development"), QUEUE_BACKEND="memory")
    assert not target.exists(), "create_app must not create or migrate the database"


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CASEWORK_HERBEOORDELING_LEAD_DAYS", "30")
    monkeypatch.setenv("CASEWORK_DEMO_PASSWORD", "geheim123")
    cfg = load_config("development")
    assert cfg["HERBEOORDELING_LEAD_DAYS"] == 30
    assert cfg["DEMO_PASSWORD"] == "geheim123"


def test_unknown_environment_is_refused(monkeypatch):
    with pytest.raises(RuntimeError, match="CASEWORK_ENV"):
        load_config("staging")


def _counts():
    return (
        db.session.scalar(select(func.count()).select_from(Organisation)),
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(Child)),
        db.session.scalar(select(func.count()).select_from(parent_children)),
    )


def test_demo_is_idempotent_and_matches_the_contract(demo):
    before = _counts()
    load_demo()
    load_demo()
    assert _counts() == before
    assert {c.voornaam for c in demo.ouder1 and db.session.scalars(
        select(Child).join(parent_children).where(parent_children.c.user_id == demo.ouder1.id))} == {
        "Sam", "Lotte", "Daan"}
    assert str(demo.sam.geboortedatum) == "2017-03-14"
    assert str(demo.noor.geboortedatum) == "2012-09-02"
    assert demo.noor.gemeente_id == demo.buurdorp.id
    assert demo.noor.school.naam == "Voorbeeld College"
    assert demo.sam.school.naam == "Basisschool De Voorbeeld"
    assert demo.swv_regio.gemeenten and {g.id for g in demo.swv_regio.gemeenten} == {
        demo.voorbeeldstad.id, demo.buurdorp.id}
    assert demo.swv_buur in demo.swv_regio.buren
    assert {g.id for g in demo.ggd.jgz_gemeenten} == {demo.voorbeeldstad.id, demo.buurdorp.id}
    roles = {u.email: u.role for u in db.session.scalars(select(User))}
    assert roles["leerplicht@buurdorp.test"] == "leerplichtambtenaar"
    assert roles["beheer@voorbeeldstad.test"] == "beheerder"
    assert roles["school@voorbeeldcollege.test"] == "school"


def test_the_redis_queue_names_the_extra_to_install(monkeypatch):
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("redis") for d in project["optional-dependencies"]["redis"])
    test_tools = {"pytest", "playwright", "schemathesis", "hypothesis", "aiosmtpd", "pypdf"}
    assert not {d.split(">")[0].split("[")[0] for d in project["dependencies"]} & test_tools
    # As on an install without the extra: huey finds no Redis client.
    monkeypatch.setattr("huey.storage.Redis", None)
    with pytest.raises(RuntimeError, match=r'pip install "casework\[redis\]"'):
        create_app(load_config("development"), QUEUE_BACKEND="redis", REDIS_URL="redis://127.0.0.1:1/0")
