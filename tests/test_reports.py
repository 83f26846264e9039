"""Reports: the leerplichttelling and the SWV's regional view, counted against hand-built data.

Cases are built by firing the real events. Dates in the past come from a clock: for the events
of one step, the services' "today" and "now" (services.cases._today / utcnow, services.audit's
utcnow, which stamps the append-only audit rows) and the factories' today() are set to a given
Dutch local date and time, so every guard, case field and audit row is what it would have been
on that day. Nothing is written around the services.
"""
from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import Date, literal, select
from sqlalchemy import event as sa_event

import factories
import factories_verzuim
from casework import policy
from casework.extensions import db
from casework.formatting import TIJDZONE
from casework.models import AuditEvent, Case, Organisation
from casework.models.case import REPORT_FACTS, report_facts
from casework.services import audit as audit_service
from casework.services import cases as case_service
from casework.services.cases import commit, fire, open_case
from casework.services.errors import ValidationFailed
from casework.services.reports import (
    date_plus, duur_band, leerplichttelling, parse_schooljaar, quarters_between, swv_overzicht,
)
from casework.services.suppression import SUPPRESSED, primary, recomputable, suppress_table
from casework.services.tabular import XLSX_MIMETYPE
from casework.views.charts import bar_chart, line_chart
from casework.workflows.base import add_months
from conftest import web_signed_in
from factories import dien_in_data, make_user, verklaring_data
from factories_verzuim import (
    escaleer_data, kies_route_data, make_pupil, open_verzuim, verwijs_door_data,
)

V5A = "vrijstelling_5a"
YEAR = "2024-2025"  # 1 August 2024 - 31 July 2025: a school year that has ended
LPA = "leerplicht@voorbeeldstad.test"
LPA_BUURDORP = "leerplicht@buurdorp.test"
BEHEER = "beheer@voorbeeldstad.test"
SWV = "adviseur@swv-voorbeeldregio.test"
SWV_BUUR = "adviseur@swv-naburig.test"
ARTS = "jeugdarts@ggd-voorbeeld.test"
OUDER1 = "ouder1@voorbeeld.test"
SCHOOL = "school@devoorbeeld.test"


# ------------------------------------------------------------------ the clock


class Clock:
    """Fire the next events on a Dutch local date and time (10:00 unless told otherwise)."""

    def __init__(self, monkeypatch) -> None:
        self.mp = monkeypatch

    def set(self, day: date, hour: int = 10, minute: int = 0) -> None:
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=TIJDZONE)
        utc = local.astimezone(UTC).replace(tzinfo=None)
        self.mp.setattr(case_service, "_today", lambda: day)
        self.mp.setattr(case_service, "utcnow", lambda: utc)
        self.mp.setattr(audit_service, "utcnow", lambda: utc)
        self.mp.setattr(factories, "today", lambda: day)
        self.mp.setattr(factories_verzuim, "today", lambda: day)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def d(text: str) -> date:
    return date.fromisoformat(text)


# ------------------------------------------------------------------ building cases


def lpa_of(demo, gemeente_id: int):
    return demo.lpa if gemeente_id == demo.voorbeeldstad.id else demo.lpa_buurdorp


def pupil(demo, *, gemeente=None, geboortedatum: date = date(2012, 5, 5)):
    """A new pupil in Voorbeeldstad (Basisschool De Voorbeeld) or at Voorbeeld College (Buurdorp)."""
    school = None
    if gemeente is not None and gemeente.id == demo.buurdorp.id:
        school = db.session.get(Organisation, demo.noor.school_id)
    return make_pupil(demo, geboortedatum, school=school)


def verklaar(demo, case: Case, *, geschikt: bool = False, ingang: date | None = None,
             eind: date | None = None) -> None:
    extra = {}
    if not geschikt:
        herbeoordeling = add_months(ingang, 6)
        if eind is not None:
            herbeoordeling = min(herbeoordeling, eind)
        extra = {"ingangsdatum": ingang.isoformat(), "einddatum": eind.isoformat() if eind else None,
                 "herbeoordelingsdatum": herbeoordeling.isoformat()}
    fire(case, "geef_verklaring", actor=demo.arts, data=verklaring_data(geschikt, **extra))
    commit()


def ask_advice(demo, case: Case) -> None:
    for event in ("vraag_advies", "breng_advies_uit"):
        fire(case, event, actor=factories.event_actor(demo, case, event),
             data=factories.event_data(demo, case, event))
        commit()


def exemption(demo, clock, on: date, *, ingang: date | None = None, eind: date | None = None,
              geschikt: bool = False, hour: int = 10, minute: int = 0, gemeente=None) -> Case:
    """A kennisgeving handled all the way to a verklaring on `on` (at hour:minute)."""
    clock.set(on, hour, minute)
    child = pupil(demo, gemeente=gemeente)
    case = open_case(demo.ouder1, V5A, dien_in_data(child))
    commit()
    fire(case, "neem_in_behandeling", actor=lpa_of(demo, case.gemeente_id),
         data={"deskundige_id": demo.arts.id})
    commit()
    ask_advice(demo, case)
    verklaar(demo, case, geschikt=geschikt, ingang=ingang or on, eind=eind)
    return case


def herbeoordeel(demo, clock, case: Case, on: date, *, uitkomst: tuple | None = None) -> None:
    """Start a herbeoordeling on `on`; uitkomst (day, geschikt, ingang, eind) gives its verklaring."""
    clock.set(on)
    fire(case, "start_herbeoordeling", actor=lpa_of(demo, case.gemeente_id), data={})
    commit()
    if uitkomst:
        day, geschikt, ingang, eind = uitkomst
        clock.set(day)
        ask_advice(demo, case)
        verklaar(demo, case, geschikt=geschikt, ingang=ingang, eind=eind)


def beeindig(demo, clock, case: Case, on: date, reden: str, *, hour: int = 10, minute: int = 0):
    clock.set(on, hour, minute)
    actor = None if reden == "verlopen" else lpa_of(demo, case.gemeente_id)  # the scheduler
    data = {"reden": reden, "deskundige_akkoord": reden == "ingeschreven_op_school"}
    fire(case, "beeindig", actor=actor, data=data)
    commit()


def melding(demo, clock, on: date, verzuimsoort: str = "16_uur_4_weken", *, hour: int = 10,
            minute: int = 0, periode_start: date | None = None, child=None, gemeente=None,
            by=None) -> Case:
    clock.set(on, hour, minute)
    child = child or pupil(demo, gemeente=gemeente)
    extra = {"verzuimsoort": verzuimsoort}
    if periode_start is not None:
        extra.update(periode_start=periode_start.isoformat(), periode_eind=(on - timedelta(days=1)).isoformat())
    return open_verzuim(demo, child, "melding", by=by or school_of(demo, child), **extra)


def signaal(demo, clock, on: date, *, child=None, gemeente=None, by=None) -> Case:
    clock.set(on)
    child = child or pupil(demo, gemeente=gemeente)
    return open_verzuim(demo, child, "signaal", by=by or school_of(demo, child))


def school_of(demo, child):
    return demo.school if child.school_id == demo.sam.school_id else demo.school_college


