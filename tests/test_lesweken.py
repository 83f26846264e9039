"""Lesweken (art. 21a: "vier opeenvolgende lesweken"): the school-holiday calendar per region and
per school, and every "within 4 weeks" check of verzuim that counts with it — a melding, a
signaal, an escalation and the DUO import.

Fixed dates in the shipped school year 2026-2027: herfstvakantie noord 10-18 October 2026,
midden and zuid 17-25 October 2026; kerstvakantie 19 December 2026 - 3 January 2027 (everywhere).
The demo schools are in region midden. Guards compare periods with today: today is fixed to
3 December 2026.
"""
from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from factories_verzuim import make_pupil
from sqlalchemy import func, select
from test_api_support import api_fixture  # noqa: F401  (the api fixture)
from test_duo import csv_file, row, run_import

from casework import schoolkalender
from casework.extensions import db
from casework.models import Case, Organisation, Schoolvakantie
from casework.services import cases as case_service
from casework.services.cases import commit
from conftest import web_signed_in

TODAY = date(2026, 12, 3)
D = date


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch):
    monkeypatch.setattr(case_service, "_today", lambda: TODAY)


def school(demo, regio: str | None, code: str) -> Organisation:
    org = Organisation(kind="school", code=code, naam=f"School {code}", gemeente_id=demo.voorbeeldstad.id,
                       vakantieregio=regio)
    db.session.add(org)
    commit()
    return org


# ------------------------------------------------------------------ the shipped calendar


def test_the_shipped_calendar_holds_both_school_years_for_every_region(app_ctx):
    rows = db.session.scalars(select(Schoolvakantie).where(Schoolvakantie.school_id.is_(None))).all()
    per_jaar = {(r.schooljaar, r.regio) for r in rows}
    assert {(j, r) for j in ("2026-2027", "2027-2028") for r in ("noord", "midden", "zuid")} <= per_jaar
    herfst = {r.regio: (r.begin, r.eind) for r in rows if (r.schooljaar, r.naam) == ("2026-2027", "herfst")}
    assert herfst == {"noord": (D(2026, 10, 10), D(2026, 10, 18)),
                      "midden": (D(2026, 10, 17), D(2026, 10, 25)),
                      "zuid": (D(2026, 10, 17), D(2026, 10, 25))}
    zomer = {r.regio: r.begin for r in rows if (r.schooljaar, r.naam) == ("2027-2028", "zomer")}
    assert zomer == {"noord": D(2028, 7, 15), "midden": D(2028, 7, 8), "zuid": D(2028, 7, 22)}
    # Both school years have all five holidays in every region.
    namen = {(r.schooljaar, r.regio, r.naam) for r in rows}
    assert {(j, r, n) for j in ("2026-2027", "2027-2028") for r in ("noord", "midden", "zuid")
            for n in ("herfst", "kerst", "voorjaar", "mei", "zomer")} <= namen
    voorjaar = {r.regio: (r.begin, r.eind) for r in rows if (r.schooljaar, r.naam) == ("2026-2027", "voorjaar")}
    assert voorjaar == {"noord": (D(2027, 2, 20), D(2027, 2, 28)),
                        "midden": (D(2027, 2, 20), D(2027, 2, 28)),
                        "zuid": (D(2027, 2, 13), D(2027, 2, 21))}
    zomer = {r.regio: (r.begin, r.eind) for r in rows if (r.schooljaar, r.naam) == ("2026-2027", "zomer")}
    assert zomer == {"noord": (D(2027, 7, 10), D(2027, 8, 22)),
                     "midden": (D(2027, 7, 17), D(2027, 8, 29)),
                     "zuid": (D(2027, 7, 24), D(2027, 9, 5))}


def test_the_demo_schools_are_in_region_midden(demo):
    assert db.session.get(Organisation, demo.sam.school_id).vakantieregio == "midden"
    assert db.session.get(Organisation, demo.noor.school_id).vakantieregio == "midden"


# ------------------------------------------------------------------ counting


