"""Test factories: cases in an explicit state, reached by firing the real events.

No random data: every name, BSN and date is fixed or derived from today. Every event goes
through open_case()/fire() and is committed like a request would (inside a test that is a
savepoint), so a later rollback in the test only undoes what the test itself did.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import func, select

from casework.auth import hash_password
from casework.extensions import db, queue
from casework.models import AuditEvent, Case, Child, Letter, Organisation, User, utcnow
from casework.services.cases import commit, fire, open_case
from casework.workflows.base import add_months
from config import TestConfig

CASE_TYPE = "vrijstelling_5a"

# The path from the opening event to every state (domain.md, workflow 1).
PATHS: dict[str, tuple[str, ...]] = {
    "kennisgeving_ontvangen": (),
    "niet_ontvankelijk": ("verklaar_niet_ontvankelijk",),
    "in_behandeling": ("neem_in_behandeling",),
    "advies_gevraagd": ("neem_in_behandeling", "vraag_advies"),
    "advies_uitgebracht": ("neem_in_behandeling", "vraag_advies", "breng_advies_uit"),
    "vrijgesteld": ("neem_in_behandeling", "vraag_advies", "breng_advies_uit", "geef_verklaring"),
    "geen_vrijstelling": ("neem_in_behandeling", "vraag_advies", "breng_advies_uit", "geef_verklaring"),
    "herbeoordeling": ("neem_in_behandeling", "vraag_advies", "breng_advies_uit", "geef_verklaring",
                       "start_herbeoordeling"),
    "ingetrokken": ("trek_in",),
    "beeindigd": ("neem_in_behandeling", "vraag_advies", "breng_advies_uit", "geef_verklaring",
                  "beeindig"),
}

SAMENVATTING = "Leerling van de basisschoolleeftijd; kan door angstklachten niet naar school."
MEDISCHE_NOTITIE = "Medisch geheim: diagnose gegeneraliseerde angststoornis, behandeling loopt."


def today() -> date:
    return date.today()


def on_time_schooljaar() -> str:
    """A school year whose 1 July deadline is still ahead: the notice is on time."""
    year = today().year + 1
    return f"{year}-{year + 1}"


def late_schooljaar() -> str:
    """A school year whose 1 July deadline has passed: the notice is late."""
    year = today().year - 1
    return f"{year}-{year + 1}"


# ------------------------------------------------------------------ demo data

def demo_namespace() -> SimpleNamespace:
    """The demo users, organisations and children (like the `demo` fixture), in the current app."""

    def user(email):
        return db.session.scalar(select(User).where(User.email == email))

    def org(code):
        return db.session.scalar(select(Organisation).where(Organisation.code == code))

    def child(voornaam):
        return db.session.scalar(select(Child).where(Child.voornaam == voornaam))

    return SimpleNamespace(
        lpa=user("leerplicht@voorbeeldstad.test"),
        lpa_buurdorp=user("leerplicht@buurdorp.test"),
        arts=user("jeugdarts@ggd-voorbeeld.test"),
        swv=user("adviseur@swv-voorbeeldregio.test"),
        swv_naburig=user("adviseur@swv-naburig.test"),
        ouder1=user("ouder1@voorbeeld.test"),
        ouder2=user("ouder2@voorbeeld.test"),
        school=user("school@devoorbeeld.test"),
        school_college=user("school@voorbeeldcollege.test"),
        beheerder=user("beheer@voorbeeldstad.test"),
        voorbeeldstad=org("GM9001"),
        buurdorp=org("GM9002"),
        swv_regio=org("SWV9001"),
        swv_buur=org("SWV9002"),
        ggd=org("JGZ9001"),
        sam=child("Sam"),
        lotte=child("Lotte"),
        daan=child("Daan"),
        noor=child("Noor"),
    )


_PASSWORD_HASH: str | None = None


def _password_hash() -> str:
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password("test-wachtwoord")
    return _PASSWORD_HASH


def make_user(email: str, role: str, organisation: Organisation | None, naam: str = "Testgebruiker") -> User:
    user = User(email=email, naam=naam, role=role, password_hash=_password_hash(),
                organisation_id=organisation.id if organisation else None)
    if role != "ouder":  # like the demo professionals: the second step set up with the demo secret
        user.totp_secret, user.totp_enrolled_at = TestConfig.DEMO_TOTP_SECRET, utcnow()
    db.session.add(user)
    commit()
    return user


def make_org(kind: str, code: str, naam: str) -> Organisation:
    org = Organisation(kind=kind, code=code, naam=naam)
    db.session.add(org)
    commit()
    return org


def make_child(demo, geboortedatum: date, voornaam: str, bsn: str, parent: User | None = None,
               gemeente: Organisation | None = None) -> Child:
    """A child in Voorbeeldstad (school De Voorbeeld) whose parent is ouder1 unless told otherwise."""
    child = Child(bsn=bsn, voornaam=voornaam, achternaam="Testkind", geboortedatum=geboortedatum,
                  geslacht="X", adres="Teststraat 1", postcode_plaats="1234 ZZ Voorbeeldstad",
                  gemeente_id=(gemeente or demo.voorbeeldstad).id, school_id=demo.sam.school_id)
    child.parents.append(parent or demo.ouder1)
    db.session.add(child)
    commit()
    return child


# ------------------------------------------------------------------ payloads

def dien_in_data(child: Child, schooljaar: str | None = None, **extra) -> dict:
    return {"child_id": child.id, "schooljaar": schooljaar or on_time_schooljaar(),
            "toelichting": "Ons kind kan door ziekte niet naar school.", **extra}


def verklaring_data(geschikt: bool = False, **extra) -> dict:
    """A valid verklaring issued today; not fit: a year's exemption, herbeoordeling after 6 months."""
    t = today()
    data = {"geschikt": geschikt, "weging_advies": "Het advies is meegewogen; maatwerk is nu niet haalbaar.",
            "verklaringsdatum": t.isoformat(), "niet_behandelend_arts": True,
            "medische_notitie": MEDISCHE_NOTITIE}
    if not geschikt:
        data.update(ingangsdatum=t.isoformat(), einddatum=add_months(t, 12).isoformat(),
                    herbeoordelingsdatum=add_months(t, 6).isoformat())
    data.update(extra)
    return data