def step(demo, clock, case: Case, on: date, event: str, data: dict | None = None) -> None:
    clock.set(on)
    factories_verzuim.fire_and_commit(demo, case, event, data=data)


def route(demo, clock, on: date, chosen: str, *, child=None, **extra) -> Case:
    """A melding received on `on`, investigated and put on a route the same day."""
    case = melding(demo, clock, on, child=child)
    step(demo, clock, case, on, "start_onderzoek")
    step(demo, clock, case, on, f"kies_route:{chosen}", kies_route_data(chosen, **extra))
    return case


# ------------------------------------------------------------------ periods and bands


def test_schooljaar_runs_from_1_august_to_31_july():
    year = parse_schooljaar("2024-2025")
    assert (year.start, year.end) == (date(2024, 8, 1), date(2025, 7, 31))
    # Local midnight in summer time is 22:00 UTC the evening before.
    assert year.utc_start == datetime(2024, 7, 31, 22, 0)
    assert year.utc_end == datetime(2025, 7, 31, 22, 0)
    for bad in ("2024-2026", "2024", "24-25", "", None):
        with pytest.raises(ValidationFailed):
            parse_schooljaar(bad)


def test_quarters_are_calendar_quarters_clipped_to_the_range():
    quarters = quarters_between(date(2025, 2, 15), date(2025, 8, 10))
    assert [(q.code, q.start, q.end) for q in quarters] == [
        ("2025-K1", date(2025, 2, 15), date(2025, 3, 31)),
        ("2025-K2", date(2025, 4, 1), date(2025, 6, 30)),
        ("2025-K3", date(2025, 7, 1), date(2025, 8, 10)),
    ]


@pytest.mark.parametrize(("ingang", "eind", "band"), [
    ("2024-08-01", "2025-01-30", "korter_dan_6_maanden"),  # one day short of 6 months
    ("2024-08-01", "2025-01-31", "6_tot_12_maanden"),      # exactly 6 months, einddatum included
    ("2024-08-01", "2025-07-31", "6_tot_12_maanden"),      # exactly one school year
    ("2024-08-01", "2025-08-01", "12_tot_24_maanden"),     # one day more
    ("2024-08-01", "2026-07-31", "12_tot_24_maanden"),     # exactly 24 months
    ("2024-08-01", "2026-08-01", "langer_dan_24_maanden"),
    ("2024-08-01", None, "hele_leerplicht"),
])
def test_duration_bands(ingang, eind, band):
    assert duur_band(d(ingang), d(eind) if eind else None) == band
    assert duur_band(None, None) == "onbekend"


# ------------------------------------------------------------------ vrijstellingen


@pytest.fixture
def exemptions(demo, clock):
    """Voorbeeldstad's exemptions around school year 2024-2025, and one in Buurdorp."""
    c = {}
    c["kort"] = exemption(demo, clock, d("2024-09-10"), eind=d("2025-02-28"))
    beeindig(demo, clock, c["kort"], d("2025-03-01"), "verlopen")
    c["eind_31_juli"] = exemption(demo, clock, d("2024-10-01"), eind=d("2025-07-31"))
    c["eind_30_juli"] = exemption(demo, clock, d("2024-10-01"), eind=d("2025-07-30"))
    c["jaar"] = exemption(demo, clock, d("2024-08-15"), eind=d("2025-08-14"))
    c["hele_leerplicht"] = exemption(demo, clock, d("2025-01-06"))
    c["twee_jaar"] = exemption(demo, clock, d("2025-03-01"), eind=d("2027-02-28"))
    c["langer"] = exemption(demo, clock, d("2025-03-01"), eind=d("2027-03-01"))
    # 31 July 23:30 in Amsterdam is 21:30 UTC: still this school year; 1 August 00:30 is not.
    c["laatste_avond"] = exemption(demo, clock, d("2025-07-31"), eind=d("2025-12-31"), hour=23, minute=30)
    c["eerste_nacht"] = exemption(demo, clock, d("2025-08-01"), eind=d("2026-07-31"), hour=0, minute=30)
    # Granted the year before; re-assessed in the year and exempted again.
    c["opnieuw"] = exemption(demo, clock, d("2023-11-01"))
    herbeoordeel(demo, clock, c["opnieuw"], d("2024-10-15"),
                 uitkomst=(d("2024-11-20"), False, d("2024-11-20"), None))
    # Granted the year before; re-assessment still running at the end of the year.
    c["loopt"] = exemption(demo, clock, d("2023-09-01"))
    herbeoordeel(demo, clock, c["loopt"], d("2025-05-01"))
    # Granted in the year, re-assessed: fit after all.
    c["geschikt_na_herb"] = exemption(demo, clock, d("2024-09-01"))
    herbeoordeel(demo, clock, c["geschikt_na_herb"], d("2025-02-01"),
                 uitkomst=(d("2025-03-01"), True, None, None))
    # Ended on the last evening of the year vs in the first night of the next.
    c["einde_31_juli"] = exemption(demo, clock, d("2023-10-01"))
    beeindig(demo, clock, c["einde_31_juli"], d("2025-07-31"), "ingeschreven_op_school", hour=23)
    c["einde_1_aug"] = exemption(demo, clock, d("2023-10-01"))
    beeindig(demo, clock, c["einde_1_aug"], d("2025-08-01"), "verhuisd", hour=0, minute=30)
    # Fit at once: no exemption, so neither new nor ended.
    c["geen"] = exemption(demo, clock, d("2024-09-05"), geschikt=True)
    beeindig(demo, clock, c["geen"], d("2024-12-01"), "ingeschreven_op_school")
    # Another gemeente.
    c["buurdorp"] = exemption(demo, clock, d("2024-10-01"), gemeente=demo.buurdorp)
    return c


def test_vrijstellingen_counts(demo, exemptions):
    v = leerplichttelling(demo.voorbeeldstad.id, YEAR)["vrijstellingen"]
    # kort, eind_31_juli, eind_30_juli, jaar, hele_leerplicht, twee_jaar, langer, laatste_avond,
    # the second verklaring of opnieuw, and geschikt_na_herb's first verklaring.
    assert v["nieuw"] == 10
    assert v["waarvan_na_herbeoordeling"] == 1
    assert v["per_duur"] == {
        "korter_dan_6_maanden": 2,    # kort, laatste_avond
        # eind_31_juli, eind_30_juli, jaar (exactly 12 months), and geschikt_na_herb: found fit
        # at its herbeoordeling, its exemption ran from 1 September 2024 to that verklaring
        "6_tot_12_maanden": 4,
        "12_tot_24_maanden": 1,       # twee_jaar (exactly 24 months)
        "langer_dan_24_maanden": 1,   # langer
        "hele_leerplicht": 2,         # hele_leerplicht, opnieuw's new period
        "onbekend": 0,                # the period that ran is never lost
    }
    assert sum(v["per_duur"].values()) == v["nieuw"]


