"""DUO vrijstellingenregister export: one row per exemption 5 onder a whose period overlaps the
chosen period; service, CLI, web page and API. The file is `;`-separated UTF-8 with a BOM."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import AccessLog
from casework.services import duo
from casework.services.cases import commit, open_case
from casework.services.errors import ValidationFailed
from casework.services.tabular import XLSX_MIMETYPE
from conftest import api_token, web_signed_in
from factories import dien_in_data, fire_and_commit, make_case, make_child, verklaring_data

LPA = "leerplicht@voorbeeldstad.test"
LPA_BUURDORP = "leerplicht@buurdorp.test"
HEADER = ["kenmerk", "bsn", "geboortedatum", "begindatum", "einddatum", "grond"]
TODAY = date.today()
D = date.fromisoformat


def exemption(demo, child, ingang: date, eind: date | None, *, parent=None, lpa=None):
    """A case in vrijgesteld with exactly this period, through the real events."""
    if ingang < TODAY:  # a paper kennisgeving received on the first day: no exemption before it
        case = open_case(lpa or demo.lpa, "vrijstelling_5a", dien_in_data(child, ontvangen_op=ingang.isoformat()))
    else:
        case = open_case(parent or demo.ouder1, "vrijstelling_5a", dien_in_data(child))
    commit()
    fire_and_commit(demo, case, "neem_in_behandeling", actor=lpa)
    fire_and_commit(demo, case, "vraag_advies")
    fire_and_commit(demo, case, "breng_advies_uit")
    herbeoordeling = ingang + timedelta(days=20)
    fire_and_commit(demo, case, "geef_verklaring", data=verklaring_data(
        ingangsdatum=ingang.isoformat(), einddatum=eind.isoformat() if eind else None,
        herbeoordelingsdatum=herbeoordeling.isoformat()))
    assert case.state == "vrijgesteld"
    return case


def read(text: str) -> list[dict]:
    """The file as a spreadsheet or DUO reads it: bytes, BOM, `;`."""
    raw = text.encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, r, strict=True)) for r in rows[1:]]


def export(gemeente, van: str, tot: str) -> list[dict]:
    return read(duo.export_vrijstellingen([gemeente.id], D(van), D(tot)))


@pytest.fixture
def spring(demo):
    """Sam: 1 March to 30 June 2025; Lotte: from 1 September 2024, to the end of leerplicht."""
    return (exemption(demo, demo.sam, D("2025-03-01"), D("2025-06-30")),
            exemption(demo, demo.lotte, D("2024-09-01"), None))


@pytest.mark.parametrize("van, tot, sam_in", [
    ("2025-06-30", "2025-12-31", True),   # ends on the first day of the period
    ("2025-07-01", "2025-12-31", False),  # ended the day before
    ("2025-01-01", "2025-03-01", True),   # begins on the last day of the period
    ("2025-01-01", "2025-02-28", False),  # begins the day after
    ("2025-04-01", "2025-04-01", True),   # a one-day period inside
    ("2024-01-01", "2026-12-31", True),   # a period around it
])
def test_overlap_boundaries_are_inclusive(demo, spring, van, tot, sam_in):
    sam, lotte = spring
    rows = {r["kenmerk"]: r for r in export(demo.voorbeeldstad, van, tot)}
    assert (sam.reference in rows) is sam_in
    assert lotte.reference in rows  # open-ended: every period from its start on
    if sam_in:
        assert rows[sam.reference] == {
            "kenmerk": sam.reference, "bsn": "100023757", "geboortedatum": "2017-03-14",
            "begindatum": "2025-03-01", "einddatum": "2025-06-30", "grond": "5a"}


def test_open_ended_exemption_has_an_empty_end_and_is_not_there_before_it_starts(demo, spring):
    _, lotte = spring
    [row] = [r for r in export(demo.voorbeeldstad, "2030-01-01", "2030-12-31")]
    assert row["kenmerk"] == lotte.reference
    assert (row["begindatum"], row["einddatum"], row["grond"]) == ("2024-09-01", "", "5a")
    rows = export(demo.voorbeeldstad, "2024-01-01", "2024-08-31")
    assert rows == []


def test_rows_are_in_order_of_begindatum(demo, spring):
    sam, lotte = spring
    assert [r["kenmerk"] for r in export(demo.voorbeeldstad, "2024-01-01", "2026-12-31")] == [
        lotte.reference, sam.reference]


def test_an_exemption_ended_early_ends_on_the_day_it_ended(demo):
    case = exemption(demo, demo.daan, TODAY - timedelta(days=60), TODAY + timedelta(days=300))
    fire_and_commit(demo, case, "beeindig")  # ingeschreven_op_school, today
    [row] = export(demo.voorbeeldstad, TODAY.isoformat(), (TODAY + timedelta(days=400)).isoformat())
    assert row["einddatum"] == TODAY.isoformat()
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert export(demo.voorbeeldstad, tomorrow, (TODAY + timedelta(days=400)).isoformat()) == []


def test_cases_without_an_exemption_are_not_exported(demo):
    make_case(demo, "in_behandeling", child=demo.sam)
    make_case(demo, "geen_vrijstelling", child=demo.lotte)
    assert export(demo.voorbeeldstad, "2000-01-01", "2099-12-31") == []


def test_only_the_own_gemeente(demo, spring):
    noor = exemption(demo, demo.noor, D("2025-01-01"), D("2025-12-31"), parent=demo.ouder2,
                     lpa=demo.lpa_buurdorp)
    voorbeeldstad = {r["kenmerk"] for r in export(demo.voorbeeldstad, "2025-01-01", "2025-12-31")}
    buurdorp = {r["kenmerk"] for r in export(demo.buurdorp, "2025-01-01", "2025-12-31")}
    assert voorbeeldstad == {c.reference for c in spring}
    assert buurdorp == {noor.reference}


def test_a_period_that_ends_before_it_starts_is_refused(demo):
    with pytest.raises(ValidationFailed) as exc:
        duo.export_vrijstellingen([demo.voorbeeldstad.id], D("2025-02-01"), D("2025-01-31"))
    assert exc.value.fields == {"tot": ["Kies een einddatum op of na de begindatum."]}


def test_an_empty_file_still_has_its_bom_and_header(demo):
    text = duo.export_vrijstellingen([demo.voorbeeldstad.id], D("2025-01-01"), D("2025-12-31"))
    assert text == "\ufeffkenmerk;bsn;geboortedatum;begindatum;einddatum;grond\r\n"


# ------------------------------------------------------------------ CLI


def test_cli(app, demo, spring, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "vrijstellingen.csv"
    result = runner.invoke(args=["duo", "vrijstellingen", "--gemeente", "GM9001", "--van",
                                 "2025-01-01", "--tot", "2025-12-31", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 vrijstellingen geschreven" in result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbfkenmerk;bsn;")
    assert {r["kenmerk"] for r in read(out.read_text(encoding="utf-8"))} == {c.reference for c in spring}

    result = runner.invoke(args=["duo", "vrijstellingen", "--gemeente", "GM9002", "--van",
                                 "2025-01-01", "--tot", "2025-12-31"])
    assert result.exit_code == 0 and read(result.output) == []
    result = runner.invoke(args=["duo", "vrijstellingen", "--gemeente", "GM9001", "--van",
                                 "2025-01-01", "--tot", "2024-12-31"])
    assert result.exit_code == 2 and "De einddatum ligt voor de begindatum" in result.output
    result = runner.invoke(args=["duo", "vrijstellingen", "--gemeente", "GM0000", "--van",
                                 "2025-01-01", "--tot", "2025-12-31"])
    assert result.exit_code == 2 and "Onbekende gemeentecode" in result.output


# ------------------------------------------------------------------ web


login = web_signed_in


def test_web_downloads_the_file_and_logs_every_bsn(client, demo, spring):
    login(client, LPA)
    html = unescape(client.get("/duo/vrijstellingen").get_data(as_text=True))
    assert "Vrijstellingen voor het vrijstellingenregister van DUO" in html
    start = date(TODAY.year if TODAY.month >= 8 else TODAY.year - 1, 8, 1)
    assert f'value="{start.isoformat()}"' in html and f'value="{TODAY.isoformat()}"' in html
    assert 'href="/duo/vrijstellingen"' in client.get("/duo/export").get_data(as_text=True)

    lpa_id = demo.lpa.id
    response = client.post("/duo/vrijstellingen", data={"van": "2025-01-01", "tot": "2025-12-31"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="duo-vrijstellingen-2025-01-01-2025-12-31.csv"' in response.headers[
        "Content-Disposition"]
    rows = read(response.get_data(as_text=True))
    assert {r["kenmerk"] for r in rows} == {c.reference for c in spring}
    logged = db.session.scalar(select(func.count()).select_from(AccessLog).where(
        AccessLog.user_id == lpa_id, AccessLog.what == "duo_vrijstellingen", AccessLog.via == "web"))
    assert logged == 2

    response = client.post("/duo/vrijstellingen", data={"van": "2025-02-01", "tot": "2025-01-01"})
    assert response.status_code == 422
    assert "Kies een einddatum op of na de begindatum." in unescape(response.get_data(as_text=True))
    response = client.post("/duo/vrijstellingen", data={"van": "", "tot": "2025-01-01"})
    assert response.status_code == 422 and "Vul de begindatum in." in response.get_data(as_text=True)


@pytest.mark.parametrize("email", ["school@devoorbeeld.test", "ouder1@voorbeeld.test",
                                   "beheer@voorbeeldstad.test", "jeugdarts@ggd-voorbeeld.test",
                                   "adviseur@swv-voorbeeldregio.test"])
def test_web_page_is_for_the_lpa_only(client, demo, email):
    login(client, email)
    assert client.get("/duo/vrijstellingen").status_code == 403
    response = client.post("/duo/vrijstellingen", data={"van": "2025-01-01", "tot": "2025-12-31"})
    assert response.status_code == 403


# ------------------------------------------------------------------ API


def test_api(client, demo, spring):
    headers = api_token(client, LPA)
    response = client.get("/api/v1/duo/vrijstellingen?van=2025-06-30&tot=2025-06-30",
                          headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    rows = read(response.get_data(as_text=True))
    assert {r["kenmerk"] for r in rows} == {c.reference for c in spring}
    logged = db.session.scalar(select(func.count()).select_from(AccessLog).where(
        AccessLog.what == "duo_vrijstellingen", AccessLog.via == "api"))
    assert logged == 2

    other = client.get("/api/v1/duo/vrijstellingen?van=2025-06-30&tot=2025-06-30",
                       headers=api_token(client, LPA_BUURDORP))
    assert other.status_code == 200 and read(other.get_data(as_text=True)) == []

    assert client.get("/api/v1/duo/vrijstellingen?van=2025-01-01",
                      headers=headers).status_code == 400
    assert client.get("/api/v1/duo/vrijstellingen?van=2025-01-01&tot=morgen",
                      headers=headers).status_code == 400
    response = client.get("/api/v1/duo/vrijstellingen?van=2025-02-01&tot=2025-01-01",
                          headers=headers)
    assert response.status_code == 422 and response.get_json()["fields"]["tot"]


@pytest.mark.parametrize("email", ["school@devoorbeeld.test", "ouder1@voorbeeld.test",
                                   "beheer@voorbeeldstad.test", "jeugdarts@ggd-voorbeeld.test"])
def test_api_is_for_the_lpa_only(client, demo, email):
    response = client.get("/api/v1/duo/vrijstellingen?van=2025-01-01&tot=2025-12-31",
                          headers=api_token(client, email))
    assert response.status_code == 403
    assert client.get("/api/v1/duo/vrijstellingen?van=2025-01-01&tot=2025-12-31").status_code == 401


def test_openapi_describes_the_export(client):
    document = client.get("/api/v1/openapi.json").get_json()
    op = document["paths"]["/api/v1/duo/vrijstellingen"]["get"]
    assert op["x-roles"] == ["leerplichtambtenaar"]
    assert "text/csv" in op["responses"]["200"]["content"]
    assert {"200", "400", "401", "403", "422"} <= set(op["responses"])
    assert {p["name"] for p in op["parameters"]} == {"van", "tot"}
    assert "kenmerk;bsn;geboortedatum;begindatum;einddatum;grond" in (
        op["responses"]["200"]["content"]["text/csv"]["schema"]["description"])


def test_web_xlsx_keeps_the_bsn_as_text_and_the_dates_as_dates(client, demo, spring):
    """The spreadsheet file: a BSN that starts with 0 keeps it, dates are dates, no end is empty."""
    demo.sam.bsn = "012345672"  # passes the elfproef
    db.session.flush()
    login(client, LPA)
    response = client.post("/duo/vrijstellingen", data={"van": "2025-01-01", "tot": "2025-12-31",
                                                        "formaat": "xlsx"})
    assert response.status_code == 200
    assert response.mimetype == XLSX_MIMETYPE
    assert 'filename="duo-vrijstellingen-2025-01-01-2025-12-31.xlsx"' in response.headers[
        "Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    by_kenmerk = {r[0]: r for r in rows[1:]}
    sam, lotte = spring
    assert by_kenmerk[sam.reference][1:] == (
        "012345672", datetime.combine(demo.sam.geboortedatum, time()), datetime(2025, 3, 1),
        datetime(2025, 6, 30), "5a")
    assert by_kenmerk[lotte.reference][3:5] == (datetime(2024, 9, 1), None)
    assert sheet["B2"].data_type == "s" and sheet["D2"].number_format == "dd-mm-yyyy"
    # Downloading the spreadsheet is a read of the BSNs too.
    assert db.session.scalar(select(func.count()).select_from(AccessLog).where(
        AccessLog.what == "duo_vrijstellingen", AccessLog.via == "web")) == 2


def test_cli_writes_xlsx_when_the_file_name_says_so(app, demo, spring, tmp_path):
    out = tmp_path / "vrijstellingen.xlsx"
    result = app.test_cli_runner().invoke(args=[
        "duo", "vrijstellingen", "--gemeente", demo.voorbeeldstad.code, "--van", "2025-01-01",
        "--tot", "2025-12-31", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"2 vrijstellingen geschreven naar {out}." in result.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [spring[1].reference, spring[0].reference]