def toestemming_door(child: Child, day: date | None = None) -> str:
    """Who decides about sharing the child's data on `day` (today): the parents before 16, then the young person."""
    from casework.services import cases as case_service
    from casework.workflows.base import age_on

    return "ouder" if age_on(child.geboortedatum, day or case_service._today()) < 16 else "jongere"


def event_actor(demo, case: Case, event: str) -> User:
    """A user with the role and relation to fire this event on this case."""
    return {
        "neem_in_behandeling": demo.lpa,
        "verklaar_niet_ontvankelijk": demo.lpa,
        "vul_aan": demo.ouder1,
        "vraag_advies": demo.arts,
        "breng_advies_uit": demo.swv_naburig if case.swv_id == demo.swv_buur.id else demo.swv,
        "geef_verklaring": demo.arts,
        "start_herbeoordeling": demo.lpa,
        "beeindig": demo.lpa,
        "trek_in": case.child.parents[0] if case.child.parents else demo.ouder1,
        "zie_af": case.child.parents[0] if case.child.parents else demo.ouder1,
        "vraag_ander_swv": demo.arts,
        "sluit_niet_aangevuld": demo.lpa,
        "herinner_verlenging": demo.lpa,
        "dien_in": demo.ouder1,
    }[event]


def event_data(demo, case: Case, event: str, *, toestemming: bool = False, geschikt: bool = False,
               swv: Organisation | None = None) -> dict:
    """A valid payload for this event on this case."""
    if event == "neem_in_behandeling":
        return {"deskundige_id": demo.arts.id,
                "motivering_te_laat": ("Ouders waren lang in het buitenland."
                                       if case.data.get("te_laat") else None)}
    if event == "verklaar_niet_ontvankelijk":
        return {"reden": "De naam van de school ontbreekt."}
    if event == "vul_aan":
        return {"aanvulling": "De school is Basisschool De Voorbeeld."}
    if event == "vraag_advies":
        return {"swv_id": (swv or demo.swv_regio).id, "toestemming": toestemming,
                "toestemming_door": toestemming_door(case.child), "samenvatting": SAMENVATTING}
    if event == "breng_advies_uit":
        return {"advies": "Een onderwijszorgarrangement of digitaal afstandsonderwijs.",
                "soort": "persoonlijk" if case.toestemming else "algemeen",
                "mogelijkheden": ["Onderwijszorgarrangement De Brug", "Digitaal afstandsonderwijs"]}
    if event == "geef_verklaring":
        return verklaring_data(geschikt)
    if event == "start_herbeoordeling":
        return {}
    if event == "beeindig":
        if case.ingangsdatum is None and case.state != "geen_vrijstelling":
            return {"reden": "verhuisd"}  # no exemption ran: the procedure stops
        return {"reden": "ingeschreven_op_school", "deskundige_akkoord": True}
    if event == "trek_in":
        return {"reden": "Wij hebben toch een school gevonden."}
    if event == "dien_in":
        return dien_in_data(case.child)
    if event == "zie_af":
        return {"toelichting": "Het gaat beter; ze gaat weer naar school."}
    if event in ("sluit_niet_aangevuld", "herinner_verlenging"):
        return {}
    if event == "importeer":  # never on an existing case; the import command opens with it
        return {"child_id": case.child_id, "begindatum": today().isoformat()}
    if event == "vraag_ander_swv":
        other = demo.swv_buur if case.swv_id == demo.swv_regio.id else demo.swv_regio
        return {"swv_id": (swv or other).id, "toestemming": bool(case.toestemming),
                "toestemming_door": "ouder", "samenvatting": SAMENVATTING,
                "reden": "Het eerste samenwerkingsverband gaf geen advies voor de termijn."}
    raise KeyError(event)


