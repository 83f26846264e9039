"""Time the queries that must stay fast at size, on the database of CASEWORK_DATABASE_URL.

    CASEWORK_DATABASE_URL=... .venv/bin/python scripts/benchmark.py [--runs 5] [--label SQLite] [--cold]

Expects synthetic data (flask --app casework generate). Measures, for the synthetic gemeente
with the most cases and its leerplichtambtenaar:
- the full leerplichttelling of last school year (services.reports.leerplichttelling);
- the SWV's regional view over the last eight quarters (services.reports.swv_overzicht);
- the LPA work list, first page sorted by due date (GET /api/v1/cases?per_page=25);
- a name search on that list (GET /api/v1/cases?per_page=25&q=…), a common and an absent name;
- the DUO vrijstellingen and verzuimstatus exports of last school year (services.duo);
- the web pages as a user opens them (session, templates, charts): the leerplichttelling and its
  .xlsx, the work list, the DUO status export as .xlsx, and the SWV's regional view.
Each is run once to warm the cache (reported as "eerste"), then --runs times; the median of
those runs is the figure. --cold (Linux, as root) empties the operating system's page cache
before each first run, so "eerste" is what a user gets after a pause in which the machine used
its memory for other things (PostgreSQL's own shared buffers stay: restart the server before
the command for a fully cold first report). The API calls go through the whole Flask stack (test client, bearer
token), not over a socket.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import has_app_context  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from casework import create_app  # noqa: E402
from casework.extensions import db  # noqa: E402
from casework.models import AuditEvent, Case, Child, Letter, Organisation, User  # noqa: E402


def dutch(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


COLD = False


def drop_page_cache() -> None:
    """Write out and drop the operating system's page cache (Linux, root only)."""
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def timed(fn, runs: int) -> tuple[float, float, object]:
    """(first run, median of the next `runs`) in seconds, and the last result."""
    if COLD:
        drop_page_cache()
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if has_app_context():
            db.session.rollback()  # every run starts like a new request
    return first, statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--label", default="")
    parser.add_argument("--cold", action="store_true",
                        help="empty the page cache before each first run (Linux, as root)")
    args = parser.parse_args()
    if args.cold:
        global COLD
        try:
            drop_page_cache()
        except OSError as exc:
            parser.error(f"--cold needs root on Linux ({exc})")
        COLD = True

    app = create_app()
    from casework.services import duo, reports

    rows: list[tuple[str, float, float, str]] = []
    with app.app_context():
        dialect = db.engine.dialect.name
        counts = {name: db.session.scalar(select(func.count()).select_from(model))
                  for name, model in (("zaken", Case), ("auditregels", AuditEvent),
                                      ("brieven", Letter))}
        gemeente_id, n_gemeente = db.session.execute(
            select(Case.gemeente_id, func.count()).group_by(Case.gemeente_id)
            .order_by(func.count().desc()).limit(1)).one()
        gemeente = db.session.get(Organisation, gemeente_id)
        lpa_email = db.session.scalar(select(User.email).where(
            User.organisation_id == gemeente_id, User.role == "leerplichtambtenaar",
            User.active.is_(True)).order_by(User.id).limit(1))
        swv_id = db.session.scalar(select(Organisation.id).where(
            Organisation.kind == "swv", Organisation.code.like(gemeente.code.split("-")[0] + "-%"))
            .order_by(Organisation.id).limit(1))
        today = date.today()
        first = (today.year if today.month >= 8 else today.year - 1) - 1
        schooljaar = f"{first}-{first + 1}"
        print(f"Database: {dialect} ({args.label or db.engine.url.render_as_string(hide_password=True)})")
        print(f"Machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
              f"{db.engine.dialect.name} {'.'.join(map(str, db.engine.dialect.server_version_info or ()))}")
        print("Inhoud: " + ", ".join(f"{dutch(n)} {name}" for name, n in counts.items()))
        print(f"Gemeente: {gemeente.naam} ({gemeente.code}), {dutch(n_gemeente)} zaken")
        db.session.rollback()

        def telling():
            return reports.leerplichttelling(gemeente_id, schooljaar)

        f, m, result = timed(telling, args.runs)
        rows.append((f"leerplichttelling {schooljaar}", f, m,
                     f"{result['vrijstellingen']['nieuw']} nieuwe vrijstellingen, "
                     f"{result['verzuim']['meldingen']['totaal']} meldingen"))

        if swv_id is not None:
            van, tot = reports.default_swv_range(today)

            def swv():
                return reports.swv_overzicht(swv_id, van, tot)

            f, m, result = timed(swv, args.runs)
            rows.append(("SWV-overzicht 8 kwartalen", f, m,
                         f"{len(result['gemeenten'])} gemeenten"))

        def export():
            return duo.export_vrijstellingen([gemeente_id], date(first, 8, 1), date(first + 1, 7, 31))

        f, m, text = timed(export, args.runs)
        rows.append((f"DUO-vrijstellingen {schooljaar}", f, m, f"{text.count(chr(10)) - 1} regels"))

        def status_export():
            return duo.export_duo_status([gemeente_id], date(first, 8, 1), date(first + 1, 7, 31))

        f, m, text = timed(status_export, args.runs)
        rows.append((f"DUO-verzuimstatus {schooljaar}", f, m, f"{text.count(chr(10)) - 1} regels"))
        swv_email = db.session.scalar(select(User.email).where(
            User.organisation_id == swv_id, User.role == "swv_adviseur", User.active.is_(True))
            .order_by(User.id).limit(1)) if swv_id is not None else None
        db.session.rollback()

    # The pages a user opens, through the whole web stack (session, CSRF, templates, charts).
    def web_client(email: str):
        web = app.test_client()
        page = web.get("/inloggen").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        data = {"email": email, "wachtwoord": app.config["DEMO_PASSWORD"]}
        if token:
            data["csrf_token"] = token.group(1)
        response = web.post("/inloggen", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return web

    def get(web, url: str):
        def call():
            response = web.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response
        return call

    lpa_web = web_client(lpa_email)
    for label, url in ((f"pagina leerplichttelling {schooljaar}",
                        f"/rapportage/leerplichttelling?gemeente={gemeente_id}&schooljaar={schooljaar}"),
                       (f"download .xlsx leerplichttelling",
                        f"/rapportage/leerplichttelling.xlsx?gemeente={gemeente_id}&schooljaar={schooljaar}"),
                       ("pagina werkvoorraad (/zaken)", "/zaken")):
        f, m, response = timed(get(lpa_web, url), args.runs)
        rows.append((label, f, m, f"{len(response.get_data()) // 1024} kB"))
    page = lpa_web.get("/duo/export").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)

    def duo_xlsx():
        data = {"van": f"{first}-08-01", "tot": f"{first + 1}-07-31", "formaat": "xlsx"}
        if token:
            data["csrf_token"] = token.group(1)
        response = lpa_web.post("/duo/export", data=data)
        assert response.status_code == 200, response.status_code
        return response

    f, m, response = timed(duo_xlsx, args.runs)
    rows.append((f"download .xlsx DUO-verzuimstatus", f, m, f"{len(response.get_data()) // 1024} kB"))
    if swv_email:
        f, m, response = timed(get(web_client(swv_email), "/rapportage/regio"), args.runs)
        rows.append(("pagina regio-overzicht SWV", f, m, f"{len(response.get_data()) // 1024} kB"))

    client = app.test_client()
    response = client.post("/api/v1/auth/token", json={"email": lpa_email,
                                                        "password": app.config["DEMO_PASSWORD"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    headers = {"Authorization": f"Bearer {response.get_json()['token']}"}

    def api(query: str):
        def call():
            r = client.get(f"/api/v1/cases?{query}", headers=headers)
            assert r.status_code == 200, r.get_data(as_text=True)
            return r.get_json()
        return call

    with app.app_context():
        child_id = db.session.scalar(select(func.min(Case.child_id))
                                     .where(Case.gemeente_id == gemeente_id))
        achternaam = db.session.scalar(select(Child.achternaam).where(Child.id == child_id))
    for label, query in (("werklijst LPA (1e pagina)", "per_page=25"),
                         (f"zoeken q={achternaam}", f"per_page=25&q={achternaam}"),
                         ("zoeken q=Onbekendenaam", "per_page=25&q=Onbekendenaam")):
        f, m, body = timed(api(query), args.runs)
        rows.append((label, f, m, f"{body['total']} zaken"))

    print(f"{'meting':<34} {'eerste':>8} {'mediaan':>8}  resultaat")
    for label, f, m, extra in rows:
        print(f"{label:<34} {f:>7.2f}s {m:>7.2f}s  {extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
