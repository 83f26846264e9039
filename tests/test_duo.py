"""DUO intake (CSV import of verzuimmeldingen) and the status export back to DUO: service, CLI,
web UI and API. Letters are only checked as rows (their templates are not rendered here)."""
from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from casework.extensions import db, queue
from casework.models import AccessLog, AuditEvent, Case, Letter
from casework.services import duo
from casework.services.cases import commit, fire, open_case
from casework.services.errors import ValidationFailed
from conftest import api_token, web_signed_in

HEADER = "bsn;brin;verzuimsoort;uren;periode_start;periode_eind;omschrijving"
SAM, LOTTE, DAAN, NOOR = "100023757", "100039595", "100126704", "100174218"
LPA = "leerplicht@voorbeeldstad.test"
LPA_BUURDORP = "leerplicht@buurdorp.test"
TODAY = date.today()
START = (TODAY - timedelta(days=21)).isoformat()
EIND = (TODAY - timedelta(days=2)).isoformat()


def nl(day: str) -> str:
    """JJJJ-MM-DD as DD-MM-JJJJ."""
    return date.fromisoformat(day).strftime("%d-%m-%Y")


def row(bsn=SAM, brin="99AA", code="V3", uren="18", start=START, eind=EIND,
        omschrijving="Vaak afwezig in de ochtend") -> str:
    return ";".join([bsn, brin, code, uren, start, eind, omschrijving])


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


GOOD = csv_file(
    row(SAM, code="V3", uren="18"),
    row(LOTTE, code="V4", uren="40", start=nl(START), eind=nl(EIND)),
    row(DAAN, code="L", uren="8", omschrijving="Week eerder op vakantie"),
)


def verzuim_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case).where(Case.type == "verzuim"))


def table_counts() -> tuple[int, int, int]:
    return (verzuim_count(), db.session.scalar(select(func.count()).select_from(AuditEvent)),
            db.session.scalar(select(func.count()).select_from(Letter)))


@contextmanager
def count_commits(monkeypatch):
    """How often the import commits (its savepoints per row are not commits)."""
    commits: list[int] = []
    real = duo.commit

    def counting():
        commits.append(1)
        real()

    monkeypatch.setattr(duo, "commit", counting)
    try:
        yield commits
    finally:
        monkeypatch.setattr(duo, "commit", real)


def run_import(demo, content: bytes, *, dry_run: bool = False, gemeente=None):
    gemeente = gemeente if gemeente is not None else demo.voorbeeldstad
    return duo.import_meldingen(content, dry_run=dry_run, gemeente_ids=[gemeente.id])


def by_line(report) -> dict[int, duo.ImportRow]:
    return {r.line: r for r in report.rows}


# ------------------------------------------------------------------ a good file


def test_a_good_file_creates_each_melding_with_audit_row_and_receipt_to_the_school(demo, monkeypatch):
    queue.huey.flush()
    with count_commits(monkeypatch) as commits:
        report = run_import(demo, GOOD)
    assert report.ok, report.summary
    assert len(commits) == 1  # every case of the file in one commit
    assert report.counts == {"created": 3, "valid": 0, "refused": 0, "duplicate": 0, "total": 3}
    assert report.summary == "3 meldingen aangemaakt."
    assert [r.line for r in report.rows] == [2, 3, 4]
    assert [r.bsn for r in report.rows] == ["******757", "******595", "******704"]

    expected = {SAM: "16_uur_4_weken", LOTTE: "langdurig_relatief", DAAN: "luxe"}
    school_id = demo.sam.school_id
    for r, (bsn, verzuimsoort) in zip(report.rows, expected.items(), strict=True):
        assert r.status == "created" and r.reference.startswith("VZ-")
        case = db.session.scalar(select(Case).where(Case.reference == r.reference))
        assert case.child.bsn == bsn and case.state == "ontvangen" and case.school_id == school_id
        assert case.data["soort"] == "melding" and case.data["verzuimsoort"] == verzuimsoort
        assert case.data["periode_start"] == START and case.data["periode_eind"] == EIND
        assert case.data["ingediend_door"] == "duo_import"
        [audit] = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)).all()
        assert (audit.event, audit.from_state, audit.to_state) == ("dien_in", None, "ontvangen")
        assert (audit.actor_id, audit.actor_role) == (None, "duo_import")
        letters = db.session.scalars(select(Letter).where(Letter.case_id == case.id)).all()
        assert [(lt.kind, lt.recipient_role, lt.recipient_org_id, lt.status) for lt in letters] == [
            ("vz_ontvangstbevestiging", "school", school_id, "pending")]
    # The letters are enqueued after the commit, once each.
    assert queue.huey.pending_count() == 3


