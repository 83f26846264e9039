"""`flask demo` loads cases in telling states: every demo login lands on something to do.

The shared test app holds the plain demo (tests/conftest.py make_app); each test here loads the
demo's cases into its own rolled-back transaction, through the real services.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import api_token, render_pending, web_signed_in
from sqlalchemy import func, select

from casework import demo_cases
from casework.demo import load_demo
from casework.extensions import db
from casework.models import AuditEvent, Case, Child, Letter, User
from casework.services import cases as case_service
from casework.services.audit import verify_chains

JULIA, FINN, YARA, LEVI = "Julia Vermeer", "Finn Peters", "Yara El Amrani", "Levi Smits"
SARA, THIJS, EMMA, BRAM = "Sara Bakker", "Thijs Mulder", "Emma Visser", "Bram de Groot"
SAM, DAAN, NOOR = "Sam Jansen", "Daan Jansen", "Noor de Vries"

# Per login: (child's name, or None where the user may not know who it is; state as the user
# sees it) of the cases the README's table promises, and the step the user can take on it
# (the button on the case page; None: the case is there to follow).
PROMISES = {
    "leerplicht@voorbeeldstad.test": [
        (JULIA, "kennisgeving_ontvangen", "In behandeling nemen"),
        (EMMA, "ontvangen", "Onderzoek starten"),
        (BRAM, "in_onderzoek", "Route kiezen"),
        (DAAN, "vrijgesteld", "Herbeoordeling starten"),
        (DAAN, "vrijgesteld", "Beëindigen"),
    ],
    "leerplicht@buurdorp.test": [
        (THIJS, "ontvangen", "Onderzoek starten"),
        (NOOR, "vrijwillige_hulp", "Monitoring starten"),
        (NOOR, "vrijwillige_hulp", "Afsluiten"),
        (SARA, "advies_gevraagd", None),
    ],
    "jeugdarts@ggd-voorbeeld.test": [
        (FINN, "in_behandeling", "Advies vragen aan samenwerkingsverband"),
        (LEVI, "advies_uitgebracht", "Verklaring afgeven"),
    ],
    "adviseur@swv-voorbeeldregio.test": [
        (SAM, "advies_gevraagd", "Advies uitbrengen"),
        (None, "advies_gevraagd", "Advies uitbrengen"),  # Yara's, without consent
    ],
    "adviseur@swv-naburig.test": [(SARA, "advies_gevraagd", "Advies uitbrengen")],
    "ouder1@voorbeeld.test": [(SAM, "advies_gevraagd", None), (DAAN, "vrijgesteld", None)],
    "ouder2@voorbeeld.test": [(NOOR, "vrijwillige_hulp", None)],
    # A school sees its own reports in coarse terms only.
    "school@devoorbeeld.test": [(EMMA, "ontvangen", None), (BRAM, "in_behandeling", None)],
    "school@voorbeeldcollege.test": [(THIJS, "ontvangen", None), (NOOR, "in_behandeling", None)],
}


@pytest.fixture
def demo_cases_loaded(demo):
    made, children, skipped = demo_cases.load_demo_cases()
    assert skipped == []
    assert (made, children) == (len(demo_cases.STORIES), len(demo_cases.CASE_CHILDREN))
    return demo


def _naam(item) -> str | None:
    child = item["child"]
    return f"{child['voornaam']} {child['achternaam']}" if child else None


def _api_cases(client, email) -> list[dict]:
    headers = api_token(client, email)
    body = client.get("/api/v1/cases?per_page=100", headers=headers).get_json()
    assert body["total"] == len(body["items"])
    return body["items"]


@pytest.mark.parametrize("email", sorted(PROMISES))
def test_each_demo_login_finds_its_cases_in_the_promised_state(client, demo_cases_loaded, email):
    found = {(_naam(item), item["state"]) for item in _api_cases(client, email)}
    for naam, state, _ in PROMISES[email]:
        assert (naam, state) in found, (email, naam, state, found)


@pytest.mark.parametrize("email", sorted(PROMISES))
def test_each_demo_login_lands_on_its_cases_on_the_web(client, demo_cases_loaded, email):
    """Signed in, the first page (the work list, a parent's children) names the cases, and each
    promised case page offers the promised step."""
    items = _api_cases(client, email)
    web_signed_in(client, email)
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    for naam, state, step in PROMISES[email]:
        if naam is not None and not email.startswith("ouder"):
            assert naam in page, (email, naam)
        case = next(i for i in items if (_naam(i), i["state"]) == (naam, state))
        if email.startswith("ouder"):
            assert f"/zaken/{case['id']}" in page, (email, naam)  # the parent's children page
        detail = client.get(f"/zaken/{case['id']}")
        assert detail.status_code == 200
        if step is not None:
            assert step in detail.get_data(as_text=True), (email, naam, step)


def test_every_letter_of_the_demo_renders_and_the_parent_opens_theirs(client, demo_cases_loaded):
    demo = demo_cases_loaded
    render_pending()
    states = db.session.execute(select(Letter.status, func.count()).group_by(Letter.status)).all()
    assert dict(states) == {"rendered": db.session.scalar(select(func.count()).select_from(Letter))}
    web_signed_in(client, "ouder1@voorbeeld.test")
    daan = db.session.scalar(select(Case).where(Case.child_id == demo.daan.id))
    letters = db.session.scalars(select(Letter).where(
        Letter.case_id == daan.id, Letter.recipient_user_id == demo.ouder1.id)).all()
    assert {letter.kind for letter in letters} >= {"v5a_ontvangstbevestiging", "v5a_vrijstelling"}
    page = client.get(f"/zaken/{daan.id}").get_data(as_text=True)
    for letter in letters:
        assert f"/brieven/{letter.id}.pdf" in page
        response = client.get(f"/brieven/{letter.id}.pdf")
        assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_the_swv_without_consent_never_sees_who_the_child_is(client, demo_cases_loaded):
    yara = db.session.scalar(select(Child).where(Child.voornaam == "Yara"))
    case = db.session.scalar(select(Case).where(Case.child_id == yara.id))
    assert case.toestemming is False and case.state == "advies_gevraagd"
    email = "adviseur@swv-voorbeeldregio.test"
    secrets = ("Yara", "El Amrani", yara.bsn, yara.adres, yara.geboortedatum.isoformat())
    headers = api_token(client, email)
    for url in ("/api/v1/cases?per_page=100", f"/api/v1/cases/{case.id}"):
        text = client.get(url, headers=headers).get_data(as_text=True)
        assert not [s for s in secrets if s in text], url
    web_signed_in(client, email)
    for url in ("/zaken", f"/zaken/{case.id}"):
        response = client.get(url)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert not [s for s in secrets if s in text], url
    swv_letters = db.session.scalars(select(Letter).where(
        Letter.case_id == case.id, Letter.recipient_role == "swv")).all()
    assert swv_letters
    for letter in swv_letters:
        assert not [s for s in secrets if s in str(letter.context)]


def test_the_running_exemption_is_within_the_herbeoordeling_lead_time(app, demo_cases_loaded):
    from casework.services.scheduler import tick

    demo = demo_cases_loaded
    daan = db.session.scalar(select(Case).where(Case.child_id == demo.daan.id))
    today = case_service._today()
    assert daan.state == "vrijgesteld" and daan.ingangsdatum <= today < daan.einddatum
    lead = timedelta(days=app.config["HERBEOORDELING_LEAD_DAYS"])
    assert today < daan.herbeoordelingsdatum <= today + lead
    assert daan.data["te_laat"] is False  # the paper kennisgeving came in on time
    tick()
    db.session.refresh(daan)
    assert daan.state == "herbeoordeling"


def _counts() -> tuple:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Case, AuditEvent, Letter, Child, User))


def test_loading_twice_makes_nothing_new_and_the_audit_trail_verifies(demo):
    before = _counts()
    first = load_demo(with_cases=True)
    assert "11 zaken nieuw" in first and "Niet gemaakt" not in first
    after = _counts()
    assert after[0] == before[0] + len(demo_cases.STORIES)
    second = load_demo(with_cases=True)
    assert "0 zaken nieuw" in second and "0 kinderen nieuw" in second
    assert _counts() == after
    result = verify_chains()
    assert result.ok, result
    assert result.checked == after[1]


def test_a_case_made_while_trying_the_demo_is_left_alone(demo):
    """Sam already has a kennisgeving (a visitor filed it): his story is not made, nor is his
    case touched; the other stories are made."""
    from factories import audit_count, make_case

    own = make_case(demo, child=demo.sam)
    version, rows = own.version, audit_count(own.id)
    made, _, skipped = demo_cases.load_demo_cases()
    assert skipped == [] and made == len(demo_cases.STORIES) - 1
    sams = db.session.scalars(select(Case).where(Case.child_id == demo.sam.id)).all()
    assert [c.id for c in sams] == [own.id]
    assert (own.state, own.version, audit_count(own.id)) == ("kennisgeving_ontvangen", version, rows)


def test_another_gemeentes_record_of_a_demo_bsn_is_never_used(demo):
    """Children are kept per gemeente: a record of Julia's BSN in a gemeente outside the demo
    gets no demo case; the demo makes Julia's own record in Voorbeeldstad."""
    from factories import make_org

    elders = make_org("gemeente", "GM9999", "Gemeente Elders")
    foreign = Child(bsn="100200072", voornaam="Julia", achternaam="Vermeer",
                    geboortedatum=demo.sam.geboortedatum, geslacht="V", gemeente_id=elders.id)
    db.session.add(foreign)
    case_service.commit()
    demo_cases.load_demo_cases()
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.child_id == foreign.id)) == 0
    julia = db.session.scalars(select(Child).where(Child.bsn == "100200072",
                                                   Child.gemeente_id == demo.voorbeeldstad.id)).one()
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.child_id == julia.id)) == 1


