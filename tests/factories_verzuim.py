"""Verzuim test factories: pupils of an exact age on an exact day, and verzuim cases in an
explicit state, reached by firing the real events (domain.md, workflow 2).

No random data. fire() computes ages on date.today(), so birth dates are derived from today:
`born_for_age(12)` is a pupil whose 12th birthday is today, `born_for_age(12, birthday_in=1)`
one who turns 12 tomorrow (11 years and 364 days old today). Every event goes through
open_case()/fire() and is committed like a request would (inside a test that is a savepoint).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from casework.extensions import db
from casework.models import AuditEvent, Case, Child, Letter, Organisation, User
from casework.services.cases import commit, fire, open_case
from casework.workflows.base import add_months

CASE_TYPE = "verzuim"

# The path from the opening event to every state, with the route each kies_route takes.
PATHS: dict[str, tuple[str, ...]] = {
    "ontvangen": (),
    "in_onderzoek": ("start_onderzoek",),
    "vrijwillige_hulp": ("start_onderzoek", "kies_route:vrijwillige_hulp"),
    "halt": ("start_onderzoek", "kies_route:halt"),
    "verplicht_kader": ("start_onderzoek", "kies_route:verplicht_kader"),
    "proces_verbaal": ("start_onderzoek", "kies_route:proces_verbaal"),
    "monitoring": ("start_onderzoek", "kies_route:vrijwillige_hulp", "start_monitoring"),
    "afgesloten": ("start_onderzoek", "sluit_af"),
}
# The states a signaal can reach: every heavier route needs a melding first.
SIGNAAL_STATES = ("ontvangen", "in_onderzoek", "vrijwillige_hulp", "monitoring", "afgesloten")

OMSCHRIJVING = "Komt de laatste weken vaak niet opdagen in de eerste twee uur."
VERZUIMBELEID_SITUATIE = "Structureel te laat in het eerste lesuur (verzuimbeleid, situatie 2)."
OORZAAK = "Jongere blijft 's ochtends liever in bed; thuis geen toezicht in de ochtend."


def today() -> date:
    return date.today()


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)


def days_ahead(n: int) -> date:
    return today() + timedelta(days=n)


# ------------------------------------------------------------------ pupils

def born_for_age(years: int, *, on: date | None = None, birthday_in: int = 0) -> date:
    """A birth date whose `years`-th birthday falls `birthday_in` days after `on` (default today).

    birthday_in=0: exactly `years` old on that day; birthday_in=1: one day short of it.
    """
    on = on or today()
    return add_months(on, -12 * years) + timedelta(days=birthday_in)


def _next_bsn() -> str:
    """A fixed series of test BSNs (9 digits), following the number of children already there."""
    count = db.session.scalar(select(func.count()).select_from(Child))
    return f"{800000000 + count + 1:09d}"


def make_pupil(demo, geboortedatum: date, voornaam: str = "Testleerling", *,
               school: Organisation | None = None, gemeente: Organisation | None = None,
               parent: User | None = None, bsn: str | None = None) -> Child:
    """A pupil of Basisschool De Voorbeeld in Voorbeeldstad, child of ouder1, unless told otherwise."""
    school = school or db.session.get(Organisation, demo.sam.school_id)
    gemeente = gemeente or db.session.get(Organisation, school.gemeente_id)
    child = Child(bsn=bsn or _next_bsn(), voornaam=voornaam, achternaam="Verzuimtest",
                  geboortedatum=geboortedatum, geslacht="X", adres="Schoolstraat 3",
                  postcode_plaats=f"1234 ZZ {gemeente.naam.removeprefix('Gemeente ')}",
                  gemeente_id=gemeente.id, school_id=school.id)
    child.parents.append(parent or demo.ouder1)
    db.session.add(child)
    commit()
    return child


def make_pupil_aged(demo, years: int, *, birthday_in: int = 0, **kwargs) -> Child:
    return make_pupil(demo, born_for_age(years, birthday_in=birthday_in), **kwargs)


# ------------------------------------------------------------------ payloads

def signaal_data(child: Child, **extra) -> dict:
    """Always late for the first lesson: 10 hours and 14 times late, under the 16-hour threshold."""
    return {"type": CASE_TYPE, "child_id": child.id, "soort": "signaal", "verzuimsoort": None,
            "uren": 10, "keer_te_laat": 14, "periode_start": days_ago(20).isoformat(),
            "periode_eind": days_ago(1).isoformat(), "omschrijving": OMSCHRIJVING,
            "verzuimbeleid_situatie": VERZUIMBELEID_SITUATIE, **extra}


def melding_data(child: Child, verzuimsoort: str = "16_uur_4_weken", uren: int = 18,
                 **extra) -> dict:
    """18 hours of ongeoorloofd verzuim in the last three weeks."""
    return {"type": CASE_TYPE, "child_id": child.id, "soort": "melding",
            "verzuimsoort": verzuimsoort, "uren": uren, "periode_start": days_ago(20).isoformat(),
            "periode_eind": days_ago(1).isoformat(), "omschrijving": OMSCHRIJVING, **extra}


def onderzoek_data(**extra) -> dict:
    return {"gesprek_gepland_op": days_ahead(7).isoformat(), "gesprek_tijd": "10:00",
            "gesprek_plaats": "Stadskantoor", **extra}


# Per route: what the LPA records so that the product proposes exactly that route (mas.md).
_ROUTE_FACTS = {
    "vrijwillige_hulp": {"oorzaak_categorie": "thuissituatie"},
    "halt": {"oorzaak_categorie": "eigen_initiatief", "toestemming_halt": True},
    "verplicht_kader": {"oorzaak_categorie": "onbekend", "eerdere_hulp_niet_op_gang": True,
                        "ontwikkeling_in_gevaar": True},
    "proces_verbaal": {"oorzaak_categorie": "onbekend", "eerdere_routes_mislukt": True,
                       "tegen": "ouders"},
}


def kies_route_data(route: str, **extra) -> dict:
    return {"route": route, "oorzaak": OORZAAK, "gesprek_gevoerd_op": today().isoformat(),
            "afspraken": "Elke ochtend om 8.15 uur op school; over zes weken evalueren.",
            **_ROUTE_FACTS[route], **extra}


def verwijs_door_data(route: str, **extra) -> dict:
    data = {"route": route, "motivering": "De afspraken werden niet nagekomen.",
            "toestemming_halt": route == "halt"}
    if route == "proces_verbaal":
        data["tegen"] = "ouders"
    return data | extra


def escaleer_data(uren: int = 18, verzuimsoort: str = "16_uur_4_weken", **extra) -> dict:
    return {"verzuimsoort": verzuimsoort, "uren": uren, "periode_start": days_ago(20).isoformat(),
            "periode_eind": days_ago(1).isoformat(), **extra}


def event_data(demo, case: Case, event: str) -> dict:
    """A valid payload for this event (`kies_route:halt` names the route) on this case."""
    name, _, route = event.partition(":")
    if name == "dien_in":
        return (signaal_data if case.data.get("soort") == "signaal" else melding_data)(case.child)
    if name == "start_onderzoek":
        return onderzoek_data()
    if name == "neem_ter_kennisgeving_aan":
        return {"reden": "Het verzuim is al gestopt; de school volgt het zelf."}
    if name == "draag_over":
        other = demo.buurdorp if case.gemeente_id == demo.voorbeeldstad.id else demo.voorbeeldstad
        return {"gemeente_id": other.id}
    if name == "trek_in":
        return {"reden": "Per ongeluk dubbel ingediend."}
    if name == "escaleer_naar_melding":
        return escaleer_data()
    if name == "kies_route":
        return kies_route_data(route)
    if name == "verwijs_door":
        return verwijs_door_data(route)
    if name == "hervat_route":  # the absence came back during monitoring
        return verwijs_door_data(route, motivering="Sinds de monitoring mist de leerling weer lessen.")
    if name == "start_monitoring":
        return {"uitkomst": "hulp_gestart", "monitoren_tot": days_ahead(60).isoformat()}
    if name == "sluit_af":
        return {"resultaat": "verzuim_gestopt"}
    raise KeyError(event)


def lpa_for(demo, case: Case) -> User:
    return demo.lpa if case.gemeente_id == demo.voorbeeldstad.id else demo.lpa_buurdorp


def school_user_for(demo, case: Case) -> User:
    return demo.school if case.school_id == demo.sam.school_id else demo.school_college


def event_actor(demo, case: Case, event: str) -> User:
    """A user with the role and relation to fire this event on this case (the school's events
    by the school that submitted it, the rest by the LPA of the case's gemeente)."""
    name = event.partition(":")[0]
    if name in ("dien_in", "trek_in", "escaleer_naar_melding"):
        return school_user_for(demo, case)
    return lpa_for(demo, case)


# ------------------------------------------------------------------ cases

def open_verzuim(demo, child: Child, soort: str = "melding", *, by: User | None = None,
                 **extra) -> Case:
    data = signaal_data(child, **extra) if soort == "signaal" else melding_data(child, **extra)
    case = open_case(by or demo.school, CASE_TYPE, data)
    commit()
    return case


def fire_and_commit(demo, case: Case, event: str, data: dict | None = None,
                    actor: User | None = None) -> Case:
    name = event.partition(":")[0]
    fire(case, name, actor=actor or event_actor(demo, case, event),
         data=event_data(demo, case, event) if data is None else data)
    commit()
    return case


def make_verzuim_case(demo, state: str = "ontvangen", *, soort: str = "melding",
                      child: Child | None = None, by: User | None = None, **dien_in) -> Case:
    """A verzuim case in `state`, reached by firing the real events and committing each.

    The pupil defaults to a new 14-year-old of Basisschool De Voorbeeld (Voorbeeldstad), filed by
    that school; the route states are reached with facts that make the proposal that route.
    """
    if soort == "signaal" and state not in SIGNAAL_STATES:
        raise ValueError(f"a signaal cannot reach {state}: that route needs a melding")
    child = child or make_pupil_aged(demo, 14, voornaam="Jesse")
    case = open_verzuim(demo, child, soort, by=by or _school_of(demo, child), **dien_in)
    for event in PATHS[state]:
        fire_and_commit(demo, case, event)
    assert case.state == state
    return case


def _school_of(demo, child: Child) -> User:
    return demo.school if child.school_id == demo.sam.school_id else demo.school_college


# ------------------------------------------------------------------ reading back

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


def stored_data(case_id: int) -> dict:
    return db.session.scalar(select(Case.data).where(Case.id == case_id))