def test_running_on_the_peildatum(demo, exemptions):
    telling = leerplichttelling(demo.voorbeeldstad.id, YEAR)
    assert telling["peildatum"] == date(2025, 7, 31)
    # eind_31_juli (ends on the day), jaar, hele_leerplicht, twee_jaar, langer, laatste_avond
    # (starts on the day), opnieuw, loopt (in herbeoordeling) and einde_1_aug (ended after the day).
    # Not: kort (ended), eind_30_juli, eerste_nacht (starts 1 Aug), geschikt_na_herb,
    # einde_31_juli (ended on the day), geen, buurdorp.
    assert telling["vrijstellingen"]["lopend_op_peildatum"] == 9
    earlier = leerplichttelling(demo.voorbeeldstad.id, YEAR, d("2025-07-30"))
    # On 30 July: also eind_30_juli and einde_31_juli; laatste_avond has not started.
    assert earlier["vrijstellingen"]["lopend_op_peildatum"] == 10


def test_ended_by_reason_and_herbeoordelingen(demo, exemptions):
    v = leerplichttelling(demo.voorbeeldstad.id, YEAR)["vrijstellingen"]
    assert v["beeindigd"] == {"totaal": 2, "per_reden": {
        "verlopen": 1, "ingeschreven_op_school": 1, "verhuisd": 0, "einde_leerplicht": 0, "anders": 0}}
    assert v["herbeoordelingen"] == {"gestart": 3, "uitkomst": {
        "opnieuw_vrijgesteld": 1, "geen_vrijstelling": 1, "beeindigd": 0, "ingetrokken": 0,
        "loopt_nog": 1}}
    # With the peildatum before the second verklaring, that re-assessment was still running.
    early = leerplichttelling(demo.voorbeeldstad.id, YEAR, d("2024-11-19"))
    assert early["vrijstellingen"]["herbeoordelingen"]["uitkomst"]["loopt_nog"] == 3


def test_the_next_school_year_gets_what_happened_after_31_july(demo, exemptions):
    v = leerplichttelling(demo.voorbeeldstad.id, "2025-2026", d("2025-08-02"))["vrijstellingen"]
    assert v["nieuw"] == 1  # eerste_nacht
    assert v["beeindigd"]["per_reden"]["verhuisd"] == 1  # einde_1_aug
    assert v["beeindigd"]["totaal"] == 1


def test_another_gemeente_counts_only_its_own(demo, exemptions):
    v = leerplichttelling(demo.buurdorp.id, YEAR)["vrijstellingen"]
    assert (v["nieuw"], v["lopend_op_peildatum"]) == (1, 1)


def test_audit_rows_carry_the_clock(demo, exemptions):
    """The data set really lies in the past: the audit rows say when (in UTC)."""
    at = db.session.scalar(select(AuditEvent.at).where(
        AuditEvent.case_id == exemptions["laatste_avond"].id, AuditEvent.event == "geef_verklaring"))
    assert at == datetime(2025, 7, 31, 21, 30)


# ------------------------------------------------------------------ verzuim: intake


@pytest.fixture
def intake(demo, clock):
    c = {}
    c["m1"] = melding(demo, clock, d("2024-09-02"))
    c["m2"] = melding(demo, clock, d("2024-10-07"))
    c["m3"] = melding(demo, clock, d("2025-07-31"), hour=23, minute=30)  # last evening: in the year
    c["m4"] = melding(demo, clock, d("2025-08-01"), hour=0, minute=30)   # first night: next year
    c["luxe"] = melding(demo, clock, d("2025-01-10"), "luxe")
    # Thuiszitters on 31 July 2025 (4 weeks = since 3 July; more than 3 months = before 30 April).
    c["t_lang"] = melding(demo, clock, d("2025-03-03"), "langdurig_relatief", periode_start=d("2025-01-06"))
    c["t_kort"] = melding(demo, clock, d("2025-06-02"), "langdurig_relatief", periode_start=d("2025-05-05"))
    c["t_28_dagen"] = melding(demo, clock, d("2025-07-25"), "langdurig_relatief", periode_start=d("2025-07-03"))
    c["t_27_dagen"] = melding(demo, clock, d("2025-07-25"), "langdurig_relatief", periode_start=d("2025-07-04"))
    c["t_3_maanden"] = melding(demo, clock, d("2025-05-30"), "langdurig_relatief", periode_start=d("2025-04-30"))
    c["t_dicht"] = melding(demo, clock, d("2025-02-03"), "langdurig_relatief", periode_start=d("2025-01-06"))
    step(demo, clock, c["t_dicht"], d("2025-02-04"), "start_onderzoek")
    step(demo, clock, c["t_dicht"], d("2025-06-01"), "sluit_af")
    c["t_later_dicht"] = melding(demo, clock, d("2025-02-03"), "langdurig_relatief", periode_start=d("2025-01-06"))
    step(demo, clock, c["t_later_dicht"], d("2025-02-04"), "start_onderzoek")
    step(demo, clock, c["t_later_dicht"], d("2025-08-05"), "sluit_af")
    # Signalen: converted in the year; not converted; from the year before, converted in this one;
    # converted only after the year.
    c["s1"] = signaal(demo, clock, d("2024-11-04"))
    step(demo, clock, c["s1"], d("2024-12-02"), "escaleer_naar_melding")
    c["s2"] = signaal(demo, clock, d("2025-05-05"))
    c["s3"] = signaal(demo, clock, d("2024-06-03"))
    step(demo, clock, c["s3"], d("2024-09-09"), "escaleer_naar_melding",
         escaleer_data(verzuimsoort="langdurig_relatief", periode_start="2024-08-12",
                       periode_eind="2024-09-08"))
    c["s4"] = signaal(demo, clock, d("2025-07-01"))
    step(demo, clock, c["s4"], d("2025-08-10"), "escaleer_naar_melding")
    c["buurdorp"] = melding(demo, clock, d("2024-10-07"), gemeente=demo.buurdorp)
    # Sent twice by mistake and withdrawn by the school: not a melding to count.
    c["dubbel"] = melding(demo, clock, d("2024-10-07"))
    step(demo, clock, c["dubbel"], d("2024-10-08"), "trek_in")
    return c


def test_meldingen_by_verzuimsoort(demo, intake):
    m = leerplichttelling(demo.voorbeeldstad.id, YEAR)["verzuim"]["meldingen"]
    assert m["direct"] == {"totaal": 11, "per_verzuimsoort": {
        "16_uur_4_weken": 3,       # m1, m2, m3 (not m4)
        "langdurig_relatief": 7,   # t_lang, t_kort, t_28_dagen, t_27_dagen, t_3_maanden, t_dicht, t_later_dicht
        "luxe": 1, "overig": 0}}
    assert m["uit_signaal"] == {"totaal": 2, "per_verzuimsoort": {
        "16_uur_4_weken": 1,       # s1
        "langdurig_relatief": 1,   # s3: received the year before, a melding in this one
        "luxe": 0, "overig": 0}}
    assert m["totaal"] == 13
    assert m["per_verzuimsoort"]["16_uur_4_weken"] == 4


def test_signalen_and_how_many_became_a_melding(demo, intake):
    s = leerplichttelling(demo.voorbeeldstad.id, YEAR)["verzuim"]["signalen"]
    assert s == {"ontvangen": 3, "omgezet_in_melding": 1}  # s1, s2, s4; s1 converted (s4 after 31 July)
    later = leerplichttelling(demo.voorbeeldstad.id, YEAR, d("2025-08-10"))["verzuim"]["signalen"]
    assert later == {"ontvangen": 3, "omgezet_in_melding": 2}