def test_a_story_that_cannot_be_made_today_is_skipped_with_its_reason(demo, monkeypatch):
    def impossible(ctx, child):
        case = demo_cases.kennisgeving_ontvangen(ctx, child)
        # A guard refuses: the deskundige must be a jeugdarts working for the gemeente.
        demo_cases._fire(ctx, case, "neem_in_behandeling", demo_cases.LPA,
                         {"deskundige_id": ctx.users[demo_cases.SWV].id})
        return case

    stories = [demo_cases.Story("100200072", "vrijstelling_5a", "kennisgeving van Julia Vermeer",
                                impossible), demo_cases.STORIES[1]]
    monkeypatch.setattr(demo_cases, "STORIES", stories)
    summary = load_demo(with_cases=True)
    assert "1 zaken nieuw" in summary
    assert ("Niet gemaakt: kennisgeving van Julia Vermeer: Kies een jeugdarts van een "
            "JGZ-organisatie die voor deze gemeente werkt.") in summary
    # Nothing of the failed story stays: not its case, not its child.
    assert db.session.scalar(select(Child).where(Child.bsn == "100200072")) is None
    assert db.session.scalar(select(Child).where(Child.bsn == "100200217")) is not None


def test_flask_demo_loads_the_cases_and_zonder_zaken_does_not(app, demo):
    runner = app.test_cli_runner()
    plain = runner.invoke(args=["demo", "--zonder-zaken"])
    assert plain.exit_code == 0, plain.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    full = runner.invoke(args=["demo"])
    assert full.exit_code == 0, full.output
    assert "11 zaken nieuw" in full.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == len(demo_cases.STORIES)