def test_a_herfstvakantie_week_is_skipped(demo):
    midden = demo.sam.school_id
    # 5 October to 6 November 2026: five calendar weeks, the third is the herfstvakantie.
    telling = schoolkalender.telling(midden, D(2026, 10, 5), D(2026, 11, 6))
    assert telling.lesweken == 4 and telling.binnen_vier
    assert [(v.naam, v.begin) for v in telling.overgeslagen] == [("herfst", D(2026, 10, 17))]
    assert schoolkalender.binnen_vier_lesweken(midden, D(2026, 10, 5), D(2026, 11, 6))
    # One week more is five lesweken.
    assert schoolkalender.lesweken_in(midden, D(2026, 9, 28), D(2026, 11, 6)) == 5
    assert not schoolkalender.binnen_vier_lesweken(midden, D(2026, 9, 28), D(2026, 11, 6))


def test_the_kerstvakantie_skips_two_weeks(demo):
    midden = demo.sam.school_id
    # 14 December 2026 to 22 January 2027: six calendar weeks, two of them kerstvakantie.
    assert schoolkalender.lesweken_in(midden, D(2026, 12, 14), D(2027, 1, 22)) == 4
    assert schoolkalender.binnen_vier_lesweken(midden, D(2026, 12, 14), D(2027, 1, 22))
    assert schoolkalender.lesweken_in(midden, D(2026, 12, 7), D(2027, 1, 22)) == 5
    assert not schoolkalender.binnen_vier_lesweken(midden, D(2026, 12, 7), D(2027, 1, 22))


def test_the_region_decides_which_week_is_skipped(demo):
    noord, zuid = school(demo, "noord", "TN01"), school(demo, "zuid", "TZ01")
    # 14 September to 16 October 2026: five calendar weeks; the last is noord's herfstvakantie.
    assert schoolkalender.lesweken_in(noord.id, D(2026, 9, 14), D(2026, 10, 16)) == 4
    assert schoolkalender.lesweken_in(zuid.id, D(2026, 9, 14), D(2026, 10, 16)) == 5
    assert schoolkalender.binnen_vier_lesweken(noord.id, D(2026, 9, 14), D(2026, 10, 16))
    assert not schoolkalender.binnen_vier_lesweken(zuid.id, D(2026, 9, 14), D(2026, 10, 16))
    # The week after: zuid is free, noord is at school.
    assert schoolkalender.lesweken_in(noord.id, D(2026, 10, 19), D(2026, 10, 23)) == 1
    assert schoolkalender.lesweken_in(zuid.id, D(2026, 10, 19), D(2026, 10, 23)) == 0


def test_a_school_deviation_replaces_a_holiday_of_the_same_name_and_adds_another(demo):
    eigen = school(demo, "midden", "TE01")
    db.session.add_all([
        # This school takes its herfstvakantie a week earlier than midden ...
        Schoolvakantie(schooljaar="2026-2027", naam="herfst", school_id=eigen.id,
                       begin=D(2026, 10, 10), eind=D(2026, 10, 18)),
        # ... and has a week of its own in November.
        Schoolvakantie(schooljaar="2026-2027", naam="projectweek", school_id=eigen.id,
                       begin=D(2026, 11, 2), eind=D(2026, 11, 6)),
    ])
    commit()
    assert schoolkalender.lesweken_in(eigen.id, D(2026, 10, 12), D(2026, 10, 16)) == 0
    assert schoolkalender.lesweken_in(eigen.id, D(2026, 10, 19), D(2026, 10, 23)) == 1  # not replaced: 0
    assert schoolkalender.lesweken_in(eigen.id, D(2026, 11, 2), D(2026, 11, 6)) == 0
    # The regional calendar of another midden school is unchanged.
    other = demo.sam.school_id
    assert schoolkalender.lesweken_in(other, D(2026, 10, 12), D(2026, 10, 16)) == 1
    assert schoolkalender.lesweken_in(other, D(2026, 10, 19), D(2026, 10, 23)) == 0
    telling = schoolkalender.telling(eigen.id, D(2026, 10, 5), D(2026, 11, 13))
    assert telling.lesweken == 4
    assert "de herfstvakantie van 10 oktober 2026 tot en met 18 oktober 2026" in telling.vakantie_tekst()
    assert "de projectweek van 2 november 2026" in telling.vakantie_tekst()