def test_thuiszitters_on_the_peildatum_and_during_the_year(demo, intake):
    t = leerplichttelling(demo.voorbeeldstad.id, YEAR)["verzuim"]["thuiszitters"]
    # 4 weeks or more on 31 July: t_lang, t_kort, t_28_dagen (exactly 28 days), t_3_maanden,
    # t_later_dicht (closed after the day), s3 (a langdurig melding since 12 August 2024). Not
    # t_27_dagen, not t_dicht. More than 3 months: t_lang, t_later_dicht, s3 and t_3_maanden
    # (since 30 April: 3 months on 30 July, more on the 31st).
    assert (t["vier_weken_of_langer"], t["langer_dan_drie_maanden"]) == (6, 4)
    # During the school year also t_dicht (a thuiszitter from February until it closed on 1 June).
    assert t["gedurende_schooljaar"] == {"vier_weken_of_langer": 7, "langer_dan_drie_maanden": 5}
    # On 1 June t_dicht closes, t_kort and the July meldingen have not come in yet; t_3_maanden
    # (since 30 April) is 4 weeks or more but not more than 3 months.
    t = leerplichttelling(demo.voorbeeldstad.id, YEAR, d("2025-06-01"))["verzuim"]["thuiszitters"]
    assert (t["vier_weken_of_langer"], t["langer_dan_drie_maanden"]) == (4, 3)
    assert t["gedurende_schooljaar"] == {"vier_weken_of_langer": 5, "langer_dan_drie_maanden": 4}
    # 30 July: t_3_maanden has been away exactly 3 months, not more.
    t = leerplichttelling(demo.voorbeeldstad.id, YEAR, d("2025-07-30"))["verzuim"]["thuiszitters"]
    assert t["langer_dan_drie_maanden"] == 3


def test_a_pupil_with_two_meldingen_is_one_thuiszitter(demo, clock):
    child = pupil(demo)
    melding(demo, clock, d("2025-03-03"), "langdurig_relatief", periode_start=d("2025-01-06"),
            child=child)
    melding(demo, clock, d("2025-03-04"), "langdurig_relatief", periode_start=d("2025-01-06"),
            child=child, by=demo.lpa)
    t = leerplichttelling(demo.voorbeeldstad.id, YEAR)["verzuim"]["thuiszitters"]
    assert (t["vier_weken_of_langer"], t["gedurende_schooljaar"]["vier_weken_of_langer"]) == (1, 1)
    assert leerplichttelling(demo.voorbeeldstad.id, YEAR)["verzuim"]["meldingen"]["totaal"] == 2


@pytest.mark.parametrize(("start", "months", "days", "expected"), [
    ("2025-11-30", 3, 0, "2026-02-28"),  # the month's end, as add_months() counts
    ("2024-11-30", 3, 1, "2025-03-01"),
    ("2023-11-30", 3, 0, "2024-02-29"),  # leap year
    ("2025-01-31", 1, 0, "2025-02-28"),
    ("2025-04-30", 3, 1, "2025-07-31"),
    ("2025-07-03", 0, 28, "2025-07-31"),
    ("2025-12-20", 0, 28, "2026-01-17"),
])
def test_date_plus_counts_months_like_add_months_on_both_databases(start, months, days, expected):
    got = db.session.scalar(select(date_plus(literal(d(start), Date()), months=months, days=days)))
    assert got == d(expected)
    assert add_months(d(start), months) + timedelta(days=days) == d(expected)


def test_monthly_trend(demo, intake):
    months = {m["maand"]: m for m in leerplichttelling(demo.voorbeeldstad.id, YEAR)["per_maand"]}
    assert list(months)[0] == "2024-08" and list(months)[-1] == "2025-07"
    assert months["2024-09"]["meldingen"] == 2   # m1 and s3's conversion
    assert months["2024-12"]["meldingen"] == 1   # s1's conversion
    assert months["2024-11"]["signalen"] == 1
    assert months["2025-07"]["meldingen"] == 3   # t_28_dagen, t_27_dagen, m3 (23:30 on the 31st)
    assert sum(m["meldingen"] for m in months.values()) == 13


# ------------------------------------------------------------------ verzuim: routes


@pytest.fixture
def routes(demo, clock):
    c = {}
    c["hulp"] = route(demo, clock, d("2024-09-20"), "vrijwillige_hulp")
    c["halt_goed"] = route(demo, clock, d("2024-10-20"), "halt")
    step(demo, clock, c["halt_goed"], d("2024-12-01"), "start_monitoring")
    c["halt_mis"] = route(demo, clock, d("2024-11-10"), "halt")
    step(demo, clock, c["halt_mis"], d("2025-01-15"), "verwijs_door:proces_verbaal",
         verwijs_door_data("proces_verbaal", tegen="jongere"))
    c["halt_dicht"] = route(demo, clock, d("2025-02-10"), "halt")
    step(demo, clock, c["halt_dicht"], d("2025-03-01"), "sluit_af")
    # A pupil whose 12th birthday is the first day of the absence (the melding's period runs
    # from 20 days before) may go to Halt; one day younger may not.
    twaalf = make_pupil(demo, date(2013, 2, 20))
    c["halt_12"] = route(demo, clock, d("2025-03-12"), "halt", child=twaalf)
    bijna = make_pupil(demo, date(2013, 2, 21))
    c["bijna_12"] = melding(demo, clock, d("2025-03-12"), child=bijna)
    step(demo, clock, c["bijna_12"], d("2025-03-12"), "start_onderzoek")
    with pytest.raises(ValidationFailed):
        step(demo, clock, c["bijna_12"], d("2025-03-12"), "kies_route:halt", kies_route_data("halt"))
    db.session.rollback()
    c["pv_ouders"] = route(demo, clock, d("2025-04-01"), "proces_verbaal")
    c["raad"] = route(demo, clock, d("2025-05-01"), "verplicht_kader")
    c["eerder"] = route(demo, clock, d("2024-07-15"), "vrijwillige_hulp")  # chosen the year before
    step(demo, clock, c["eerder"], d("2024-09-01"), "verwijs_door:verplicht_kader",
         verwijs_door_data("verplicht_kader"))
    c["halt_na_jaar"] = route(demo, clock, d("2025-07-01"), "halt")
    step(demo, clock, c["halt_na_jaar"], d("2025-08-01"), "verwijs_door:proces_verbaal",
         verwijs_door_data("proces_verbaal"))
    return c


def test_routes_taken(demo, routes):
    r = leerplichttelling(demo.voorbeeldstad.id, YEAR)["verzuim"]["routes"]
    assert r == {
        "vrijwillige_hulp": {"totaal": 1, "waarvan_doorverwezen": 0},
        "halt": {"totaal": 5, "waarvan_doorverwezen": 0},  # goed, mis, dicht, 12, na_jaar
        "verplicht_kader": {"totaal": 2, "waarvan_doorverwezen": 1},
        "proces_verbaal": {"totaal": 2, "waarvan_doorverwezen": 1},
    }