def test_comma_separator_bom_columns_in_another_order_and_no_omschrijving(demo):
    content = "\ufeffBRIN,BSN,Verzuimsoort,Uren,Periode_start,Periode_eind\r\n" \
              f"99aa,{SAM},v3,16,{nl(START)},{EIND}\r\n,,,,,\r\n"
    report = run_import(demo, content.encode("utf-8"))
    assert report.ok, report.summary
    assert report.counts["created"] == 1 and report.counts["total"] == 1
    case = db.session.scalar(select(Case).where(Case.reference == report.rows[0].reference))
    assert case.data["uren"] == 16 and case.data["omschrijving"] == ""


def test_no_full_bsn_in_the_report(demo):
    report = run_import(demo, csv_file(row(SAM), row("999999990")), dry_run=True)
    text = "\n".join(report.lines()) + repr(report)
    assert SAM not in text and "999999990" not in text
    assert "******757" in text and "******990" in text


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(("line", "gemeente", "reason"), [
    (row("999999990"), "voorbeeldstad", "Onbekend BSN"),
    (row("12345"), "voorbeeldstad", "Het BSN is ongeldig"),
    (row(brin="00XX"), "voorbeeldstad", "Onbekende school: er is geen school met BRIN-code '00XX'"),
    (row(brin=""), "voorbeeldstad", "De BRIN-code van de school ontbreekt"),
    (row(SAM, brin="99BB"), "voorbeeldstad", "De leerling staat niet ingeschreven op school 99BB"),
    (row(NOOR, brin="99BB"), "voorbeeldstad", "Onbekend BSN: er staat geen leerling met dit BSN in uw gemeente"),
    (row(code="X9"), "voorbeeldstad", "Onbekende verzuimsoort 'X9': gebruik V3, V4, LRV, L of O"),
    (row(code=""), "voorbeeldstad", "De verzuimsoort ontbreekt"),
    (row(code="V3", uren="10"), "voorbeeldstad", "Een melding '16 uur in 4 weken' gaat over 16 uur of meer"),
    (row(uren="zestien"), "voorbeeldstad", "Het aantal uren 'zestien' is ongeldig"),
    (row(uren="16,5"), "voorbeeldstad", "Het aantal uren '16,5' is ongeldig"),
    (row(uren=""), "voorbeeldstad", "Vul het aantal uren ongeoorloofd verzuim in"),
    (row(start="31-02-2026"), "voorbeeldstad", "De datum '31-02-2026' bij het begin van de periode is ongeldig"),
    (row(eind="2026/01/30"), "voorbeeldstad", "De datum '2026/01/30' bij het einde van de periode is ongeldig"),
    (row(start=""), "voorbeeldstad", "Vul het begin van de periode in"),
    (row(eind=(TODAY + timedelta(days=3)).isoformat()), "voorbeeldstad", "De periode kan niet in de toekomst liggen"),
    (row(start=(TODAY - timedelta(days=60)).isoformat()), "voorbeeldstad", "hoogstens 4 aaneengesloten lesweken"),
    (row(SAM) + ";extra", "voorbeeldstad", "Deze regel heeft 8 kolommen, de kopregel 7"),
    (f"{SAM};99AA", "voorbeeldstad", "Deze regel heeft 2 kolommen, de kopregel 7"),
])
def test_a_bad_row_is_refused_with_its_reason_and_nothing_is_created(demo, line, gemeente, reason):
    before = table_counts()
    report = run_import(demo, csv_file(line), gemeente=getattr(demo, gemeente))
    assert not report.ok
    [only] = report.rows
    assert only.status == "refused" and only.line == 2
    assert reason in only.reason, only.reason
    assert only.reference is None
    assert "Er is niets geïmporteerd" in report.summary
    assert table_counts() == before