def test_outside_the_shipped_years_weeks_are_plain_weeks(demo):
    midden = demo.sam.school_id
    # October 2025: no rows for 2025-2026, so the herfstvakantie of 2025 is not known.
    assert schoolkalender.lesweken_in(midden, D(2025, 10, 6), D(2025, 11, 7)) == 5
    assert schoolkalender.telling(midden, D(2025, 10, 6), D(2025, 11, 7)).overgeslagen == []


def test_a_school_without_region_has_only_the_holidays_of_every_region(demo):
    geen = school(demo, None, "TG01")
    # Herfstvakantie differs per region: not assumed.
    assert schoolkalender.lesweken_in(geen.id, D(2026, 10, 5), D(2026, 11, 6)) == 5
    # Kerstvakantie is the same everywhere: skipped.
    assert schoolkalender.lesweken_in(geen.id, D(2026, 12, 14), D(2027, 1, 22)) == 4


def test_four_weeks_from_a_thursday_are_four_lesweken():
    # Thursday 5 November to Wednesday 2 December 2026: 28 days, as the calendar rule of before.
    assert schoolkalender.binnen_vier_lesweken(None, D(2026, 11, 5), D(2026, 12, 2))
    assert not schoolkalender.binnen_vier_lesweken(None, D(2026, 11, 5), D(2026, 12, 3))


# ------------------------------------------------------------------ through the API


def _melding(child_id: int, start: date, eind: date, uren: int = 16) -> dict:
    return {"type": "verzuim", "child_id": child_id, "soort": "melding",
            "verzuimsoort": "16_uur_4_weken", "uren": uren, "periode_start": start.isoformat(),
            "periode_eind": eind.isoformat(), "omschrijving": "Mist veel lessen."}


def _signaal(child_id: int, uren: int, start: date | None, eind: date | None) -> dict:
    return {"type": "verzuim", "child_id": child_id, "soort": "signaal", "uren": uren,
            "periode_start": start.isoformat() if start else None,
            "periode_eind": eind.isoformat() if eind else None,
            "omschrijving": "Vaak een uur weg.", "verzuimbeleid_situatie": "Structureel verzuim."}


def _verzuim_cases() -> int:
    return len(db.session.scalars(select(Case.id).where(Case.type == "verzuim")).all())


def test_a_16_hour_melding_over_4_lesweken_around_the_herfstvakantie_is_accepted(api, demo):
    created = api.ok(api.post("school", "/cases", _melding(demo.daan.id, D(2026, 10, 5), D(2026, 11, 6))), 201)
    assert created["state"] == "ontvangen"


def test_a_16_hour_melding_over_5_lesweken_is_refused_naming_the_weeks(api, demo):
    before = _verzuim_cases()
    response = api.post("school", "/cases", _melding(demo.daan.id, D(2026, 9, 28), D(2026, 11, 6)))
    assert response.status_code == 422
    [message] = response.get_json()["fields"]["periode_eind"]
    assert "hoogstens 4 aaneengesloten lesweken" in message
    assert "28 september 2026 tot en met 6 november 2026 zijn 5 lesweken" in message
    assert "herfstvakantie van 17 oktober 2026 tot en met 25 oktober 2026 telt niet mee" in message
    assert _verzuim_cases() == before


def test_a_signaal_of_20_hours_over_10_weeks_is_a_signaal(api, demo):
    body = _signaal(demo.daan.id, 20, D(2026, 9, 14), D(2026, 11, 27))
    created = api.ok(api.post("school", "/cases", body), 201)
    assert created["data"]["soort"] == "signaal"