def test_halt_outcomes_and_processen_verbaal(demo, routes):
    z = leerplichttelling(demo.voorbeeldstad.id, YEAR)["verzuim"]
    assert z["halt_afloop"] == {"positief": 1, "negatief": 1, "afgesloten": 1}
    assert z["processen_verbaal"] == {"totaal": 2, "tegen_ouders": 1, "tegen_jongere": 1}
    nxt = leerplichttelling(demo.voorbeeldstad.id, "2025-2026", d("2025-08-02"))["verzuim"]
    assert nxt["halt_afloop"] == {"positief": 0, "negatief": 1, "afgesloten": 0}
    assert nxt["processen_verbaal"]["tegen_ouders"] == 1


def test_route_counts_match_the_audit_details(demo, routes):
    """The count reads details.gekozen_route; it is the state the case went to."""
    rows = db.session.execute(select(AuditEvent.to_state, AuditEvent.details).where(
        AuditEvent.event.in_(("kies_route", "verwijs_door")))).all()
    assert rows and all(details["gekozen_route"] == to_state for to_state, details in rows)


# ------------------------------------------------------------------ suppression (hand-made tables)


def test_primary_rule():
    # 0 is hidden like 1 to 4: a shown 0 next to a period a day longer would expose a 1.
    assert [primary(n) for n in (0, 1, 4, 5, 17)] == [SUPPRESSED, SUPPRESSED, SUPPRESSED, 5, 17]


def test_subtraction_trap_in_a_row():
    """Row 3, 8, 9 with total 20: hiding only the 3 leaves it as 20 - 8 - 9."""
    t = suppress_table([[3, 8, 9]], row_totals=True, col_totals=False)
    assert t.cells == [[SUPPRESSED, SUPPRESSED, 9]]  # the smallest shown cell goes too
    assert t.row_totals == [20]
    assert recomputable([[3, 8, 9]], t) == []


def test_subtraction_trap_spreads_over_rows_and_columns():
    cells = [[7, 3], [6, 12]]
    t = suppress_table(cells)
    # 3 is small; 7 hides it in its row, 12 in its column, and then 6 in the second row.
    assert t.cells == [[SUPPRESSED, SUPPRESSED], [SUPPRESSED, SUPPRESSED]]
    assert (t.row_totals, t.col_totals, t.total) == ([10, 18], [13, 15], 28)
    assert recomputable(cells, t) == []


def test_the_total_is_hidden_when_no_other_cell_can_be():
    cells = [[7], [4], [4]]  # two hidden 4s adding up to 8 are both 4: the 7 goes too
    t = suppress_table(cells)
    assert t.cells == [[SUPPRESSED], [SUPPRESSED], [SUPPRESSED]]
    assert t.row_totals == [SUPPRESSED, SUPPRESSED, SUPPRESSED]  # 7's own row total would show it
    assert (t.col_totals, t.total) == ([15], 15)
    assert recomputable(cells, t) == []


def test_a_hidden_zero_leaves_the_others_unknown():
    """3 and 0 next to 7, total 10: the hidden pair adds up to 3 (0+3, 1+2, ...), so 7 may show."""
    cells = [[7], [3], [0]]
    t = suppress_table(cells)
    assert t.cells == [[7], [SUPPRESSED], [SUPPRESSED]]
    assert (t.col_totals, t.total) == ([10], 10)
    assert recomputable(cells, t) == []


def test_hidden_zeros_are_not_given_away_by_their_sum():
    """0 and 0 next to 7 and 8: the hidden pair adds up to 0, so both must be 0."""
    cells = [[0, 0, 7, 8]]
    t = suppress_table(cells, row_totals=True, col_totals=False)
    assert t.cells[0][:3] == [SUPPRESSED, SUPPRESSED, SUPPRESSED]
    assert recomputable(cells, t) == []


def test_five_is_shown_four_is_not_zero_stays():
    cells = [[5], [4], [4], [0]]
    t = suppress_table(cells)
    assert t.cells == [[5], [SUPPRESSED], [SUPPRESSED], [SUPPRESSED]]
    assert (t.col_totals, t.total) == ([13], 13)


def test_hidden_ones_are_not_given_away_by_their_sum():
    """1 and 1 next to 7, total 9: the two hidden cells add up to 2 — 0+2, 1+1 or 2+0, as a
    hidden cell may be 0 — so they stay unknown; four and four (sum 8) would be pinned."""
    t = suppress_table([[1, 1, 7]], row_totals=True, col_totals=False)
    assert t.cells == [[SUPPRESSED, SUPPRESSED, 7]]
    assert t.row_totals == [9]
    assert recomputable([[1, 1, 7]], t) == []
    t = suppress_table([[4, 4, 7]], row_totals=True, col_totals=False)
    assert t.cells == [[SUPPRESSED, SUPPRESSED, SUPPRESSED]]


def test_a_chain_of_rows_and_columns_cannot_pin_a_hidden_cell():
    """Every row and column has two or more hidden cells, yet the cell joining two blocks of
    hidden cells is (rows 0+1) - (columns 0+1): the exact check hides one more."""
    cells = [[2, 2, 10, 10], [2, 2, 2, 10], [10, 10, 2, 2], [10, 10, 2, 2]]
    t = suppress_table(cells)
    assert t.cells[1][2] == SUPPRESSED
    assert sum(v == SUPPRESSED for row in t.cells for v in row) > 9  # more than the nine small ones
    assert recomputable(cells, t) == []


def test_stock_tables_have_column_totals_only():
    t = suppress_table([[6, 3], [9, 8]], row_totals=False, col_totals=True)
    assert t.row_totals is None and t.total is None
    assert t.cells == [[6, SUPPRESSED], [9, SUPPRESSED]]
    assert t.col_totals == [15, 11]


def test_suppression_holds_on_many_tables():
    rng = random.Random(20251123)  # fixed: the same tables every run
    for _ in range(150):
        rows, cols = rng.randint(1, 5), rng.randint(1, 5)
        cells = [[rng.choice((0, 0, 1, 2, 3, 4, 5, 6, 9, 14, 30)) for _ in range(cols)]
                 for _ in range(rows)]
        t = suppress_table(cells)
        shown = [*(v for row in t.cells for v in row), *t.row_totals, *t.col_totals, t.total]
        assert not any(isinstance(v, int) and 0 < v < 5 for v in shown), cells
        for i, row in enumerate(t.cells):  # no row or column with exactly one hidden value
            line = [*row, t.row_totals[i]]
            assert line.count(SUPPRESSED) != 1, cells
        for j in range(cols):
            line = [t.cells[i][j] for i in range(rows)] + [t.col_totals[j]]
            assert line.count(SUPPRESSED) != 1, cells
        assert recomputable(cells, t) == [], cells


# ------------------------------------------------------------------ the SWV's regional view


@pytest.fixture
def testdorp(demo):
    """A third gemeente in SWV Voorbeeldregio, with a school and its own LPA."""
    gemeente = factories.make_org("gemeente", "GM9099", "Gemeente Testdorp")
    school = Organisation(kind="school", code="99XX", naam="Testschool", gemeente_id=gemeente.id)
    db.session.add(school)
    demo.swv_regio.gemeenten.append(gemeente)
    commit()
    lpa = make_user("leerplicht@testdorp.test", "leerplichtambtenaar", gemeente)
    return gemeente, school, lpa