@pytest.mark.parametrize("day", [
    "2026-12-24",  # the day before the kerstvakantie
    "2027-01-04",  # the first school day after it
    "2027-02-28", "2027-06-30",  # the last day a kennisgeving for next year is on time
    "2027-07-15",  # zomervakantie, at the end of a school year
    "2027-08-01",  # the first day of a school year
    "2027-08-30",  # the first school day after the zomervakantie (region midden)
    "2028-02-29",
])
def test_the_stories_can_be_made_on_any_day(demo, monkeypatch, day):
    """The guards hold on the dates the stories derive from today: school years, holidays
    (an absence never falls in a holiday), the lead time of the herbeoordeling."""
    from datetime import date

    from casework import schoolkalender

    today = date.fromisoformat(day)
    monkeypatch.setattr(case_service, "_today", lambda: today)
    made, _, skipped = demo_cases.load_demo_cases()
    assert skipped == [] and made == len(demo_cases.STORIES)
    for case in db.session.scalars(select(Case).where(Case.type == "verzuim")):
        start, end = (date.fromisoformat(case.data[k]) for k in ("periode_start", "periode_eind"))
        assert end < today
        school_days = schoolkalender.telling(case.school_id, start, end)
        assert school_days.binnen_vier and school_days.lesweken >= 2, (day, start, end)
        for edge in (start, end):
            assert not schoolkalender.vakanties(case.school_id, edge, edge), (day, edge)