def test_a_row_with_several_problems_names_them_all(demo):
    report = run_import(demo, csv_file(row(brin="00XX", code="Q", uren="veel")))
    reason = report.rows[0].reason
    for part in ("Onbekende verzuimsoort", "Het aantal uren", "Onbekende school"):
        assert part in reason


def test_without_gemeente_restriction_every_gemeente_is_allowed(demo):
    report = duo.import_meldingen(csv_file(row(NOOR, brin="99BB"), row(SAM)), dry_run=True,
                                  gemeente_ids=None)
    assert report.ok and report.counts["valid"] == 2


# ------------------------------------------------------------------ duplicates


def test_duplicates_in_the_database_are_skipped_and_do_not_block(demo):
    first = run_import(demo, csv_file(row(SAM)))
    reference = first.rows[0].reference
    before = table_counts()
    report = run_import(demo, csv_file(row(SAM, start=nl(START)), row(LOTTE)))
    assert report.ok
    rows = by_line(report)
    assert rows[2].status == "duplicate"
    assert rows[2].reason == f"Dubbel: deze melding is al geregistreerd ({reference})."
    assert rows[3].status == "created"
    assert report.summary == "1 melding aangemaakt. 1 regel is dubbel en wordt overgeslagen."
    assert verzuim_count() == before[0] + 1


def test_a_melding_the_school_sent_itself_counts_as_a_duplicate(demo):
    case = open_case(demo.school, "verzuim", {
        "child_id": demo.sam.id, "soort": "melding", "verzuimsoort": "16_uur_4_weken", "uren": 20,
        "periode_start": START, "periode_eind": EIND})
    commit()
    report = run_import(demo, csv_file(row(SAM), row(SAM, code="V4")))
    rows = by_line(report)
    assert rows[2].status == "duplicate" and case.reference in rows[2].reason
    assert rows[3].status == "created"  # another verzuimsoort is another melding


def test_duplicates_within_the_file_are_skipped(demo):
    before = verzuim_count()
    report = run_import(demo, csv_file(row(SAM), row(LOTTE), row(SAM, start=nl(START), eind=nl(EIND))))
    assert report.ok
    rows = by_line(report)
    assert [rows[n].status for n in (2, 3, 4)] == ["created", "created", "duplicate"]
    assert rows[4].reason == "Dubbel: dezelfde melding staat al op regel 2 van dit bestand."
    assert verzuim_count() == before + 2


def test_importing_the_same_file_twice_creates_nothing_the_second_time(demo):
    run_import(demo, GOOD)
    before = table_counts()
    report = run_import(demo, GOOD)
    assert report.ok and report.counts["duplicate"] == 3 and report.counts["created"] == 0
    assert report.summary == "Er is niets nieuws geïmporteerd. 3 regels zijn dubbel en worden overgeslagen."
    assert table_counts() == before


# ------------------------------------------------------------------ whole-file problems


def test_a_file_that_is_not_utf8_is_refused_whole(demo):
    content = f"{HEADER}\n{row(SAM, omschrijving='Leerling is ziek geweest volgens de ouders')}\n" \
              f"{row(LOTTE, omschrijving='Zoë en Chloë')}\n".encode("latin-1")
    before = table_counts()
    report = run_import(demo, content)
    assert not report.ok and report.rows == []
    assert report.error.startswith("Het bestand is geen UTF-8 (regel 3 ")
    assert "sla het op als CSV UTF-8" in report.error
    assert "Er is niets geïmporteerd" in report.summary
    assert table_counts() == before