def test_a_signaal_of_16_hours_within_4_lesweken_is_a_melding(api, demo):
    response = api.post("school", "/cases", _signaal(demo.daan.id, 16, D(2026, 11, 3), D(2026, 11, 28)))
    assert response.status_code == 422
    [message] = response.get_json()["fields"]["uren"]
    assert message.startswith("16 uur of meer binnen 4 aaneengesloten lesweken "
                              "(3 november 2026 tot en met 28 november 2026 zijn 4 lesweken)")
    assert "is een verzuimmelding, geen signaal" in message
    # Around the herfstvakantie five calendar weeks are four lesweken: a melding too.
    response = api.post("school", "/cases", _signaal(demo.daan.id, 16, D(2026, 10, 5), D(2026, 11, 6)))
    assert response.status_code == 422
    assert "herfstvakantie" in response.get_json()["fields"]["uren"][0]
    # Without a period the hours cannot be spread: a melding.
    response = api.post("school", "/cases", _signaal(demo.daan.id, 16, None, None))
    assert response.status_code == 422 and "Vul dan de periode in" in response.get_json()["fields"]["uren"][0]


def test_escalation_counts_lesweken(api, demo):
    signaal = api.ok(api.post("school", "/cases", _signaal(demo.daan.id, 10, D(2026, 11, 2), D(2026, 11, 27))), 201)
    five = {"verzuimsoort": "16_uur_4_weken", "uren": 18, "periode_start": "2026-09-28",
            "periode_eind": "2026-11-06"}
    response = api.fire("school", signaal["id"], "escaleer_naar_melding", **five)
    assert response.status_code == 422
    assert "5 lesweken" in response.get_json()["fields"]["periode_eind"][0]
    four = {**five, "periode_start": "2026-10-05"}
    api.ok(api.fire("school", signaal["id"], "escaleer_naar_melding", **four))
    case = db.session.get(Case, signaal["id"])
    assert case.state == "in_onderzoek" and case.data["soort"] == "melding"


def test_the_duo_import_counts_lesweken(demo):
    four = run_import(demo, csv_file(row(uren="16", start="2026-10-05", eind="2026-11-06")), dry_run=True)
    assert four.ok, [r.reason for r in four.rows]
    five = run_import(demo, csv_file(row(uren="16", start="2026-09-28", eind="2026-11-06")), dry_run=True)
    assert not five.ok
    [only] = five.rows
    assert "zijn 5 lesweken" in only.reason and "herfstvakantie" in only.reason


# ------------------------------------------------------------------ the beheerder's page

BEHEER = "beheer@voorbeeldstad.test"


login = web_signed_in


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


def _form(**extra) -> dict:
    return {"schooljaar": "2026-2027", "geldt_voor": "regio:midden", "naam": "voorjaar",
            "begin": "2027-02-13", "eind": "2027-02-21", **extra}


def _logged(what: str) -> list[str]:
    """The change records ("onderwerp actie id", then the changed fields) that start with `what`."""
    from casework.models import AdminChange

    lines = [f"{r.onderwerp} {r.actie} {r.onderwerp_id}: "
             + "; ".join(f"{k} {v[0]}->{v[1]}" for k, v in sorted(r.wijzigingen.items()))
             for r in db.session.scalars(select(AdminChange).order_by(AdminChange.seq))]
    return [line for line in lines if line.startswith(what)]


def test_the_beheerder_lists_the_holidays_of_a_school_year_per_region(client, demo):
    html = page(login(client, BEHEER).get("/beheer/schoolvakanties?schooljaar=2026-2027"))
    assert "Schoolvakanties 2026-2027" in html
    assert "Regio noord" in html and "Regio zuid" in html
    assert "10 oktober 2026" in html and "17 oktober 2026" in html and "19 december 2026" in html
    assert '<a href="/beheer/schoolvakanties" aria-current="page">Schoolvakanties</a>' in html  # navigation
    # The region of the own gemeente's school; not the school of Buurdorp.
    assert "Vakantieregio van Basisschool De Voorbeeld" in html
    assert "Voorbeeld College" not in html