def test_swv_counts_with_suppression(demo, clock, testdorp):
    gemeente, school, lpa = testdorp
    q1 = d("2025-02-03")
    for _ in range(5):
        signaal(demo, clock, q1)                                   # Voorbeeldstad: 5, shown
    for _ in range(3):
        signaal(demo, clock, q1, gemeente=demo.buurdorp)           # Buurdorp: 3, "< 5"
    for _ in range(4):
        signaal(demo, clock, q1, child=make_pupil(demo, date(2012, 5, 5), school=school), by=lpa)
    for _ in range(7):
        melding(demo, clock, q1)                                   # 7 next to ...
    for _ in range(3):
        melding(demo, clock, q1, gemeente=demo.buurdorp)           # ... 3, with a region total of 10

    o = swv_overzicht(demo.swv_regio.id, d("2025-01-01"), d("2025-03-31"))
    assert [g["naam"] for g in o["gemeenten"]] == ["Gemeente Buurdorp", "Gemeente Testdorp",
                                                  "Gemeente Voorbeeldstad"]
    assert [q["code"] for q in o["kwartalen"]] == ["2025-K1"]
    tables = {t["sleutel"]: t for t in o["tabellen"]}
    signalen = {r["gemeente"]["naam"]: r["waarden"] for r in tables["signalen"]["rijen"]}
    assert signalen == {"Gemeente Voorbeeldstad": [5], "Gemeente Buurdorp": [SUPPRESSED],
                        "Gemeente Testdorp": [SUPPRESSED]}
    # 3 and 4 hidden next to a total of 12: 7 over two cells of 0 to 4 (3+4 or 4+3), so the 5
    # may show. (Had Buurdorp had 4 too, two hidden cells adding up to 8 would both be 4.)
    assert tables["signalen"]["totalen"] == [12]
    meldingen = {r["gemeente"]["naam"]: (r["waarden"], r["totaal"]) for r in tables["meldingen"]["rijen"]}
    # The 3 must not be 10 - 7: Testdorp's 0 is hidden too, so 10 - 7 = 3 is shared by two
    # hidden cells (0+3, 1+2, ...) and the 7 may show.
    assert meldingen == {"Gemeente Voorbeeldstad": ([7], 7),
                         "Gemeente Buurdorp": ([SUPPRESSED], SUPPRESSED),
                         "Gemeente Testdorp": ([SUPPRESSED], SUPPRESSED)}  # 0 is hidden too
    assert tables["meldingen"]["totalen"] == [10]
    assert_no_small_numbers(o)