@pytest.mark.parametrize(("content", "message"), [
    (b"", "Het bestand is leeg"),
    (b"\n\n", "Het bestand is leeg"),
    (b"bsn;brin;uren\n100023757;99AA;18\n", "De kopregel mist de kolom(men) verzuimsoort, periode_start, periode_eind"),
    (GOOD.decode().encode("utf-16-le"), "Het bestand is geen UTF-8 (het lijkt UTF-16"),
    (GOOD.decode().encode("utf-16"), "Het bestand is geen UTF-8 (regel 1 "),
    (csv_file(row(SAM), header="bsn;brin;verzuimsoort;uren;periode_start"),
     "De kopregel mist de kolom(men) periode_eind"),
])
def test_unusable_files_get_a_clear_error(demo, content, message):
    report = run_import(demo, content)
    assert not report.ok and message in report.error


def test_a_file_with_only_the_header_is_fine_and_creates_nothing(demo):
    report = run_import(demo, csv_file())
    assert report.ok and report.rows == []
    assert report.summary == "Het bestand bevat geen meldingen; er is niets aangemaakt."


# ------------------------------------------------------------------ all or nothing


def test_a_mixed_file_creates_nothing_and_reports_every_row(demo, monkeypatch):
    content = csv_file(
        row(SAM),                            # 2 good
        row(LOTTE, code="V4", uren="40"),    # 3 good
        row("999999990"),                    # 4 unknown BSN
        row(SAM),                            # 5 duplicate of line 2
        row(DAAN, code="V3", uren="9"),      # 6 the workflow refuses: under 16 hours
        row(DAAN, code="O", uren="9"),       # 7 good: overig may be under 16 hours
    )
    queue.huey.flush()
    before = table_counts()
    with count_commits(monkeypatch) as commits:
        report = run_import(demo, content)
    assert not report.ok and not commits
    assert table_counts() == before
    assert queue.huey.pending_count() == 0  # no letter of a rolled-back case is enqueued
    statuses = {r.line: r.status for r in report.rows}
    assert statuses == {2: "valid", 3: "valid", 4: "refused", 5: "duplicate", 6: "refused", 7: "valid"}
    assert all(r.reference is None for r in report.rows)
    assert report.counts == {"created": 0, "valid": 3, "refused": 2, "duplicate": 1, "total": 6}
    assert report.summary.startswith("2 van de 6 regels geweigerd. Er is niets geïmporteerd.")
    assert report.refused_fields() == {"regel 4": [by_line(report)[4].reason],
                                       "regel 6": [by_line(report)[6].reason]}
    # After fixing the file the same rows go in.
    fixed = run_import(demo, csv_file(row(SAM), row(LOTTE, code="V4", uren="40"), row(DAAN, code="O", uren="9")))
    assert fixed.ok and fixed.counts["created"] == 3


def test_a_dry_run_writes_nothing(demo, monkeypatch):
    queue.huey.flush()
    before = table_counts()
    with count_commits(monkeypatch) as commits:
        report = run_import(demo, GOOD, dry_run=True)
    assert report.ok and report.dry_run and not commits
    assert report.counts == {"created": 0, "valid": 3, "refused": 0, "duplicate": 0, "total": 3}
    assert all(r.status == "valid" and r.reference is None for r in report.rows)
    assert report.summary == ("Proefimport: 3 regels zijn in orde. Er is niets opgeslagen; "
                              "importeer het bestand om de meldingen aan te maken.")
    assert table_counts() == before
    assert queue.huey.pending_count() == 0
    # The real import afterwards finds the same rows good.
    assert run_import(demo, GOOD).counts["created"] == 3


def test_a_dry_run_with_a_refused_row(demo):
    report = run_import(demo, csv_file(row(SAM), row(code="X")), dry_run=True)
    assert not report.ok
    assert report.summary.startswith("Proefimport: 1 van de 2 regels geweigerd. Bij importeren")


# ------------------------------------------------------------------ status export