def test_the_beheerder_adds_changes_and_deletes_a_regional_holiday(client, demo):
    login(client, BEHEER)
    midden = demo.sam.school_id
    period = (D(2027, 2, 1), D(2027, 3, 5))  # five calendar weeks, one of them the voorjaarsvakantie
    assert schoolkalender.lesweken_in(midden, *period) == 4
    shipped = db.session.scalar(select(Schoolvakantie).where(
        Schoolvakantie.naam == "voorjaar", Schoolvakantie.schooljaar == "2026-2027",
        Schoolvakantie.regio == "midden"))
    confirm = client.get(f"/beheer/schoolvakanties/{shipped.id}/verwijderen")
    assert confirm.status_code == 200 and "Vakantie verwijderen?" in page(confirm)
    assert db.session.get(Schoolvakantie, shipped.id) is not None  # asking is not deleting
    response = client.post(f"/beheer/schoolvakanties/{shipped.id}/verwijderen")
    assert response.status_code == 302
    assert db.session.get(Schoolvakantie, shipped.id) is None
    assert schoolkalender.lesweken_in(midden, *period) == 5

    response = client.post("/beheer/schoolvakanties/nieuw", data=_form())
    assert response.status_code == 302
    row = db.session.scalar(select(Schoolvakantie).where(Schoolvakantie.naam == "voorjaar",
                                                         Schoolvakantie.schooljaar == "2026-2027",
                                                         Schoolvakantie.regio == "midden"))
    assert (row.regio, row.school_id, row.begin, row.eind) == ("midden", None, D(2027, 2, 13), D(2027, 2, 21))
    assert schoolkalender.lesweken_in(midden, *period) == 4
    assert "Gelukt: de voorjaarsvakantie 2026-2027 (regio midden) is toegevoegd" in page(client.get(response.location))
    # The week of 15 February is a holiday now, the week of 22 February a leesweek again.
    assert schoolkalender.lesweken_in(midden, D(2027, 2, 15), D(2027, 2, 19)) == 0
    assert schoolkalender.lesweken_in(midden, D(2027, 2, 22), D(2027, 2, 26)) == 1

    response = client.post(f"/beheer/schoolvakanties/{row.id}/wijzigen",
                           data=_form(begin="2027-02-20", eind="2027-02-28"))
    assert response.status_code == 302
    assert (row.begin, row.eind) == (D(2027, 2, 20), D(2027, 2, 28))
    assert schoolkalender.lesweken_in(midden, D(2027, 2, 22), D(2027, 2, 26)) == 0
    assert len(_logged(f"schoolvakantie verwijderd {shipped.id}")) == 1
    assert len(_logged(f"schoolvakantie toegevoegd {row.id}")) == 1
    assert len(_logged(f"schoolvakantie gewijzigd {row.id}")) == 1


def test_bad_input_gets_a_dutch_error_and_changes_nothing(client, demo):
    login(client, BEHEER)
    before = db.session.scalar(select(func.count()).select_from(Schoolvakantie))
    cases = [
        (_form(eind="2027-02-01"), "De laatste vrije dag ligt voor de eerste"),
        (_form(begin="2028-02-13", eind="2028-02-21"),
         "Een vakantie van schooljaar 2026-2027 valt tussen 1 augustus 2026 en 30 september 2027"),
        (_form(naam="carnaval"), "Een vakantie van een regio heet herfst, kerst, voorjaar, mei of zomer"),
        (_form(naam="herfst", begin="2026-10-17", eind="2026-10-25"), "staat er al voor deze regio"),
        (_form(schooljaar="2026"), "bijvoorbeeld 2026-2027"),
        (_form(geldt_voor=f"school:{demo.noor.school_id}"), "Kies een regio of een school van uw gemeente"),
    ]
    for data, message in cases:
        response = client.post("/beheer/schoolvakanties/nieuw", data=data)
        html = page(response)
        assert response.status_code == 422, message
        assert message in html and 'role="alert"' in html and 'aria-invalid="true"' in html
    assert db.session.scalar(select(func.count()).select_from(Schoolvakantie)) == before