# ------------------------------------------------------------------ cases

def make_case(demo, state: str = "kennisgeving_ontvangen", *, child: Child | None = None,
              toestemming: bool = False, te_laat: bool = False, swv: Organisation | None = None,
              filed_by: User | None = None, ontvangen_op: date | None = None) -> Case:
    """A vrijstelling case in `state`, reached by firing the real events and committing each.

    geef_verklaring follows the state: `geen_vrijstelling` is fit, every other path not fit.
    ontvangen_op: filed on paper by the LPA, received that day (an exemption cannot start before it).
    """
    child = child or demo.sam
    schooljaar = late_schooljaar() if te_laat else on_time_schooljaar()
    extra = {}
    if ontvangen_op is not None:  # a paper kennisgeving the LPA received on that day
        extra, filed_by = {"ontvangen_op": ontvangen_op.isoformat()}, filed_by or demo.lpa
    case = open_case(filed_by or demo.ouder1, CASE_TYPE, dien_in_data(child, schooljaar, **extra))
    commit()
    for event in PATHS[state]:
        data = event_data(demo, case, event, toestemming=toestemming, swv=swv,
                          geschikt=(state == "geen_vrijstelling"))
        fire(case, event, actor=event_actor(demo, case, event), data=data)
        commit()
    assert case.state == state
    return case


def fire_and_commit(demo, case: Case, event: str, actor: User | None = None, **kwargs) -> Case:
    data = kwargs.pop("data", None)
    if data is None:
        data = event_data(demo, case, event, **kwargs)
    fire(case, event, actor=actor or event_actor(demo, case, event), data=data)
    commit()
    return case


# ------------------------------------------------------------------ counting

def audit_rows(case_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)))


def audit_count(case_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.case_id == case_id))


def letters_of(case_id: int) -> list[Letter]:
    return list(db.session.scalars(select(Letter).where(Letter.case_id == case_id).order_by(Letter.id)))


def letter_count(case_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Letter).where(Letter.case_id == case_id))


def stored_case(case_id: int) -> tuple:
    """(state, version) as the database holds them, not the session's copy."""
    row = db.session.execute(select(Case.state, Case.version).where(Case.id == case_id)).one()
    return tuple(row)


# ------------------------------------------------------------------ own app

@contextmanager
def own_app(tmp_dir, database_url: str | None = None, **overrides):
    """A migrated app with demo data on its own database, for tests that really commit.

    The letter queue (casework.extensions.queue) is process-wide: init_app points it at the
    newest app and swaps its storage, so the session-wide test app's queue is put back after.
    """
    from conftest import make_app

    saved = (queue.huey.storage, queue.huey.immediate, queue.app)
    try:
        app = make_app(tmp_dir, database_url, **overrides)
        try:
            yield app
        finally:
            db.state(app).engine.dispose()
    finally:
        queue.huey.storage, queue.huey.immediate, queue.app = saved


def days(n: int) -> timedelta:
    return timedelta(days=n)