def export_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_export_holds_only_meldingen_with_their_duo_status(demo):
    report = run_import(demo, csv_file(
        row(SAM, code="V3"), row(LOTTE, code="V4", uren="30"), row(DAAN, code="L", uren="6"),
        row(SAM, code="O", uren="4")))
    refs = [r.reference for r in report.rows]
    cases = {ref: db.session.scalar(select(Case).where(Case.reference == ref)) for ref in refs}
    a, b, c, d = (cases[ref] for ref in refs)
    fire(b, "start_onderzoek", actor=demo.lpa,
         data={"gesprek_gepland_op": (TODAY + timedelta(days=7)).isoformat()})
    fire(c, "neem_ter_kennisgeving_aan", actor=demo.lpa, data={"reden": "Verlof was toch verleend."})
    fire(d, "trek_in", actor=demo.school, data={"reden": "Per ongeluk gemeld."})
    commit()
    # A signaal is not a melding; Noor lives in Buurdorp.
    open_case(demo.school, "verzuim", {"child_id": demo.sam.id, "soort": "signaal", "uren": 6,
                                       "verzuimbeleid_situatie": "Structureel te laat."})
    open_case(demo.lpa_buurdorp, "verzuim", {
        "child_id": demo.noor.id, "soort": "melding", "verzuimsoort": "overig", "uren": 3,
        "periode_start": START, "periode_eind": EIND})
    commit()

    text = duo.export_duo_status([demo.voorbeeldstad.id], TODAY - timedelta(days=1), TODAY)
    assert text.splitlines()[0] == "kenmerk;bsn;brin;verzuimsoort_code;ontvangen_op;duo_status;status_datum"
    assert text.endswith("\r\n")
    rows = {r["kenmerk"]: r for r in export_rows(text)}
    assert set(rows) == set(refs)
    expected = {a.reference: (SAM, "V3", "R"), b.reference: (LOTTE, "V4", "B"),
                c.reference: (DAAN, "L", "K"), d.reference: (SAM, "O", "I")}
    for ref, (bsn, code, status) in expected.items():
        r = rows[ref]
        assert (r["bsn"], r["brin"], r["verzuimsoort_code"], r["duo_status"]) == (bsn, "99AA", code, status)
        assert r["ontvangen_op"] == TODAY.isoformat()
        assert r["status_datum"] == cases[ref].updated_at.date().isoformat()

    buurdorp = export_rows(duo.export_duo_status([demo.buurdorp.id], TODAY, TODAY))
    assert [(r["bsn"], r["brin"], r["duo_status"]) for r in buurdorp] == [(NOOR, "99BB", "R")]
    earlier = duo.export_duo_status([demo.voorbeeldstad.id], TODAY - timedelta(days=30),
                                    TODAY - timedelta(days=1))
    assert export_rows(earlier) == []


def test_export_status_after_sluit_af_and_draag_over(demo):
    report = run_import(demo, csv_file(row(SAM), row(LOTTE)))
    g, dd = (db.session.scalar(select(Case).where(Case.reference == r.reference)) for r in report.rows)
    fire(g, "start_onderzoek", actor=demo.lpa, data={"gesprek_gepland_op": TODAY.isoformat()})
    fire(g, "sluit_af", actor=demo.lpa, data={"resultaat": "verzuim_gestopt"})
    fire(dd, "draag_over", actor=demo.lpa, data={"gemeente_id": demo.buurdorp.id})
    commit()
    rows = {r["kenmerk"]: r["duo_status"] for r in export_rows(
        duo.export_duo_status([demo.voorbeeldstad.id], TODAY, TODAY))}
    # A handover is closed here: G, never D (DUO dropped it in 2020).
    assert rows == {g.reference: "G", dd.reference: "G"}


def test_export_refuses_a_period_that_ends_before_it_starts(demo):
    with pytest.raises(ValidationFailed):
        duo.export_duo_status([demo.voorbeeldstad.id], TODAY, TODAY - timedelta(days=1))


# ------------------------------------------------------------------ CLI