def test_a_school_deviation_of_the_own_gemeente(client, demo):
    login(client, BEHEER)
    school_id = demo.sam.school_id
    response = client.post("/beheer/schoolvakanties/nieuw", data=_form(
        geldt_voor=f"school:{school_id}", naam="herfst", begin="2026-10-10", eind="2026-10-18"))
    assert response.status_code == 302
    assert schoolkalender.lesweken_in(school_id, D(2026, 10, 19), D(2026, 10, 23)) == 1
    html = page(client.get("/beheer/schoolvakanties?schooljaar=2026-2027"))
    assert "Afwijkingen van scholen in uw gemeente" in html and "10 oktober 2026" in html


def test_another_gemeentes_school_is_404(client, demo):
    college = demo.noor.school_id  # Voorbeeld College, Buurdorp
    row = Schoolvakantie(schooljaar="2026-2027", naam="studieweek", school_id=college,
                         begin=D(2026, 11, 2), eind=D(2026, 11, 6))
    db.session.add(row)
    commit()
    login(client, BEHEER)
    assert client.get(f"/beheer/schoolvakanties/{row.id}/wijzigen").status_code == 404
    assert client.post(f"/beheer/schoolvakanties/{row.id}/verwijderen").status_code == 404
    assert client.post(f"/beheer/scholen/{college}/vakantieregio",
                       data={f"school{college}-vakantieregio": "zuid"}).status_code == 404
    assert db.session.get(Schoolvakantie, row.id) is not None
    assert db.session.get(Organisation, college).vakantieregio == "midden"
    assert "studieweek" not in page(client.get("/beheer/schoolvakanties?schooljaar=2026-2027"))


def test_the_beheerder_sets_a_schools_region(client, demo):
    login(client, BEHEER)
    school_id = demo.sam.school_id
    response = client.post(f"/beheer/scholen/{school_id}/vakantieregio",
                           data={f"school{school_id}-vakantieregio": "noord"})
    assert response.status_code == 302
    assert db.session.get(Organisation, school_id).vakantieregio == "noord"
    response = client.post(f"/beheer/scholen/{school_id}/vakantieregio",
                           data={f"school{school_id}-vakantieregio": "oost"})
    assert response.status_code == 422 and "Kies noord, midden of zuid" in page(response)
    assert db.session.get(Organisation, school_id).vakantieregio == "noord"
    assert _logged("organisatie gewijzigd") and _logged("organisatie gewijzigd")[-1].endswith(
        "vakantieregio midden->noord")


@pytest.mark.parametrize("email", ["leerplicht@voorbeeldstad.test", "school@devoorbeeld.test",
                                   "ouder1@voorbeeld.test"])
def test_only_the_beheerder_reaches_the_page(client, demo, email):
    login(client, email)
    assert client.get("/beheer/schoolvakanties").status_code == 403
    assert client.post("/beheer/schoolvakanties/nieuw", data=_form()).status_code == 403
    assert 'href="/beheer/schoolvakanties"' not in page(client.get("/", follow_redirects=True))


def test_melding_feiten_fouten_reads_the_facts_of_a_case(demo):
    """The check of a fresh melding, callable on a case's stored facts (JJJJ-MM-DD text)."""
    from casework.workflows.verzuim import melding_feiten_fouten

    case = Case(type="verzuim", school_id=demo.daan.school_id)  # not added to the session
    assert melding_feiten_fouten(case, "16_uur_4_weken", 16, "2026-10-05", "2026-11-06") == {}
    fouten = melding_feiten_fouten(case, "16_uur_4_weken", 16, D(2026, 9, 28), D(2026, 11, 6))
    assert list(fouten) == ["periode_eind"] and "zijn 5 lesweken" in fouten["periode_eind"]
    assert list(melding_feiten_fouten(case, "16_uur_4_weken", 15, "2026-10-05", "2026-11-06")) == ["uren"]
    assert melding_feiten_fouten(case, "overig", 2, "2026-09-01", "2026-11-27") == {}
    assert set(melding_feiten_fouten(case, None, None, None, None)) == {
        "verzuimsoort", "uren", "periode_start", "periode_eind"}
