"""Every guard of the vrijstelling workflow, from both sides, naming the field that failed."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import Case
from casework.services.cases import commit, fire, open_case
from casework.services.errors import Conflict, ValidationFailed
from casework.workflows.base import add_months
from casework.workflows.vrijstelling import kennisgeving_deadline, leerplicht_start
from factories import (
    CASE_TYPE, audit_count, dien_in_data, event_data, letter_count, make_case, make_child, make_org,
    make_user, stored_case, today, verklaring_data,
)


def _refused(field: str, call, *args, **kwargs) -> ValidationFailed:
    """The call is refused with a 422 that names exactly this field."""
    with pytest.raises(ValidationFailed) as excinfo:
        call(*args, **kwargs)
    exc = excinfo.value
    assert exc.status == 422
    assert list(exc.fields) == [field], exc.fields
    assert exc.fields[field] and all(isinstance(m, str) and m for m in exc.fields[field])
    return exc


def _refused_without_effect(field: str, case, event: str, actor, data: dict) -> None:
    before = (stored_case(case.id), audit_count(case.id), letter_count(case.id))
    _refused(field, fire, case, event, actor=actor, data=data)
    db.session.rollback()
    assert (stored_case(case.id), audit_count(case.id), letter_count(case.id)) == before


# ------------------------------------------------------------------ kennisgeving deadline

def test_deadline_when_the_child_becomes_leerplichtig_during_the_school_year():
    # Fifth birthday 15 September 2027: leerplichtig from 1 October 2027, within 2027-2028.
    assert leerplicht_start(date(2022, 9, 15)) == date(2027, 10, 1)
    assert kennisgeving_deadline(date(2022, 9, 15), "2027-2028") == date(2027, 9, 1)
    # Fifth birthday in July: leerplichtig from 1 August, deadline 1 July (one month before).
    assert kennisgeving_deadline(date(2022, 7, 10), "2027-2028") == date(2027, 7, 1)
    # Fifth birthday in June: leerplichtig from 1 July, in the last month of the year before;
    # for the next school year the 1 July rule applies.
    assert leerplicht_start(date(2022, 6, 10)) == date(2027, 7, 1)
    assert kennisgeving_deadline(date(2022, 6, 10), "2027-2028") == date(2027, 6, 30)
    assert kennisgeving_deadline(date(2022, 6, 10), "2026-2027") == date(2027, 6, 1)
    # Fifth birthday in May 2028: leerplichtig from 1 June 2028, still in 2027-2028.
    assert kennisgeving_deadline(date(2023, 5, 31), "2027-2028") == date(2028, 5, 1)


def test_deadline_for_a_child_already_leerplichtig_is_before_1_july():
    assert kennisgeving_deadline(date(2017, 3, 14), "2027-2028") == date(2027, 6, 30)
    assert kennisgeving_deadline(date(2012, 12, 31), "2026-2027") == date(2026, 6, 30)


def _paper_notice(demo, child, schooljaar: str, ontvangen_op: date):
    data = dien_in_data(child, schooljaar, ontvangen_op=ontvangen_op.isoformat())
    case = open_case(demo.lpa, CASE_TYPE, data)
    commit()
    return case


def test_notice_on_the_1_july_deadline_is_on_time_and_a_day_later_late(demo):
    year = today().year - 1  # a deadline that has passed, so the received dates are not in the future
    schooljaar = f"{year}-{year + 1}"
    on_time = _paper_notice(demo, demo.sam, schooljaar, date(year, 6, 30))
    assert on_time.data["kennisgeving_deadline"] == date(year, 6, 30).isoformat()
    assert on_time.data["te_laat"] is False
    late = _paper_notice(demo, demo.lotte, schooljaar, date(year, 7, 1))
    assert late.data["te_laat"] is True


def test_notice_for_a_child_becoming_leerplichtig_in_the_school_year(demo):
    year = today().year - 1
    # Fifth birthday 10 October: leerplichtig 1 November, so the notice is due 1 October.
    child = make_child(demo, date(year - 5, 10, 10), "Mila", "900000011")
    case = _paper_notice(demo, child, f"{year}-{year + 1}", date(year, 10, 1))
    assert case.data["kennisgeving_deadline"] == date(year, 10, 1).isoformat()
    assert case.data["te_laat"] is False
    child2 = make_child(demo, date(year - 5, 10, 10), "Mats", "900000012")
    late = _paper_notice(demo, child2, f"{year}-{year + 1}", date(year, 10, 2))
    assert late.data["te_laat"] is True


def test_portal_notice_is_flagged_late_by_todays_date(demo):
    assert make_case(demo, "kennisgeving_ontvangen").data["te_laat"] is False
    assert make_case(demo, "kennisgeving_ontvangen", child=demo.lotte, te_laat=True).data["te_laat"] is True


def test_motivering_te_laat_required_only_when_late(demo):
    late = make_case(demo, "kennisgeving_ontvangen", te_laat=True)
    _refused_without_effect("motivering_te_laat", late, "neem_in_behandeling", demo.lpa,
                            {"deskundige_id": demo.arts.id})
    _refused_without_effect("motivering_te_laat", late, "neem_in_behandeling", demo.lpa,
                            {"deskundige_id": demo.arts.id, "motivering_te_laat": "   "})
    fire(late, "neem_in_behandeling", actor=demo.lpa,
         data={"deskundige_id": demo.arts.id, "motivering_te_laat": "Ouders kregen de informatie te laat."})
    commit()
    assert late.state == "in_behandeling"
    assert late.data["motivering_te_laat"] == "Ouders kregen de informatie te laat."

    on_time = make_case(demo, "kennisgeving_ontvangen", child=demo.lotte)
    fire(on_time, "neem_in_behandeling", actor=demo.lpa, data={"deskundige_id": demo.arts.id})
    commit()
    assert on_time.state == "in_behandeling"


# ------------------------------------------------------------------ dien_in

def test_ouder_may_not_set_ontvangen_op(demo):
    exc = _refused("ontvangen_op", open_case, demo.ouder1, CASE_TYPE,
                   dien_in_data(demo.sam, ontvangen_op=(today() - timedelta(days=3)).isoformat()))
    assert "leerplichtambtenaar" in exc.message
    case = open_case(demo.lpa, CASE_TYPE,
                     dien_in_data(demo.sam, ontvangen_op=(today() - timedelta(days=3)).isoformat()))
    assert case.data["ontvangen_op"] == (today() - timedelta(days=3)).isoformat()


def test_ontvangen_op_in_the_future_refused(demo):
    _refused("ontvangen_op", open_case, demo.lpa, CASE_TYPE,
             dien_in_data(demo.sam, ontvangen_op=(today() + timedelta(days=1)).isoformat()))


def test_ouder_may_not_file_for_someone_elses_child(demo):
    before = db.session.scalar(select(func.count()).select_from(Case))
    _refused("child_id", open_case, demo.ouder2, CASE_TYPE, dien_in_data(demo.sam))
    # The LPA of another gemeente may not register a paper notice for this child either.
    _refused("child_id", open_case, demo.lpa_buurdorp, CASE_TYPE, dien_in_data(demo.sam))
    assert db.session.scalar(select(func.count()).select_from(Case)) == before
    assert open_case(demo.ouder2, CASE_TYPE, dien_in_data(demo.noor)).state == "kennisgeving_ontvangen"


def test_one_open_case_per_child(demo):
    first = make_case(demo, "kennisgeving_ontvangen")
    with pytest.raises(Conflict) as excinfo:
        open_case(demo.ouder1, CASE_TYPE, dien_in_data(demo.sam))
    assert excinfo.value.status == 409
    assert first.reference in excinfo.value.message
    # Also the LPA (paper notice) cannot open a second one.
    with pytest.raises(Conflict):
        open_case(demo.lpa, CASE_TYPE, dien_in_data(demo.sam))
    # Another child of the same parent is not affected.
    assert open_case(demo.ouder1, CASE_TYPE, dien_in_data(demo.lotte)).state == "kennisgeving_ontvangen"


@pytest.mark.parametrize(("state", "end_event"), [("kennisgeving_ontvangen", "trek_in"),
                                                  ("vrijgesteld", "beeindig")])
def test_new_case_allowed_once_the_first_is_closed(demo, state, end_event):
    first = make_case(demo, state)
    fire(first, end_event, actor=demo.ouder1 if end_event == "trek_in" else demo.lpa,
         data=event_data(demo, first, end_event))
    commit()
    assert first.is_open is False
    second = open_case(demo.ouder1, CASE_TYPE, dien_in_data(demo.sam))
    commit()
    assert second.id != first.id and second.state == "kennisgeving_ontvangen"


# ------------------------------------------------------------------ neem_in_behandeling: deskundige

def test_deskundige_must_be_a_jeugdarts_of_a_jgz_serving_the_gemeente(demo):
    other_jgz = make_org("jgz", "JGZ9999", "GGD Elders")
    arts_elders = make_user("arts@ggd-elders.test", "jeugdarts", other_jgz)
    case = make_case(demo, "kennisgeving_ontvangen")
    _refused_without_effect("deskundige_id", case, "neem_in_behandeling", demo.lpa,
                            {"deskundige_id": arts_elders.id})
    # Right organisation, wrong role.
    medewerker = make_user("secretariaat@ggd-voorbeeld.test", "swv_adviseur", demo.ggd)
    _refused_without_effect("deskundige_id", case, "neem_in_behandeling", demo.lpa,
                            {"deskundige_id": medewerker.id})
    _refused_without_effect("deskundige_id", case, "neem_in_behandeling", demo.lpa,
                            {"deskundige_id": demo.lpa.id})
    fire(case, "neem_in_behandeling", actor=demo.lpa, data={"deskundige_id": demo.arts.id})
    commit()
    assert case.deskundige_id == demo.arts.id


def test_second_jeugdarts_of_the_serving_jgz_is_accepted(demo):
    arts2 = make_user("arts2@ggd-voorbeeld.test", "jeugdarts", demo.ggd)
    case = make_case(demo, "kennisgeving_ontvangen")
    fire(case, "neem_in_behandeling", actor=demo.lpa, data={"deskundige_id": arts2.id})
    assert case.deskundige_id == arts2.id


# ------------------------------------------------------------------ vraag_advies

def test_swv_must_be_own_region_or_a_neighbour(demo):
    elders = make_org("swv", "SWV9999", "SWV Ver Weg")
    case = make_case(demo, "in_behandeling")
    _refused_without_effect("swv_id", case, "vraag_advies", demo.arts,
                            event_data(demo, case, "vraag_advies", swv=elders))
    # A gemeente is not an SWV.
    _refused_without_effect("swv_id", case, "vraag_advies", demo.arts,
                            event_data(demo, case, "vraag_advies", swv=demo.voorbeeldstad))
    fire(case, "vraag_advies", actor=demo.arts,
         data=event_data(demo, case, "vraag_advies", swv=demo.swv_regio))
    commit()
    assert case.swv_id == demo.swv_regio.id


def test_neighbouring_swv_accepted(demo):
    case = make_case(demo, "in_behandeling")
    fire(case, "vraag_advies", actor=demo.arts,
         data=event_data(demo, case, "vraag_advies", swv=demo.swv_buur))
    commit()
    assert (case.state, case.swv_id) == ("advies_gevraagd", demo.swv_buur.id)


def _advies_data(toestemming: bool, door: str | None, swv_id: int) -> dict:
    return {"swv_id": swv_id, "toestemming": toestemming, "toestemming_door": door,
            "samenvatting": "Anonieme schets."}


def test_jongere_consent_accepted_from_the_16th_birthday_exactly(demo):
    t = today()
    born = add_months(t, -16 * 12)  # exactly 16 years before today (29 feb: clipped)
    child = make_child(demo, born, "Zestien", "900000021")
    case = make_case(demo, "in_behandeling", child=child)
    fire(case, "vraag_advies", actor=demo.arts, data=_advies_data(True, "jongere", demo.swv_regio.id))
    commit()
    assert case.toestemming is True and case.data["toestemming_door"] == "jongere"


def test_jongere_consent_refused_the_day_before_the_16th_birthday(demo):
    born = add_months(today(), -16 * 12) + timedelta(days=1)  # turns 16 tomorrow
    child = make_child(demo, born, "Vijftien", "900000022")
    case = make_case(demo, "in_behandeling", child=child)
    _refused_without_effect("toestemming_door", case, "vraag_advies", demo.arts,
                            _advies_data(True, "jongere", demo.swv_regio.id))
    # The parent may consent for a child under 16.
    fire(case, "vraag_advies", actor=demo.arts, data=_advies_data(True, "ouder", demo.swv_regio.id))
    assert case.state == "advies_gevraagd"


def test_consent_without_who_gave_it_refused(demo):
    case = make_case(demo, "in_behandeling")
    _refused_without_effect("toestemming_door", case, "vraag_advies", demo.arts,
                            _advies_data(True, None, demo.swv_regio.id))
    # A refusal is a decision too: who made it is named and kept.
    _refused_without_effect("toestemming_door", case, "vraag_advies", demo.arts,
                            _advies_data(False, None, demo.swv_regio.id))
    fire(case, "vraag_advies", actor=demo.arts, data=_advies_data(False, "ouder", demo.swv_regio.id))
    assert case.toestemming is False and case.data["toestemming_door"] == "ouder"


# ------------------------------------------------------------------ breng_advies_uit

def _advies(soort: str) -> dict:
    return {"advies": "Digitaal afstandsonderwijs past.", "soort": soort, "mogelijkheden": ["OPDC"]}


def test_persoonlijk_advies_refused_without_consent(demo):
    case = make_case(demo, "advies_gevraagd", toestemming=False)
    _refused_without_effect("soort", case, "breng_advies_uit", demo.swv, _advies("persoonlijk"))
    fire(case, "breng_advies_uit", actor=demo.swv, data=_advies("algemeen"))
    assert case.state == "advies_uitgebracht"


def test_persoonlijk_advies_accepted_with_consent(demo):
    case = make_case(demo, "advies_gevraagd", toestemming=True)
    fire(case, "breng_advies_uit", actor=demo.swv, data=_advies("persoonlijk"))
    assert (case.state, case.data["advies_soort"]) == ("advies_uitgebracht", "persoonlijk")


# ------------------------------------------------------------------ geef_verklaring

@pytest.fixture
def ready(demo):
    """A case waiting for the verklaring."""
    return make_case(demo, "advies_uitgebracht")


def _verklaar(case, actor, **changes):
    fire(case, "geef_verklaring", actor=actor, data=verklaring_data(**changes))
    commit()
    return case


def test_verklaringsdatum_in_the_future_refused(demo, ready):
    _refused_without_effect("verklaringsdatum", ready, "geef_verklaring", demo.arts,
                            verklaring_data(verklaringsdatum=(today() + timedelta(days=1)).isoformat()))


@pytest.fixture
def ready_long_ago(demo, monkeypatch):
    """A case whose advice was asked 4 months ago: a verklaring of 3 months ago follows it."""
    from casework.services import cases as case_service

    monkeypatch.setattr(case_service, "_today", lambda: add_months(date.today(), -4))
    case = make_case(demo, "advies_uitgebracht")
    monkeypatch.setattr(case_service, "_today", date.today)
    return case


def test_verklaringsdatum_exactly_three_months_ago_accepted(demo, ready_long_ago):
    _verklaar(ready_long_ago, demo.arts, verklaringsdatum=add_months(today(), -3).isoformat())
    assert ready_long_ago.state == "vrijgesteld"


def test_verklaringsdatum_three_months_and_a_day_ago_refused(demo, ready_long_ago):
    ready = ready_long_ago
    old = (add_months(today(), -3) - timedelta(days=1)).isoformat()
    _refused_without_effect("verklaringsdatum", ready, "geef_verklaring", demo.arts,
                            verklaring_data(verklaringsdatum=old, ingangsdatum=old))


def test_treating_doctor_refused(demo, ready):
    _refused_without_effect("niet_behandelend_arts", ready, "geef_verklaring", demo.arts,
                            verklaring_data(niet_behandelend_arts=False))


def test_weging_advies_required(demo, ready):
    _refused_without_effect("weging_advies", ready, "geef_verklaring", demo.arts,
                            verklaring_data(weging_advies=" "))


@pytest.mark.parametrize("missing", ["ingangsdatum", "herbeoordelingsdatum"])
def test_not_fit_needs_ingangsdatum_and_herbeoordelingsdatum(demo, ready, missing):
    _refused_without_effect(missing, ready, "geef_verklaring", demo.arts,
                            verklaring_data(**{missing: None}))


def test_not_fit_without_einddatum_runs_to_the_end_of_leerplicht(demo, ready):
    _verklaar(ready, demo.arts, einddatum=None)
    assert (ready.state, ready.einddatum) == ("vrijgesteld", None)


def test_fit_needs_no_period(demo, ready):
    _verklaar(ready, demo.arts, geschikt=True)
    assert ready.state == "geen_vrijstelling"


def test_einddatum_before_ingangsdatum_refused(demo, ready):
    t = today()
    before = (stored_case(ready.id), audit_count(ready.id), letter_count(ready.id))
    with pytest.raises(ValidationFailed) as excinfo:
        fire(ready, "geef_verklaring", actor=demo.arts,
             data=verklaring_data(ingangsdatum=t.isoformat(),
                                  einddatum=(t - timedelta(days=1)).isoformat(),
                                  herbeoordelingsdatum=(t + timedelta(days=1)).isoformat()))
    # Any herbeoordelingsdatum is then wrong too (after the end, or not after the start).
    assert set(excinfo.value.fields) == {"einddatum", "herbeoordelingsdatum"}
    assert "ingangsdatum" in excinfo.value.fields["einddatum"][0]
    db.session.rollback()
    assert (stored_case(ready.id), audit_count(ready.id), letter_count(ready.id)) == before
    _verklaar(ready, demo.arts, einddatum=(t + timedelta(days=1)).isoformat(),
              herbeoordelingsdatum=(t + timedelta(days=1)).isoformat())
    assert ready.einddatum == t + timedelta(days=1)


def test_herbeoordelingsdatum_must_be_after_ingangsdatum(demo, ready):
    t = today()
    _refused_without_effect("herbeoordelingsdatum", ready, "geef_verklaring", demo.arts,
                            verklaring_data(herbeoordelingsdatum=t.isoformat()))


def test_herbeoordelingsdatum_after_einddatum_refused(demo, ready):
    t = today()
    _refused_without_effect("herbeoordelingsdatum", ready, "geef_verklaring", demo.arts,
                            verklaring_data(einddatum=add_months(t, 3).isoformat(),
                                            herbeoordelingsdatum=(add_months(t, 3)
                                                                  + timedelta(days=1)).isoformat()))
    _verklaar(ready, demo.arts, einddatum=add_months(t, 3).isoformat(),
              herbeoordelingsdatum=add_months(t, 3).isoformat())
    assert ready.herbeoordelingsdatum == ready.einddatum


def test_herbeoordelingsdatum_exactly_twelve_months_accepted(demo, ready):
    t = today()
    _verklaar(ready, demo.arts, einddatum=None, herbeoordelingsdatum=add_months(t, 12).isoformat())
    assert ready.herbeoordelingsdatum == add_months(t, 12)


def test_herbeoordelingsdatum_beyond_twelve_months_refused(demo, ready):
    t = today()
    _refused_without_effect("herbeoordelingsdatum", ready, "geef_verklaring", demo.arts,
                            verklaring_data(einddatum=None,
                                            herbeoordelingsdatum=(add_months(t, 12)
                                                                  + timedelta(days=1)).isoformat()))


def test_gemeente_maximum_of_six_months(demo, ready):
    t = today()
    demo.voorbeeldstad.max_herbeoordeling_maanden = 6
    db.session.flush()
    with pytest.raises(ValidationFailed) as excinfo:
        fire(ready, "geef_verklaring", actor=demo.arts,
             data=verklaring_data(herbeoordelingsdatum=(add_months(t, 6) + timedelta(days=1)).isoformat()))
    assert list(excinfo.value.fields) == ["herbeoordelingsdatum"]
    assert "6 maanden" in excinfo.value.fields["herbeoordelingsdatum"][0]
    _verklaar(ready, demo.arts, herbeoordelingsdatum=add_months(t, 6).isoformat())
    assert ready.state == "vrijgesteld"


# ------------------------------------------------------------------ beeindig

def test_beeindig_anders_needs_toelichting(demo):
    case = make_case(demo, "vrijgesteld")
    _refused_without_effect("toelichting", case, "beeindig", demo.lpa, {"reden": "anders"})
    _refused_without_effect("toelichting", case, "beeindig", demo.lpa,
                            {"reden": "anders", "toelichting": "  "})
    fire(case, "beeindig", actor=demo.lpa,
         data={"reden": "anders", "toelichting": "Gezin vertrokken naar het buitenland."})
    commit()
    assert case.state == "beeindigd"
    assert case.data["reden_beeindiging"] == "anders"


def test_beeindig_with_an_unknown_reden_refused(demo):
    case = make_case(demo, "vrijgesteld")
    _refused_without_effect("reden", case, "beeindig", demo.lpa, {"reden": "zomaar"})
