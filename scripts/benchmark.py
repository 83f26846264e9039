"""Time casework at size on the database of CASEWORK_DATABASE_URL, and compare it with the floor.

    CASEWORK_DATABASE_URL=... .venv/bin/python scripts/benchmark.py [--runs 5] [--label SQLite]
        [--cold] [--cases 10000] [--json results.json] [--skip-reports] [--skip-http]
        [--skip-letters] [--rounds 3] [--fire-connections 4,16] [--list-users 1,16] ...

Expects synthetic data (flask --app casework generate). Everything is measured for the
synthetic gemeente with the most cases and its leerplichtambtenaar.

Reports (no floor; times only, as before): the full leerplichttelling of last school year
(services.reports.leerplichttelling), the SWV's regional view over the last eight quarters, the
DUO vrijstellingen and verzuimstatus exports of last school year, the web pages as a user opens
them (session, templates, charts: the leerplichttelling and its .xlsx, the work list, the DUO
status export as .xlsx, the SWV's regional view) and the API's work list and name search
through the test client. Each is run once ("eerste"), then --runs times; the median is the
figure. --cold (Linux, as root) empties the page cache before each first run.

Casework against the floor (benchmarks/floor.py: a minimal Flask + SQLAlchemy Core app doing
the same work on the same database), over real HTTP on 127.0.0.1: both apps are served by
gunicorn with deploy/gunicorn.conf.py (sync workers, the same number for both, --max-requests 0
so no worker is replaced while its CPU is counted), the load comes from a separate process
(benchmarks/load.py: one thread and one http.client connection per simulated user). Rounds
alternate (casework, floor; the next round floor first), so a busy machine weighs on both alike.
- fire: the LPA takes a school's signaal ter kennisgeving aan (neem_ter_kennisgeving_aan: one
  audit row, one letter to the school). The cases are made first through the service layer
  (open_case by the school's verzuimcoördinator), one per fire, for both apps alike. Per
  connection count: throughput, p50/p95 latency and the CPU of the server processes (all
  gunicorn processes, /proc schedstat) per fire, and on a PostgreSQL server on this machine the
  CPU of its backends for the database per fire;
- the work list (GET /api/v1/cases?per_page=25) and the name and reference search (q=…) at
  1 and 16 users: p50/p95;
- letters: scripts/bench_letters.py's letter_figures() when that file exists.
The table gives casework's figure, the floor's, the ratio and the goal of the performance issue,
with PASS or NOT YET. --json PATH also writes everything (with every latency) to a file.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# ------------------------------------------------------------------ pure helpers


def dutch(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def percentile(values, p: float) -> float | None:
    """The p-th percentile with linear interpolation between the closest ranks (numpy's default);
    None for no values."""
    data = sorted(values)
    if not data:
        return None
    k = (len(data) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def ratio(value: float | None, floor: float | None) -> float | None:
    """casework / floor; None when either is missing or the floor is 0."""
    if value is None or floor is None or floor == 0:
        return None
    return value / floor


def verdict(value: float | None, op: str, goal: float) -> str:
    """PASS or NOT YET for value against goal (op "<=" or ">="); "-" without a value."""
    if value is None:
        return "-"
    ok = value <= goal if op == "<=" else value >= goal
    return "PASS" if ok else "NOT YET"


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


COLUMNS = (("figure", "figure"), ("casework", "casework"), ("floor", "floor"),
           ("ratio", "ratio"), ("goal", "goal"), ("verdict", ""))


def format_table(rows: list[dict]) -> str:
    """A plain-text table: figure, casework, floor, ratio, goal, PASS/NOT YET."""
    cells = [[title for _, title in COLUMNS]] + [[_cell(r.get(key)) for key, _ in COLUMNS]
                                                 for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]

    def line(row):
        out = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in (1, 2, 3)]
        out += [row[4].ljust(widths[4]), row[5]]
        return "  ".join(out).rstrip()

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths[:5]) + "  " + "-" * 7]
                     + [line(r) for r in cells[1:]])


def markdown_table(results: list[dict]) -> str:
    """One Markdown table of several --json results side by side (e.g. SQLite and PostgreSQL):
    per database casework, floor and ratio, then the goal and the verdicts."""
    labels = [r["meta"].get("label") or r["meta"].get("database", "?") for r in results]
    figures: list[str] = []
    for r in sorted(results, key=lambda r: -len(r.get("table", []))):  # the fullest one's order
        for row in r.get("table", []):
            if row["figure"] not in figures:
                figures.append(row["figure"])
    head = ["figure"] + [f"{label} {col}" for label in labels for col in ("casework", "floor", "ratio")]
    head += ["goal"] + [f"{label}" for label in labels]
    lines = ["| " + " | ".join(head) + " |",
             "| --- | " + " | ".join(["---:"] * (3 * len(labels))) + " | --- | "
             + " | ".join(["---"] * len(labels)) + " |"]
    for figure in figures:
        rows = [next((x for x in r.get("table", []) if x["figure"] == figure), {}) for r in results]
        cells = [figure]
        for row in rows:
            cells += [_cell(row.get("casework")), _cell(row.get("floor")), _cell(row.get("ratio"))]
        cells.append(next((row["goal"] for row in rows if row.get("goal")), ""))
        cells += [row.get("verdict", "-") for row in rows]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def goal_row(figure: str, casework, floor, goal: str = "", *, on: str = "value",
             op: str = "<=", target: float | None = None) -> dict:
    """A table row; the goal applies to casework's value (on="value") or to the ratio."""
    r = ratio(casework, floor)
    checked = r if on == "ratio" else casework
    return {"figure": figure, "casework": casework, "floor": floor, "ratio": r, "goal": goal,
            "verdict": verdict(checked, op, target) if target is not None else "-"}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def git_commit(*paths: str) -> str:
    """The last commit (of these paths: the product's code, not the benchmark's)."""
    try:
        return subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %s", "--", *paths],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


# ------------------------------------------------------------------ report timings (as before)

COLD = False


def drop_page_cache() -> None:
    """Write out and drop the operating system's page cache (Linux, root only)."""
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def timed(fn, runs: int) -> tuple[float, float, object]:
    """(first run, median of the next `runs`) in seconds, and the last result."""
    from flask import has_app_context

    from casework.extensions import db

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


def otp_for(app, email: str) -> str:
    """The current code of a synthetic or demo professional (the demo TOTP secret). A code works
    once per 30-second step, so the user's last used step is forgotten first (benchmark data
    only: never point this script at a real database)."""
    import pyotp
    from sqlalchemy import func, update

    from casework.extensions import db
    from casework.models import User

    with app.app_context():
        db.session.execute(update(User).where(func.lower(User.email) == email.lower())
                           .values(totp_last_step=None))
        db.session.commit()
    return pyotp.TOTP(app.config["DEMO_TOTP_SECRET"]).now()


def api_headers(app, email: str) -> dict:
    """A bearer token through the real endpoint (POST /api/v1/auth/token with the code)."""
    client = app.test_client()
    response = client.post("/api/v1/auth/token", json={
        "email": email, "password": app.config["DEMO_PASSWORD"], "otp": otp_for(app, email)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def web_client(app, email: str):
    """Signed in on the web like a person: password, then the code of the second step."""
    def csrf(page: str) -> dict:
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        return {"csrf_token": token.group(1)} if token else {}

    web = app.test_client()
    page = web.get("/inloggen").get_data(as_text=True)
    response = web.post("/inloggen", data={"email": email, "wachtwoord": app.config["DEMO_PASSWORD"],
                                           **csrf(page)})
    if response.status_code == 302 and response.location.startswith("/inloggen/code"):
        page = web.get("/inloggen/code").get_data(as_text=True)
        response = web.post("/inloggen/code", data={"code": otp_for(app, email), **csrf(page)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return web


def report_measurements(app, ctx: dict, runs: int) -> list[tuple[str, float, float, str]]:
    from sqlalchemy import func, select

    from casework.extensions import db
    from casework.models import Case, Child, User
    from casework.services import duo, reports

    rows: list[tuple[str, float, float, str]] = []
    gemeente_id, swv_id = ctx["gemeente_id"], ctx["swv_id"]
    today = date.today()
    first = (today.year if today.month >= 8 else today.year - 1) - 1
    schooljaar = f"{first}-{first + 1}"
    with app.app_context():
        def telling():
            return reports.leerplichttelling(gemeente_id, schooljaar)

        f, m, result = timed(telling, runs)
        rows.append((f"leerplichttelling {schooljaar}", f, m,
                     f"{result['vrijstellingen']['nieuw']} nieuwe vrijstellingen, "
                     f"{result['verzuim']['meldingen']['totaal']} meldingen"))

        if swv_id is not None:
            van, tot = reports.default_swv_range(today)

            def swv():
                return reports.swv_overzicht(swv_id, van, tot)

            f, m, result = timed(swv, runs)
            rows.append(("SWV-overzicht 8 kwartalen", f, m, f"{len(result['gemeenten'])} gemeenten"))

        def export():
            return duo.export_vrijstellingen([gemeente_id], date(first, 8, 1), date(first + 1, 7, 31))

        f, m, text = timed(export, runs)
        rows.append((f"DUO-vrijstellingen {schooljaar}", f, m, f"{text.count(chr(10)) - 1} regels"))

        def status_export():
            return duo.export_duo_status([gemeente_id], date(first, 8, 1), date(first + 1, 7, 31))

        f, m, text = timed(status_export, runs)
        rows.append((f"DUO-verzuimstatus {schooljaar}", f, m, f"{text.count(chr(10)) - 1} regels"))
        swv_email = db.session.scalar(select(User.email).where(
            User.organisation_id == swv_id, User.role == "swv_adviseur", User.active.is_(True))
            .order_by(User.id).limit(1)) if swv_id is not None else None
        db.session.rollback()

    # The pages a user opens, through the whole web stack (session, CSRF, templates, charts).
    def get(web, url: str):
        def call():
            response = web.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response
        return call

    lpa_web = web_client(app, ctx["lpa_email"])
    for label, url in ((f"pagina leerplichttelling {schooljaar}",
                        f"/rapportage/leerplichttelling?gemeente={gemeente_id}&schooljaar={schooljaar}"),
                       ("download .xlsx leerplichttelling",
                        f"/rapportage/leerplichttelling.xlsx?gemeente={gemeente_id}&schooljaar={schooljaar}"),
                       ("pagina werkvoorraad (/zaken)", "/zaken")):
        f, m, response = timed(get(lpa_web, url), runs)
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

    f, m, response = timed(duo_xlsx, runs)
    rows.append(("download .xlsx DUO-verzuimstatus", f, m, f"{len(response.get_data()) // 1024} kB"))
    if swv_email:
        f, m, response = timed(get(web_client(app, swv_email), "/rapportage/regio"), runs)
        rows.append(("pagina regio-overzicht SWV", f, m, f"{len(response.get_data()) // 1024} kB"))

    client = app.test_client()
    headers = ctx["headers"]

    def api(query: str):
        def call():
            r = client.get(f"/api/v1/cases?{query}", headers=headers)
            assert r.status_code == 200, r.get_data(as_text=True)
            return r.get_json()
        return call

    with app.app_context():
        child_id = db.session.scalar(select(func.min(Case.child_id)).where(Case.gemeente_id == gemeente_id))
        achternaam = db.session.scalar(select(Child.achternaam).where(Child.id == child_id))
    for label, query in (("werklijst LPA (1e pagina)", "per_page=25"),
                         (f"zoeken q={achternaam}", f"per_page=25&q={achternaam}"),
                         ("zoeken q=Onbekendenaam", "per_page=25&q=Onbekendenaam")):
        f, m, body = timed(api(query), runs)
        rows.append((label, f, m, f"{body['total']} zaken"))
    return rows


# ------------------------------------------------------------------ servers over HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def process_cpu_seconds(pid: int, *, with_reaped: bool = False) -> float:
    """CPU time of one process: the sum of its threads' schedstat run time (nanoseconds), or
    utime+stime (clock ticks) where schedstat is missing; with_reaped adds its waited-for
    children (cutime+cstime)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        total = (int(fields[11]) + int(fields[12])) / tick
    if with_reaped:
        total += (int(fields[13]) + int(fields[14])) / tick
    return total


class Server:
    """One app under gunicorn with the deploy settings, on its own port."""

    def __init__(self, name: str, target: str, workers: int, env: dict, log_dir: Path) -> None:
        self.name, self.port = name, free_port()
        self.log = open(log_dir / f"{name}.log", "w")
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
               "--max-requests", "0", "--chdir", str(ROOT), target]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.workers = workers

    def wait_ready(self, timeout: float = 60) -> None:
        import http.client

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn stopped (see {self.log.name})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200 and len(_children(self.process.pid)) >= self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name}: not ready after {timeout} s (see {self.log.name})")

    def cpu_seconds(self) -> float:
        pid = self.process.pid
        return (process_cpu_seconds(pid, with_reaped=True)
                + sum(process_cpu_seconds(child) for child in _children(pid)))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def run_load(port: int, connections: int, requests: list[dict]) -> dict:
    """benchmarks/load.py in its own process; returns its result."""
    spec = json.dumps({"host": "127.0.0.1", "port": port, "connections": connections,
                       "requests": requests})
    out = subprocess.run([sys.executable, "-m", "benchmarks.load"], input=spec, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


class DatabaseCpu:
    """PostgreSQL on this machine: the CPU time of the server's backends for this database
    (pg_stat_activity's pids, read in /proc), so a fire's cost in the database shows too.
    None elsewhere (SQLite runs inside the app's processes; a remote server's /proc is not here)."""

    def __init__(self, app) -> None:
        self.app = app
        with app.app_context():
            from casework.extensions import db

            engine = db.engine
            self.usable = (engine.dialect.name == "postgresql"
                           and (engine.url.host or "localhost") in ("localhost", "127.0.0.1", "::1"))

    def snapshot(self) -> dict[int, float] | None:
        if not self.usable:
            return None
        from sqlalchemy import text

        from casework.extensions import db

        with self.app.app_context():
            pids = db.session.scalars(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")).all()
            db.session.rollback()
        found = {pid: process_cpu_seconds(pid) for pid in pids if Path(f"/proc/{pid}").exists()}
        if pids and not found:
            self.usable = False  # not this machine's server after all
            return None
        return found

    @staticmethod
    def between(before: dict | None, after: dict | None) -> float | None:
        if before is None or after is None:
            return None
        return sum(max(cpu - before.get(pid, 0.0), 0.0) for pid, cpu in after.items())


def measured(server: Server, connections: int, requests: list[dict],
             database: DatabaseCpu | None = None) -> dict:
    db_before = database.snapshot() if database else None
    before = server.cpu_seconds()
    result = run_load(server.port, connections, requests)
    result["cpu"] = server.cpu_seconds() - before
    result["db_cpu"] = DatabaseCpu.between(db_before, database.snapshot() if database else None)
    result["n"] = len(requests)
    return result


def merged(results: list[dict]) -> dict:
    """The rounds of one app and figure together: latencies in ms, throughput, CPU per request.
    Only answers with status 200 count for the latencies; "failed" says how many others."""
    lat = [x * 1000 for r in results for x, status in zip(r["latencies"], r["codes"]) if status == 200]
    n = sum(r["n"] for r in results)
    wall = sum(r["wall"] for r in results)
    statuses: dict[str, int] = {}
    for r in results:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    return {"n": n, "failed": n - len(lat), "p50": percentile(lat, 50), "p95": percentile(lat, 95),
            "throughput": n / wall if wall else None,
            "cpu_ms": 1000 * sum(r["cpu"] for r in results) / n if n else None,
            "db_cpu_ms": (1000 * sum(r["db_cpu"] for r in results) / n
                          if n and all(r.get("db_cpu") is not None for r in results) else None),
            "statuses": statuses, "errors": [e for r in results for e in r["errors"]][:5],
            "latencies_ms": lat}


# ------------------------------------------------------------------ the cases to fire on

REDEN = "Het verzuim is opgelost; geen verdere stappen nodig."


def prepare_fire_cases(app, gemeente_id: int, n: int) -> list[tuple[int, int]]:
    """n school signalen in the gemeente, each in state 'ontvangen' (so the LPA can take each
    ter kennisgeving aan once), made through the service layer; [(case id, version)]."""
    from sqlalchemy import select

    from casework.extensions import db
    from casework.models import Child, Organisation, User
    from casework.services.cases import commit, open_case
    from casework.services.errors import DomainError

    today = date.today()
    made: list[tuple[int, int]] = []
    with app.app_context():
        coordinators = dict(db.session.execute(
            select(User.organisation_id, User.id).join(Organisation, Organisation.id == User.organisation_id)
            .where(Organisation.kind == "school", Organisation.gemeente_id == gemeente_id,
                   User.role == "school", User.active.is_(True)).order_by(User.id)).all())
        children = db.session.execute(
            select(Child.id, Child.school_id).where(
                Child.gemeente_id == gemeente_id, Child.school_id.in_(list(coordinators)),
                Child.geboortedatum.between(today - timedelta(days=365 * 15),
                                            today - timedelta(days=365 * 7)))
            .order_by(Child.id).limit(max(50, n // 4))).all()
        if not children:
            raise RuntimeError("geen leerlingen met een school en verzuimcoördinator in de gemeente")
        users: dict[int, User] = {}
        failures = 0
        i = 0
        while len(made) < n:
            child_id, school_id = children[i % len(children)]
            i += 1
            user = users.get(school_id) or db.session.get(User, coordinators[school_id])
            users[school_id] = user
            data = {"child_id": child_id, "soort": "signaal", "verzuimsoort": None, "uren": 6,
                    "keer_te_laat": 8, "periode_start": (today - timedelta(days=14)).isoformat(),
                    "periode_eind": (today - timedelta(days=1)).isoformat(),
                    "omschrijving": "Vaak te laat in het eerste uur (benchmark).",
                    "verzuimbeleid_situatie": "Structureel te laat (verzuimbeleid, situatie 2)."}
            try:
                case = open_case(user, "verzuim", data)
                commit()
                made.append((case.id, case.version))
            except DomainError as exc:
                db.session.rollback()
                failures += 1
                if failures > 20 and failures > len(made):
                    raise RuntimeError(f"signalen maken lukt niet: {exc}") from exc
            if len(made) % 200 == 0:
                db.session.expunge_all()
                users.clear()
        db.session.remove()
    return made


# ------------------------------------------------------------------ the HTTP comparison


def http_comparison(app, ctx: dict, args, log) -> tuple[list[dict], dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.setdefault("CASEWORK_QUEUE_BACKEND", "memory")
    workers = args.workers or min(2 * (os.cpu_count() or 1) + 1, 8)
    fire_conns = [int(x) for x in args.fire_connections.split(",") if x]
    list_users = [int(x) for x in args.list_users.split(",") if x]
    warm = 4 * workers
    needed = 2 * (args.rounds * len(fire_conns) * args.fire_requests + warm)
    log(f"fire: {needed} signalen maken (service layer) ...")
    started = time.perf_counter()
    supply = prepare_fire_cases(app, ctx["gemeente_id"], needed)
    log(f"fire: {len(supply)} signalen in {time.perf_counter() - started:.0f} s")
    headers = ctx["headers"]
    prefix = {"casework": "/api/v1", "floor": "/floor"}

    def fires(name: str, count: int) -> list[dict]:
        batch = [supply.pop() for _ in range(count)]
        return [{"method": "POST", "headers": headers,
                 "path": f"{prefix[name]}/cases/{case_id}/events/neem_ter_kennisgeving_aan",
                 "body": {"reden": REDEN, "expected_version": version}} for case_id, version in batch]

    def gets(name: str, query: str, count: int) -> list[dict]:
        return [{"method": "GET", "headers": headers, "path": f"{prefix[name]}/cases?{query}"}] * count

    queries = {"list": "per_page=25", "search name": f"per_page=25&q={quote(ctx['surname'])}",
               "search reference": f"per_page=25&q={quote(ctx['reference_part'])}"}
    log_dir = Path(tempfile.mkdtemp(prefix="casework-bench-"))
    servers = {"casework": Server("casework", "wsgi:app", workers, env, log_dir),
               "floor": Server("floor", "benchmarks.floor:create_app()", workers, env, log_dir)}
    raw: dict[str, dict[str, list]] = {}
    database = DatabaseCpu(app)
    try:
        for s in servers.values():
            s.wait_ready()
        for name, s in servers.items():  # every worker imported, connected and warm
            for kind, query in queries.items():
                run_load(s.port, workers, gets(name, query, 2 * workers))
            warmup = run_load(s.port, workers, fires(name, warm))
            if warmup["statuses"].get("200", 0) != warm:
                raise RuntimeError(f"{name}: warm-up fires failed: {warmup['statuses']} {warmup['errors']}")
        for r in range(args.rounds):
            order = ("casework", "floor") if r % 2 == 0 else ("floor", "casework")
            for conns in fire_conns:
                for name in order:
                    res = measured(servers[name], conns, fires(name, args.fire_requests), database)
                    raw.setdefault(f"fire {conns}", {}).setdefault(name, []).append(res)
            for users in list_users:
                for kind, query in queries.items():
                    for name in order:
                        res = measured(servers[name], users, gets(name, query, args.list_requests))
                        raw.setdefault(f"{kind} {users}", {}).setdefault(name, []).append(res)
            log(f"ronde {r + 1}/{args.rounds} klaar (load average {load_average()})")
    finally:
        for s in servers.values():
            s.stop()

    figures = {key: {name: merged(results) for name, results in by_app.items()}
               for key, by_app in raw.items()}
    rows: list[dict] = []
    row_keys: list[str] = []  # the figures key of each row
    for conns in fire_conns:
        row_keys += [f"fire {conns}"] * 4
        f = figures[f"fire {conns}"]
        cw, fl = f["casework"], f["floor"]
        rows.append(goal_row(f"fire {conns} conn: req/s", cw["throughput"], fl["throughput"]))
        rows.append(goal_row(f"fire {conns} conn: p50 ms", cw["p50"], fl["p50"]))
        if conns == 4:
            rows.append(goal_row(f"fire {conns} conn: p95 ms", cw["p95"], fl["p95"],
                                 "<= 15 ms (idle machine)", target=15))
        else:
            rows.append(goal_row(f"fire {conns} conn: p95 ms", cw["p95"], fl["p95"]))
        rows.append(goal_row(f"fire {conns} conn: CPU ms/fire", cw["cpu_ms"], fl["cpu_ms"],
                             "ratio <= 1.5", on="ratio", target=1.5))
        if cw["db_cpu_ms"] is not None and fl["db_cpu_ms"] is not None:
            row_keys.append(f"fire {conns}")
            rows.append(goal_row(f"fire {conns} conn: PostgreSQL CPU ms/fire", cw["db_cpu_ms"],
                                 fl["db_cpu_ms"]))
    for users in list_users:
        for kind in queries:
            row_keys += [f"{kind} {users}"] * 2
            f = figures[f"{kind} {users}"]
            cw, fl = f["casework"], f["floor"]
            p50_goal = p95_goal = None
            if kind == "list" and users == 16:
                p50_goal, p95_goal = 14, 50
            elif kind != "list":
                p50_goal = 50
            rows.append(goal_row(f"{kind} {users} user{'s' if users > 1 else ''}: p50 ms", cw["p50"],
                                 fl["p50"], f"<= {p50_goal} ms" if p50_goal else "", target=p50_goal))
            rows.append(goal_row(f"{kind} {users} user{'s' if users > 1 else ''}: p95 ms", cw["p95"],
                                 fl["p95"], f"<= {p95_goal} ms" if p95_goal else "", target=p95_goal))
    problems = {key: {name: (m["statuses"], m["errors"]) for name, m in by_app.items()
                      if set(m["statuses"]) != {"200"}} for key, by_app in figures.items()}
    problems = {k: v for k, v in problems.items() if v}
    for row, key in zip(rows, row_keys):
        failed = sum(m["failed"] for m in figures[key].values())
        if failed:
            row["verdict"] = f"ERRORS ({failed} not 200)"
    for key, by_app in figures.items():
        for m in by_app.values():
            m.pop("errors", None)
    return rows, {"workers": workers, "figures": figures, "problems": problems,
                  "logs": str(log_dir)}


# ------------------------------------------------------------------ letters


def letters_comparison(n: int) -> tuple[list[dict], dict | str]:
    path = ROOT / "scripts" / "bench_letters.py"
    if not path.exists():
        return [], "scripts/bench_letters.py ontbreekt: geen brieven gemeten"
    try:
        spec = importlib.util.spec_from_file_location("bench_letters", path)
        module = importlib.util.module_from_spec(spec)
        # Registered under its name: the worker pool pickles its functions by module name.
        sys.modules["bench_letters"] = module
        spec.loader.exec_module(module)
        figures = module.letter_figures(processes=(1, 2), n=n)
    except Exception as exc:  # noqa: BLE001 - another helper's script: report, don't stop
        return [], f"scripts/bench_letters.py niet bruikbaar: {type(exc).__name__}: {exc}"
    rows = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix} {k}".strip(), v)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            name = prefix.lower()
            if "ratio" in name and ("worker" in name or "throughput" in name):
                rows.append(goal_row(f"letters: {prefix}", float(value), None,
                                     ">= 0.9 x bare", op=">=", target=0.9))
            elif "product" in name and "ms" in name:
                pages = next((n for kind, n in figures.get("pages", {}).items()
                              if kind in prefix), 1)
                if pages == 1:
                    rows.append(goal_row(f"letters: {prefix}", float(value), None,
                                         "<= 40 ms (one page)", target=40))
                else:  # the goal is a one-page letter's
                    rows.append(goal_row(f"letters: {prefix} ({pages} pages)", float(value), None))
            else:
                rows.append(goal_row(f"letters: {prefix}", float(value), None))

    walk("", figures)
    return rows, figures


# ------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="report timings: runs after the first")
    parser.add_argument("--label", default="")
    parser.add_argument("--cold", action="store_true",
                        help="empty the page cache before each first run (Linux, as root)")
    parser.add_argument("--cases", type=int, default=None,
                        help="the number of synthetic cases expected in the database (a check)")
    parser.add_argument("--json", metavar="PATH", help="write all results to this file")
    parser.add_argument("--skip-reports", action="store_true", help="no report timings")
    parser.add_argument("--skip-http", action="store_true", help="no casework-vs-floor over HTTP")
    parser.add_argument("--skip-letters", action="store_true", help="no letter figures")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per figure")
    parser.add_argument("--fire-connections", default="4,16")
    parser.add_argument("--fire-requests", type=int, default=100, help="fires per app per round")
    parser.add_argument("--list-users", default="1,16")
    parser.add_argument("--list-requests", type=int, default=60,
                        help="list/search requests per app per round")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers for both apps (default: the deploy config's)")
    parser.add_argument("--letters-n", type=int, default=20, help="letters per letter figure")
    parser.add_argument("--markdown", nargs="+", metavar="JSON",
                        help="only print the tables of earlier --json results side by side as "
                             "Markdown (docs/performance.md), and stop")
    args = parser.parse_args()
    if args.markdown:
        print(markdown_table([json.loads(Path(p).read_text()) for p in args.markdown]))
        return 0
    if args.cold:
        global COLD
        try:
            drop_page_cache()
        except OSError as exc:
            parser.error(f"--cold needs root on Linux ({exc})")
        COLD = True

    from sqlalchemy import func, select

    from casework import create_app
    from casework.extensions import db
    from casework.models import AuditEvent, Case, Child, Letter, Organisation, User

    def log(message: str) -> None:
        print(f"  [{datetime.now(timezone.utc):%H:%M:%S}] {message}", file=sys.stderr, flush=True)

    app = create_app()
    started_at = datetime.now(timezone.utc)
    meta = {"date": started_at.isoformat(timespec="seconds"), "commit": git_commit(),
            "product_commit": git_commit("casework", "config", "migrations", "wsgi.py"),
            "load_average_start": load_average(), "label": args.label}
    with app.app_context():
        dialect = db.engine.dialect.name
        counts = {name: db.session.scalar(select(func.count()).select_from(model))
                  for name, model in (("zaken", Case), ("auditregels", AuditEvent), ("brieven", Letter))}
        gemeente_id, n_gemeente = db.session.execute(
            select(Case.gemeente_id, func.count()).group_by(Case.gemeente_id)
            .order_by(func.count().desc()).limit(1)).one()
        gemeente = db.session.get(Organisation, gemeente_id)
        gemeente_code, gemeente_naam = gemeente.code, gemeente.naam
        lpa_email = db.session.scalar(select(User.email).where(
            User.organisation_id == gemeente_id, User.role == "leerplichtambtenaar",
            User.active.is_(True)).order_by(User.id).limit(1))
        swv_id = db.session.scalar(select(Organisation.id).where(
            Organisation.kind == "swv", Organisation.code.like(gemeente_code.split("-")[0] + "-%"))
            .order_by(Organisation.id).limit(1))
        child_id = db.session.scalar(select(func.min(Case.child_id)).where(Case.gemeente_id == gemeente_id))
        surname = db.session.scalar(select(Child.achternaam).where(Child.id == child_id))
        reference = db.session.scalar(select(Case.reference).where(
            Case.gemeente_id == gemeente_id, Case.reference.like("SYN-%")).order_by(Case.id).limit(1))
        version = ".".join(map(str, db.engine.dialect.server_version_info or ()))
        url = db.engine.url.render_as_string(hide_password=True)
        db.session.rollback()
    meta.update(database=dialect, database_version=version, url=url, counts=counts,
                gemeente=gemeente_code, gemeente_cases=n_gemeente, cores=os.cpu_count(),
                cpu=cpu_model(), python=platform.python_version())
    print(f"Database: {dialect} ({args.label or url})")
    print(f"Machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
          f"{dialect} {version}; load average {meta['load_average_start']}")
    print(f"Code: {meta['commit']}; product code of {meta['product_commit']}")
    print("Inhoud: " + ", ".join(f"{dutch(n)} {name}" for name, n in counts.items()))
    print(f"Gemeente: {gemeente_naam} ({gemeente_code}), {dutch(n_gemeente)} zaken")
    if args.cases and not 0.9 * args.cases <= counts["zaken"] <= 1.2 * args.cases:
        print(f"Let op: verwacht ongeveer {dutch(args.cases)} zaken, de database heeft er "
              f"{dutch(counts['zaken'])} (scripts/benchmark.sh maakt ze).", file=sys.stderr)
    ctx = {"gemeente_id": gemeente_id, "swv_id": swv_id, "lpa_email": lpa_email,
           "surname": surname, "reference_part": reference[:-2] if reference else "SYN-VZ",
           "headers": api_headers(app, lpa_email)}

    results: dict = {"meta": meta}
    table: list[dict] = []
    if not args.skip_http:
        rows, detail = http_comparison(app, ctx, args, log)
        table += rows
        results["http"] = detail
        if detail["problems"]:
            print(f"Let op: niet elk antwoord was 200: {json.dumps(detail['problems'])[:2000]}",
                  file=sys.stderr)
    if not args.skip_letters:
        rows, detail = letters_comparison(args.letters_n)
        table += rows
        results["letters"] = detail
        if isinstance(detail, str):
            print(detail)
    if not args.skip_reports:
        report_rows = report_measurements(app, ctx, args.runs)
        results["reports"] = [{"figure": label, "first_s": f, "median_s": m, "result": extra}
                              for label, f, m, extra in report_rows]
        print(f"{'meting':<34} {'eerste':>8} {'mediaan':>8}  resultaat")
        for label, f, m, extra in report_rows:
            print(f"{label:<34} {f:>7.2f}s {m:>7.2f}s  {extra}")
    meta["load_average_end"] = load_average()
    meta["seconds"] = round((datetime.now(timezone.utc) - started_at).total_seconds())
    if table:
        print()
        print(f"casework against the floor ({dialect}, {dutch(counts['zaken'])} zaken; "
              f"load average {meta['load_average_start']} -> {meta['load_average_end']}):")
        print(format_table(table))
    results["table"] = table
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