def assert_no_small_numbers(value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("id", "van", "tot"):
                assert_no_small_numbers(item)
    elif isinstance(value, list):
        for item in value:
            assert_no_small_numbers(item)
    elif isinstance(value, int) and not isinstance(value, bool):
        assert not 0 < value < 5, value


def test_swv_quarters_and_stocks(demo, clock, monkeypatch):
    # What is counted per quarter, before suppression (tested above): nothing is hidden here.
    from casework.services import suppression

    monkeypatch.setattr(suppression, "THRESHOLD", 0)
    # Five exemptions running through 2025: shown in every quarter they run at the quarter's end.
    for _ in range(5):
        exemption(demo, clock, d("2025-02-10"), eind=d("2025-08-31"))
    for _ in range(6):
        melding(demo, clock, d("2025-05-12"), "langdurig_relatief", periode_start=d("2025-04-01"))
    o = swv_overzicht(demo.swv_regio.id, d("2025-01-01"), d("2025-09-30"))
    tables = {t["sleutel"]: t for t in o["tabellen"]}
    rows = {r["gemeente"]["naam"]: r for r in tables["vrijstellingen_lopend"]["rijen"]}
    assert rows["Gemeente Voorbeeldstad"]["waarden"] == [5, 5, 0]  # ended 31 August
    assert rows["Gemeente Voorbeeldstad"]["totaal"] is None        # no sum over quarters of a stock
    assert tables["vrijstellingen_nieuw"]["totalen"] == [5, 0, 0]
    assert tables["vrijstellingen_nieuw"]["trend"]["richting"] == "daalt"
    assert tables["thuiszitters"]["totalen"] == [0, 6, 6]
    # Absent since 1 April: on 30 June not yet more than 3 months, on 30 September it is.
    assert tables["thuiszitters_3_maanden"]["totalen"] == [0, 0, 6]
    assert tables["meldingen"]["totalen"] == [0, 6, 0]


def test_swv_trend_of_a_flow_leaves_out_a_quarter_that_is_cut_off(demo, clock):
    """The running quarter has only a few weeks: comparing it with a whole quarter would show a
    fall that is not there. A stock (what runs on the last day) may use it."""
    for _ in range(6):
        melding(demo, clock, d("2025-02-12"))
    for _ in range(7):
        melding(demo, clock, d("2025-05-12"))
    for _ in range(5):
        melding(demo, clock, d("2025-07-02"))
    o = swv_overzicht(demo.swv_regio.id, d("2025-01-01"), d("2025-07-15"), today=d("2025-07-15"))
    assert [q["volledig"] for q in o["kwartalen"]] == [True, True, False]
    meldingen = next(t for t in o["tabellen"] if t["sleutel"] == "meldingen")
    assert meldingen["totalen"] == [6, 7, 5]
    assert meldingen["trend"] == {"eerste": 6, "laatste": 7, "richting": "stijgt",
                                  "eerste_kwartaal": "2025-K1", "laatste_kwartaal": "2025-K2"}
    lopend = next(t for t in o["tabellen"] if t["sleutel"] == "vrijstellingen_lopend")
    assert (lopend["trend"]["eerste_kwartaal"], lopend["trend"]["laatste_kwartaal"]) == (
        "2025-K1", "2025-K3")
    # One whole quarter: nothing to compare.
    o = swv_overzicht(demo.swv_regio.id, d("2025-04-01"), d("2025-07-15"), today=d("2025-07-15"))
    meldingen = next(t for t in o["tabellen"] if t["sleutel"] == "meldingen")
    assert meldingen["trend"]["richting"] == "onbekend"


def test_swv_view_rejects_a_reversed_range(demo):
    with pytest.raises(ValidationFailed):
        swv_overzicht(demo.swv_regio.id, d("2025-06-01"), d("2025-01-01"))


# ------------------------------------------------------------------ web: access


login = web_signed_in


@pytest.mark.parametrize(("email", "status"), [
    (LPA, 200), (BEHEER, 200), (LPA_BUURDORP, 200),
    (SWV, 403), (ARTS, 403), (OUDER1, 403), (SCHOOL, 403),
])
def test_who_opens_the_leerplichttelling(client, email, status):
    login(client, email)
    assert client.get("/rapportage/leerplichttelling").status_code == status
    assert client.get("/rapportage/leerplichttelling.csv").status_code == status
    assert client.get("/rapportage/leerplichttelling.xlsx").status_code == status


def test_another_gemeente_is_not_found(client, demo):
    login(client, LPA)
    url = f"/rapportage/leerplichttelling?gemeente={demo.buurdorp.id}&schooljaar={YEAR}"
    assert client.get(url).status_code == 404
    assert client.get(url.replace("telling?", "telling.csv?")).status_code == 404
    assert client.get(f"/rapportage/leerplichttelling?gemeente={demo.voorbeeldstad.id}").status_code == 200
    client.post("/uitloggen")
    login(client, BEHEER)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(("email", "status"), [
    (SWV, 200), (SWV_BUUR, 200), (LPA, 403), (BEHEER, 403), (ARTS, 403), (OUDER1, 403),
    (SCHOOL, 403),
])
def test_who_opens_the_regional_view(client, email, status):
    login(client, email)
    assert client.get("/rapportage/regio").status_code == status


def test_nav_links_per_role(client):
    login(client, LPA)
    assert 'href="/rapportage/leerplichttelling"' in client.get("/zaken").get_data(as_text=True)
    client.post("/uitloggen")
    login(client, SWV)
    page = client.get("/zaken").get_data(as_text=True)
    assert 'href="/rapportage/regio"' in page and "leerplichttelling" not in page


# ------------------------------------------------------------------ web: pages, charts, CSV


def test_telling_page_has_charts_with_tables(client, demo, clock, routes):
    login(client, LPA)
    response = client.get(f"/rapportage/leerplichttelling?schooljaar={YEAR}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Leerplichttelling Gemeente Voorbeeldstad, schooljaar 2024–2025" in page
    figures = re.findall(r'<figure class="chart".*?</figure>', page, re.S)
    assert len(figures) == 4  # trend, verzuimsoort, routes, duur
    for figure in figures:
        svg = re.search(r"<svg[^>]*>", figure).group(0)
        assert 'role="img"' in svg and "aria-labelledby=" in svg
        assert re.search(r"<title id=\"[^\"]+\">[^<]+</title>", figure)
        assert figure.index("</svg>") < figure.index("<table")  # the numbers right below it
    routes_figure = next(f for f in figures if 'id="routes"' in f)
    assert re.search(r"Route 2: Halt-interventie</th><td class=\"aantal\">5</td>", routes_figure)
    assert "augustus 2024" in page and "Verzuimmeldingen" in page
    assert "style=" not in page  # the CSP allows no inline styles
    assert "/zaken/" not in page.split("<main", 1)[1]  # no link to a case


def test_csv_reads_back(client, demo, clock, routes):
    login(client, LPA)
    response = client.get(f"/rapportage/leerplichttelling.csv?schooljaar={YEAR}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "leerplichttelling-voorbeeldstad-2024-2025.csv" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Gemeente", "Schooljaar", "Peildatum", "Onderdeel", "Uitsplitsing", "Aantal"]
    assert {tuple(r[:3]) for r in rows[1:]} == {("Gemeente Voorbeeldstad", YEAR, "2025-07-31")}
    values = {(r[3], r[4]): int(r[5]) for r in rows[1:]}
    assert values[("Gekozen routes", "Route 2: Halt-interventie")] == 5
    assert values[("Afloop Halt", "Positief (naar monitoring)")] == 1
    assert values[("Processen-verbaal", "Tegen de jongere")] == 1
    # Every route case began as a melding; `eerder` came in the year before.
    assert values[("Verzuimmeldingen", "Totaal")] == 9
    assert values[("Beëindigde vrijstellingen naar reden", "Verhuisd")] == 0


def test_telling_form_errors(client):
    login(client, LPA)
    response = client.get("/rapportage/leerplichttelling?schooljaar=1999-2001&peildatum=gisteren")
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = client.get(f"/rapportage/leerplichttelling?peildatum={tomorrow}")
    assert response.status_code == 422
    assert "Kies een peildatum van vandaag of eerder." in response.get_data(as_text=True)


def test_regional_page_shows_no_small_numbers_and_no_cases(client, demo, clock, testdorp):
    gemeente, school, lpa = testdorp
    for _ in range(3):
        signaal(demo, clock, d("2025-02-03"))
    login(client, SWV)
    response = client.get("/rapportage/regio?van=2025-01-01&tot=2025-06-30")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    main = page.split("<main", 1)[1]
    assert "&lt; 5" in main
    cells = re.findall(r'<td class="aantal">(.*?)</td>', main)
    assert cells and all(not re.fullmatch(r"[1-4]", c) for c in cells)
    assert "/zaken/" not in main and "VZ-" not in main and "V5A-" not in main
    assert len(re.findall(r'<svg[^>]*role="img"', main)) == 2
    assert "Gemeente Testdorp" in main


def test_regional_page_form_errors(client):
    login(client, SWV)
    response = client.get("/rapportage/regio?van=2025-06-01&tot=2025-01-01")
    assert response.status_code == 422
    assert "Kies een einddatum op of na de begindatum." in response.get_data(as_text=True)
    response = client.get("/rapportage/regio?van=2099-01-01&tot=2099-03-31")
    assert response.status_code == 422
    assert "Kies een begindatum van vandaag of eerder." in response.get_data(as_text=True)
    response = client.get("/rapportage/regio?van=2015-01-01&tot=2025-03-31")
    assert response.status_code == 422  # more than 20 quarters


def test_charts_are_svg_images_with_a_title():
    svg = str(line_chart("t", "Meldingen & signalen", ["K1", "K2"], [("Meldingen", [SUPPRESSED, 7])]))
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="t-titel t-uitleg"' in svg
    assert '<title id="t-titel">Meldingen &amp; signalen</title>' in svg
    assert "&lt; 5" in svg and svg.count("<circle") == 2  # the legend's marker and the one shown point
    assert "style=" not in svg and "<script" not in svg
    bars = str(bar_chart("b", "Routes", [("Halt", 5), ("Raad", 0)]))
    assert bars.count("<rect") == 1 and ">5</text>" in bars and ">0</text>" in bars


# ------------------------------------------------------------------ API


def test_api_leerplichttelling(client, demo, clock, auth_headers, routes):
    headers = auth_headers(LPA)
    response = client.get(f"/api/v1/reports/leerplichttelling?schooljaar={YEAR}", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["gemeente"] == {"id": demo.voorbeeldstad.id, "naam": "Gemeente Voorbeeldstad"}
    assert (body["schooljaar"], body["van"], body["tot"], body["peildatum"]) == (
        YEAR, "2024-08-01", "2025-07-31", "2025-07-31")
    assert body["verzuim"]["routes"]["halt"] == {"totaal": 5, "waarvan_doorverwezen": 0}
    assert set(body["vrijstellingen"]) == {"nieuw", "waarvan_na_herbeoordeling", "lopend_op_peildatum",
                                           "beeindigd", "per_duur", "herbeoordelingen"}
    assert len(body["per_maand"]) == 12
    response = client.get(f"/api/v1/reports/leerplichttelling?schooljaar={YEAR}&peildatum=2025-03-01",
                          headers=headers)
    assert response.get_json()["peildatum"] == "2025-03-01"


@pytest.mark.parametrize(("email", "status"), [
    (LPA, 200), (BEHEER, 200), (LPA_BUURDORP, 404), (SWV, 403), (ARTS, 403), (OUDER1, 403),
    (SCHOOL, 403),
])
def test_api_leerplichttelling_access(client, demo, auth_headers, email, status):
    url = f"/api/v1/reports/leerplichttelling?gemeente_id={demo.voorbeeldstad.id}&schooljaar={YEAR}"
    response = client.get(url, headers=auth_headers(email))
    assert response.status_code == status
    if status != 200:
        assert response.get_json()["error"] in ("not_found", "forbidden")


def test_api_bad_parameters(client, auth_headers):
    headers = auth_headers(LPA)
    assert client.get("/api/v1/reports/leerplichttelling?schooljaar=2024", headers=headers).status_code == 400
    assert client.get("/api/v1/reports/leerplichttelling?peildatum=morgen", headers=headers).status_code == 400
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = client.get(f"/api/v1/reports/leerplichttelling?peildatum={tomorrow}", headers=headers)
    assert response.status_code == 422
    assert "peildatum" in response.get_json()["fields"]
    assert client.get("/api/v1/reports/swv?van=2025-06-01&tot=2025-01-01",
                      headers=auth_headers(SWV)).status_code == 422


def test_api_swv_sees_only_its_region(client, demo, clock, auth_headers, testdorp):
    gemeente, school, lpa = testdorp
    demo.swv_regio.gemeenten.remove(gemeente)
    demo.swv_buur.gemeenten.append(gemeente)  # Testdorp belongs to the neighbouring SWV instead
    commit()
    for _ in range(3):
        signaal(demo, clock, d("2025-02-03"))
    own = client.get("/api/v1/reports/swv?van=2025-01-01&tot=2025-03-31", headers=auth_headers(SWV))
    assert own.status_code == 200
    body = own.get_json()
    assert body["swv"]["naam"] == "SWV Voorbeeldregio"
    assert [g["naam"] for g in body["gemeenten"]] == ["Gemeente Buurdorp", "Gemeente Voorbeeldstad"]
    signalen = next(t for t in body["tabellen"] if t["sleutel"] == "signalen")
    row = next(r for r in signalen["rijen"] if r["gemeente"]["naam"] == "Gemeente Voorbeeldstad")
    assert row["waarden"] == ["< 5"] and signalen["totalen"] == ["< 5"]
    other = client.get("/api/v1/reports/swv?van=2025-01-01&tot=2025-03-31", headers=auth_headers(SWV_BUUR))
    assert [g["naam"] for g in other.get_json()["gemeenten"]] == ["Gemeente Testdorp"]
    for email in (LPA, BEHEER, OUDER1, SCHOOL, ARTS):
        assert client.get("/api/v1/reports/swv", headers=auth_headers(email)).status_code == 403


def test_api_swv_json_has_no_case_ids(client, demo, clock, auth_headers):
    for _ in range(6):
        melding(demo, clock, d("2025-02-03"))
    body = client.get("/api/v1/reports/swv?van=2025-01-01&tot=2025-03-31", headers=auth_headers(SWV)).text
    case_ids = db.session.scalars(select(Case.reference)).all()
    assert not any(ref in body for ref in case_ids)
    assert '"case' not in body and "reference" not in body


def test_reports_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    telling = document["paths"]["/api/v1/reports/leerplichttelling"]["get"]
    regio = document["paths"]["/api/v1/reports/swv"]["get"]
    assert telling["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LeerplichttellingOut"}
    assert regio["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RegioOverzichtOut"}
    assert {p["name"] for p in telling["parameters"]} == {"gemeente_id", "schooljaar", "peildatum"}
    assert telling["x-roles"] == ["beheerder", "leerplichtambtenaar"]
    assert regio["x-roles"] == ["swv_adviseur"]
    shown = document["components"]["schemas"]["RegioRij"]["properties"]["waarden"]["items"]
    assert {"const": "< 5", "type": "string"} in shown["anyOf"]


def test_report_endpoints_are_in_the_policy_table():
    for endpoint in ("web.telling", "web.telling_csv", "web.telling_xlsx", "web.swv_overzicht",
                     "api.report_leerplichttelling", "api.report_swv"):
        assert endpoint in policy.ROUTE_RULES


def test_xlsx_has_the_rows_of_the_csv_with_numbers_and_dates(client, demo, clock, routes):
    login(client, LPA)
    page = client.get(f"/rapportage/leerplichttelling?schooljaar={YEAR}").get_data(as_text=True)
    assert f'href="/rapportage/leerplichttelling.xlsx?gemeente={demo.voorbeeldstad.id}' in page
    csv_rows = list(csv.reader(io.StringIO(client.get(
        f"/rapportage/leerplichttelling.csv?schooljaar={YEAR}").get_data().decode("utf-8-sig")),
        delimiter=";"))
    response = client.get(f"/rapportage/leerplichttelling.xlsx?schooljaar={YEAR}")
    assert response.status_code == 200
    assert response.mimetype == XLSX_MIMETYPE
    assert "leerplichttelling-voorbeeldstad-2024-2025.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == csv_rows[0]
    assert len(rows) == len(csv_rows) > 30
    for got, want in zip(rows[1:], csv_rows[1:], strict=True):
        assert got[2] == datetime(2025, 7, 31)  # a date cell, not text
        assert isinstance(got[5], int)  # a number the spreadsheet can add up
        assert [got[0], got[1], got[2].date().isoformat(), got[3], got[4], str(got[5])] == want
    assert sheet["C2"].number_format == "dd-mm-yyyy"
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold


# ------------------------------------------------------------------ how the counts are read


def test_report_columns_are_the_case_data_after_every_step(demo, exemptions, intake, routes):
    """The report columns are copies of case data, written with every step (the data is the
    truth the case page and the letters show; the columns are what the counts read)."""
    db.session.expire_all()
    cases = db.session.scalars(select(Case)).all()
    facts = Counter()
    for c in cases:
        columns = {key: getattr(c, key) for key in REPORT_FACTS}
        assert columns == report_facts(c.data), c.reference
        facts.update(key for key, value in columns.items() if value is not None)
    assert set(facts) == set(REPORT_FACTS)  # every column is really exercised here


def _plans(monkeypatch, run) -> list[str]:
    """SQLite's plan lines for every SELECT that `run` executes."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        sa_event.remove(engine, "before_cursor_execute", capture)
    connection = db.session.connection()
    return [row[3] for statement, parameters in statements
            for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]


def test_reports_read_indexes_never_case_or_audit_rows(demo, clock, monkeypatch, exemptions, routes):
    """Cold, a large gemeente's case rows lie all over the table: each is a read from disk. Every
    count reads ix_cases_report and ix_audit_events_report alone (on SQLite a plan says so)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    plans = _plans(monkeypatch, lambda: (
        leerplichttelling(demo.voorbeeldstad.id, YEAR),
        swv_overzicht(demo.swv_regio.id, d("2024-07-01"), d("2025-06-30"), today=d("2025-08-15"))))
    reads = [line for line in plans if re.search(r"\b(cases|audit_events)\b", line)
             and not line.startswith(("SEARCH organisations", "SCAN organisations"))]
    assert reads, plans
    assert all("COVERING INDEX ix_cases_report" in line or "COVERING INDEX ix_audit_events_report" in line
               for line in reads), "\n".join(reads)