def test_cli_import_and_export(app, demo, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "duo.csv"
    good.write_bytes(GOOD)
    bad = tmp_path / "fout.csv"
    bad.write_bytes(csv_file(row(SAM), row("999999990")))
    before = verzuim_count()

    result = runner.invoke(args=["duo", "import", str(bad), "--gemeente", "GM9001"])
    assert result.exit_code == 1, result.output
    assert "Onbekend BSN" in result.output and "Er is niets geïmporteerd" in result.output
    assert "999999990" not in result.output and SAM not in result.output

    result = runner.invoke(args=["duo", "import", str(good), "--gemeente", "GM9001", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Proefimport: 3 regels zijn in orde" in result.output and "******757" in result.output
    assert verzuim_count() == before

    result = runner.invoke(args=["duo", "import", str(good), "--gemeente", "gm9001"])
    assert result.exit_code == 0, result.output
    assert "3 meldingen aangemaakt." in result.output
    assert len(re.findall(r"VZ-\d{4}-\d{5}", result.output)) == 3
    assert verzuim_count() == before + 3

    result = runner.invoke(args=["duo", "import", str(good), "--gemeente", "GM9002"])
    assert result.exit_code == 1 and "Onbekend BSN: er staat geen leerling met dit BSN in uw gemeente" in result.output

    result = runner.invoke(args=["duo", "import", str(good), "--gemeente", "GM0000"])
    assert result.exit_code == 2 and "Onbekende gemeentecode" in result.output

    out = tmp_path / "status.csv"
    day = TODAY.isoformat()
    result = runner.invoke(args=["duo", "export", "--gemeente", "GM9001", "--van", day, "--tot", day,
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 meldingen geschreven" in result.output
    rows = export_rows(out.read_text(encoding="utf-8"))
    assert sorted(r["bsn"] for r in rows) == sorted([SAM, LOTTE, DAAN])
    assert {r["duo_status"] for r in rows} == {"R"}

    result = runner.invoke(args=["duo", "export", "--gemeente", "GM9001", "--van", day, "--tot", day])
    assert result.exit_code == 0 and result.output.startswith("kenmerk;bsn;")
    result = runner.invoke(args=["duo", "export", "--gemeente", "GM9001", "--van", day,
                                 "--tot", (TODAY - timedelta(days=1)).isoformat()])
    assert result.exit_code == 2 and "De einddatum ligt voor de begindatum" in result.output


# ------------------------------------------------------------------ web UI


login = web_signed_in


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


def upload(client, content: bytes, proef: bool = True):
    data = {"bestand": (io.BytesIO(content), "duo.csv")}
    if proef:
        data["proefimport"] = "y"
    return client.post("/duo/import", data=data, content_type="multipart/form-data")


def test_web_proefimport_then_real_import(client, demo):
    login(client, LPA)
    html = page(client.get("/duo/import"))
    assert "Alleen controleren (proefimport)" in html and 'enctype="multipart/form-data"' in html
    assert re.search(r'<input[^>]*checked[^>]*id="proefimport"|<input[^>]*id="proefimport"[^>]*checked', html)
    assert 'href="/duo/import"' in page(client.get("/zaken"))  # in the LPA's menu
    before = verzuim_count()

    response = upload(client, GOOD)
    assert response.status_code == 200
    html = page(response)
    assert "Uitkomst van de proefimport van duo.csv" in html
    assert "Proefimport: 3 regels zijn in orde." in html
    assert "******757" in html and SAM not in html
    assert "Nu importeren" in html
    assert verzuim_count() == before

    inhoud = re.search(r'name="inhoud" type="hidden" value="([^"]+)"|type="hidden" name="inhoud" value="([^"]+)"'
                       r'|id="inhoud" name="inhoud" type="hidden" value="([^"]+)"', html)
    value = next(g for g in inhoud.groups() if g)
    response = client.post("/duo/import", data={"inhoud": value})
    assert response.status_code == 200
    html = page(response)
    assert "Uitkomst van de import" in html and "3 meldingen aangemaakt." in html
    assert len(set(re.findall(r"VZ-\d{4}-\d{5}", html))) == 3
    assert "Nu importeren" not in html
    assert verzuim_count() == before + 3


def test_web_a_large_checked_file_is_uploaded_again(client, demo, monkeypatch):
    import casework.views.duo as duo_views

    monkeypatch.setattr(duo_views, "_REMEMBER_MAX", 10)
    login(client, LPA)
    html = re.sub(r"\s+", " ", page(upload(client, GOOD)))
    assert "Proefimport: 3 regels zijn in orde." in html
    assert "Nu importeren" not in html
    assert "Kies hieronder hetzelfde bestand opnieuw" in html
    response = upload(client, GOOD, proef=False)
    assert response.status_code == 200 and "3 meldingen aangemaakt." in page(response)


def test_web_refused_file_shows_every_row_and_creates_nothing(client, demo):
    login(client, LPA)
    before = verzuim_count()
    response = upload(client, csv_file(row(SAM), row(NOOR, brin="99BB")), proef=False)
    assert response.status_code == 422
    html = page(response)
    assert "Er is niets geïmporteerd" in html
    assert "Onbekend BSN: er staat geen leerling met dit BSN in uw gemeente." in html
    assert "In orde" in html and "Geweigerd" in html
    assert "Nu importeren" not in html
    assert verzuim_count() == before


def test_web_wrong_encoding_and_missing_file(client, demo):
    login(client, LPA)
    response = upload(client, f"{HEADER}\n{row(omschrijving='Daniëlle')}\n".encode("latin-1"))
    assert response.status_code == 422
    assert "sla het op als CSV UTF-8" in page(response)
    response = client.post("/duo/import", data={"proefimport": "y"}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Kies het CSV-bestand dat u wilt importeren." in page(response)


def test_web_export_downloads_csv_and_logs_the_access(client, demo):
    report = run_import(demo, csv_file(row(SAM), row(LOTTE)))
    login(client, LPA)
    html = page(client.get("/duo/export"))
    assert "Status terugmelden aan DUO" in html and f'value="{TODAY.year}-01-01"' in html
    lpa_id = demo.lpa.id
    response = client.post("/duo/export", data={"van": TODAY.isoformat(), "tot": TODAY.isoformat()})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment;" in response.headers["Content-Disposition"]
    rows = export_rows(response.get_data(as_text=True))
    assert {r["kenmerk"] for r in rows} == {r.reference for r in report.rows}
    logged = db.session.scalar(select(func.count()).select_from(AccessLog).where(
        AccessLog.user_id == lpa_id, AccessLog.what == "duo_export", AccessLog.via == "web"))
    assert logged == 2

    response = client.post("/duo/export", data={"van": TODAY.isoformat(),
                                                "tot": (TODAY - timedelta(days=3)).isoformat()})
    assert response.status_code == 422
    assert "Kies een einddatum op of na de begindatum." in page(response)


@pytest.mark.parametrize("email", ["school@devoorbeeld.test", "ouder1@voorbeeld.test",
                                   "beheer@voorbeeldstad.test", "jeugdarts@ggd-voorbeeld.test"])
def test_web_duo_pages_are_for_the_lpa_only(client, demo, email):
    login(client, email)
    assert client.get("/duo/import").status_code == 403
    assert client.post("/duo/export", data={"van": "2026-01-01", "tot": "2026-12-31"}).status_code == 403
    assert 'href="/duo/import"' not in page(client.get("/"))


# ------------------------------------------------------------------ API


def post_csv(client, headers, content: bytes, query: str = ""):
    return client.post(f"/api/v1/duo/import{query}", data=content, headers=headers,
                       content_type="text/csv")


def test_api_import_dry_run_real_and_refused(client, demo):
    headers = api_token(client, LPA_BUURDORP)
    noor = csv_file(row(NOOR, brin="99BB", code="LRV", uren="60"))
    before = verzuim_count()

    response = post_csv(client, headers, noor, "?dry_run=true")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ok"] is True and body["dry_run"] is True
    assert body["counts"] == {"created": 0, "valid": 1, "refused": 0, "duplicate": 0, "total": 1}
    assert body["rows"][0] == {"line": 2, "bsn": "******218", "brin": "99BB", "verzuimsoort": "LRV",
                               "status": "valid", "reason": "", "reference": None}
    assert verzuim_count() == before

    body = post_csv(client, headers, noor).get_json()
    assert body["ok"] is True and body["rows"][0]["status"] == "created"
    case = db.session.scalar(select(Case).where(Case.reference == body["rows"][0]["reference"]))
    assert case.data["verzuimsoort"] == "langdurig_relatief" and case.child.bsn == NOOR

    later = (date.fromisoformat(START) + timedelta(days=1)).isoformat()
    response = post_csv(client, headers, csv_file(row(NOOR, brin="99BB", code="V4", uren="30",
                                                      start=later),
                                                  row(SAM)))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_failed"
    assert body["fields"] == {"regel 3": ["Onbekend BSN: er staat geen leerling met dit BSN in uw gemeente."]}
    assert body["report"]["ok"] is False
    assert [r["status"] for r in body["report"]["rows"]] == ["valid", "refused"]
    assert NOOR not in response.get_data(as_text=True) and SAM not in response.get_data(as_text=True)
    assert verzuim_count() == before + 1

    response = post_csv(client, headers, f"{HEADER}\n{row(omschrijving='ë')}\n".encode("latin-1"))
    assert response.status_code == 422
    assert "CSV UTF-8" in response.get_json()["message"]
    assert response.get_json()["report"]["error"] == response.get_json()["message"]

    assert post_csv(client, headers, noor, "?dry_run=misschien").status_code == 400


def test_api_export(client, demo):
    run_import(demo, csv_file(row(NOOR, brin="99BB")), gemeente=demo.buurdorp)
    headers = api_token(client, LPA_BUURDORP)
    day = TODAY.isoformat()
    response = client.get(f"/api/v1/duo/export?van={day}&tot={day}", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    [only] = export_rows(response.get_data(as_text=True))
    assert (only["bsn"], only["brin"], only["verzuimsoort_code"], only["duo_status"]) == (NOOR, "99BB", "V3", "R")
    # Voorbeeldstad's LPA does not see Buurdorp's meldingen.
    other = client.get(f"/api/v1/duo/export?van={day}&tot={day}", headers=api_token(client, LPA))
    assert export_rows(other.get_data(as_text=True)) == []
    assert client.get("/api/v1/duo/export?van=2026-01-01", headers=headers).status_code == 400
    response = client.get(f"/api/v1/duo/export?van={day}&tot=2000-01-01", headers=headers)
    assert response.status_code == 422 and response.get_json()["fields"]["tot"]


@pytest.mark.parametrize("email", ["school@devoorbeeld.test", "ouder1@voorbeeld.test",
                                   "beheer@voorbeeldstad.test"])
def test_api_duo_is_for_the_lpa_only(client, demo, email):
    headers = api_token(client, email)
    before = verzuim_count()
    assert post_csv(client, headers, GOOD).status_code == 403
    assert client.get("/api/v1/duo/export?van=2026-01-01&tot=2026-12-31",
                      headers=headers).status_code == 403
    assert verzuim_count() == before
    assert post_csv(client, {}, GOOD).status_code == 401


def test_openapi_describes_the_duo_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    imp = document["paths"]["/api/v1/duo/import"]["post"]
    assert "text/csv" in imp["requestBody"]["content"]
    assert imp["x-roles"] == ["leerplichtambtenaar"]
    assert {"200", "400", "401", "403", "422"} <= set(imp["responses"])
    assert imp["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DuoImportReport"}
    assert [p["name"] for p in imp["parameters"]] == ["dry_run"]
    exp = document["paths"]["/api/v1/duo/export"]["get"]
    assert "text/csv" in exp["responses"]["200"]["content"]
    assert {p["name"] for p in exp["parameters"]} == {"van", "tot"}
    assert "report" in document["components"]["schemas"]["Error"]["properties"]
