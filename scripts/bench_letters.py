"""How fast the product makes a letter, against bare WeasyPrint on the same HTML and a plain page.

    .venv/bin/python scripts/bench_letters.py [--n 40] [--processes 1 2] [--json]

Prints, for v5a_ontvangstbevestiging (one page) and vz_uitnodiging (two pages):
- product: render_letter() as the worker calls it (Jinja, context checks, WeasyPrint with the
  renderer's reused font set-up, stylesheet and image cache), CPU and wall ms per letter;
- bare: a plain WeasyPrint call (HTML(string=...).write_pdf(), nothing reused) on the same
  letter as one self-contained document (its HTML with brief.css inlined);
- plain: bare WeasyPrint on a plain one-page A4 page with the same text (paragraphs, one font);
and the worker's throughput: the real worker (`flask --app casework worker --workers N
--worker-type process`, on a temporary SQLite database and queue) rendering N×n copies of a real
letter, against bare WeasyPrint rendering the same letter's HTML in a multiprocessing pool of N
processes. Both rates are steady state: from the moment each process has made its first letter to
the last letter made. Figures are medians after a warm-up; CPU is time.process_time().

scripts/benchmark.py calls letter_figures(), which returns the numbers as a dict.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from casework.letters import render  # noqa: E402

KINDS = ("v5a_ontvangstbevestiging", "vz_uitnodiging")

_GEMEENTE = {"naam": "Gemeente Voorbeeldstad", "adres": "Raadhuisplein 1",
             "postcode_plaats": "1234 AB Voorbeeldstad", "telefoon": "14 0123",
             "email": "leerplicht@voorbeeldstad.test"}
_LPA = {"naam": "Petra Jansen", "functie": "Leerplichtambtenaar", "telefoon": "06 12345678",
        "email": "p.jansen@voorbeeldstad.test"}
_OUDER = {"naam": "M. Brouwer", "adres_regels": ["Lindelaan 12", "1234 CD Voorbeeldstad"]}
_KIND = {"voornaam": "Sanne", "achternaam": "Brouwer", "geboortedatum": date(2013, 3, 17)}

#: a realistic context per kind (the shapes the tests and services.letters build)
CONTEXTS: dict[str, dict] = {
    "v5a_ontvangstbevestiging": {
        "gemeente": _GEMEENTE, "datum": date(2026, 11, 22), "kenmerk": "V5A-2026-00012",
        "ontvanger": _OUDER, "afzender": _LPA, "kind": _KIND, "schooljaar": "2027-2028",
        "ontvangen_op": date(2026, 11, 20), "te_laat": False,
    },
    "vz_uitnodiging": {
        "gemeente": _GEMEENTE, "datum": date(2026, 11, 22), "kenmerk": "VZ-2026-00012",
        "ontvanger": _OUDER, "afzender": _LPA, "kind": _KIND, "soort": "melding",
        "school_naam": "Het Baken College", "aan_leerling": False,
        "gesprek_gepland_op": date(2026, 12, 1), "gesprek_tijd": "14:30",
        "gesprek_plaats": "Stadskantoor, Raadhuisplein 1",
    },
}


# --- one letter -----------------------------------------------------------------------------

def standalone_html(letter_html: str) -> str:
    """The letter as one self-contained document: its HTML with brief.css inlined."""
    css = render.STYLESHEET_PATH.read_text(encoding="utf-8")
    return letter_html.replace("</head>", f"<style>\n{css}</style>\n</head>", 1)


def plain_html(letter_html: str) -> str:
    """A plain one-page A4 letter with the same text: paragraphs in one font, no letterhead,
    table, list or page footer."""
    body = re.sub(r"<head>.*?</head>", "", letter_html, flags=re.S)
    blocks = re.split(r"<(?:p|li|h2|div|address|tr|br)\b[^>]*>", body)
    texts = [" ".join(re.sub(r"<[^>]+>", " ", b).split()) for b in blocks]
    paragraphs = "".join(f"<p>{t}</p>\n" for t in texts if t)  # already escaped HTML text
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><style>@page { size: A4; margin: "
            "20mm } body { font: 10pt/1.4 'DejaVu Sans', sans-serif } p { margin: 0 0 2mm }"
            f"</style></head><body>\n{paragraphs}</body></html>")


def bare_pdf(html: str) -> bytes:
    """A plain WeasyPrint call: nothing reused between calls."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def timed_ms(fn, n: int, warmup: int = 3) -> dict:
    """Median CPU and wall milliseconds of fn() over n calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    cpu, wall = [], []
    for _ in range(n):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return {"cpu_ms": round(statistics.median(cpu) * 1000, 1),
            "wall_ms": round(statistics.median(wall) * 1000, 1)}


def letter_ms(kind: str, n: int, context: dict | None = None) -> dict:
    """CPU/wall ms per letter: product, bare WeasyPrint on the same HTML, a plain page. The three
    are measured in turns (one of each per round), so a busy machine weighs on all alike."""
    context = context or CONTEXTS[kind]
    html = render.render_letter_html(kind, context)
    same, plain = standalone_html(html), plain_html(html)
    calls = {"product": lambda: render.render_letter(kind, context),
             "bare_same_html": lambda: bare_pdf(same),
             "plain_page": lambda: bare_pdf(plain)}
    for fn in calls.values():
        for _ in range(3):
            fn()
    samples: dict[str, tuple[list, list]] = {name: ([], []) for name in calls}
    for _ in range(n):
        for name, fn in calls.items():
            c, w = time.process_time(), time.perf_counter()
            fn()
            samples[name][0].append(time.process_time() - c)
            samples[name][1].append(time.perf_counter() - w)
    return {name: {"cpu_ms": round(statistics.median(cpu) * 1000, 1),
                   "wall_ms": round(statistics.median(wall) * 1000, 1)}
            for name, (cpu, wall) in samples.items()}


def letter_pages(kind: str) -> int:
    """How many pages the product's letter of `kind` has."""
    import io

    from pypdf import PdfReader

    pdf, _ = render.render_letter(kind, CONTEXTS[kind])
    return len(PdfReader(io.BytesIO(pdf)).pages)


# --- throughput -----------------------------------------------------------------------------

def steady_rate(finished: list[float], processes: int) -> float:
    """Letters per second from completion times: from the moment every process has made one
    letter (its first, with the start-up cost) to the last one."""
    finished = sorted(finished)
    start, end = finished[processes - 1], finished[-1]
    return round((len(finished) - processes) / (end - start), 2) if end > start else float("nan")


_POOL_HTML = ""


def _pool_init(html: str) -> None:
    global _POOL_HTML
    _POOL_HTML = html
    bare_pdf(html)  # warm up, like a worker process before its first letter


def _pool_render(_: int) -> float:
    bare_pdf(_POOL_HTML)
    return time.time()


def bare_throughput(html: str, processes: int, n: int) -> float:
    """Letters per second of bare WeasyPrint on `html` in a pool of `processes` processes."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes, initializer=_pool_init, initargs=(html,)) as pool:
        finished = pool.map(_pool_render, range(n * processes), chunksize=1)
    return steady_rate(finished, processes)


class _Database:
    """A temporary SQLite database and queue with the demo and one real case (its letter is the
    one the worker renders), for the worker's throughput."""

    def __init__(self, folder: Path) -> None:
        from casework import create_app
        from casework.cli import upgrade_database
        from casework.demo import load_demo
        from casework.extensions import db, queue
        from config import load_config

        self.folder = folder
        self.env = {"CASEWORK_ENV": "development",
                    "CASEWORK_DATABASE_URL": f"sqlite:///{folder}/casework.db",
                    "CASEWORK_QUEUE_BACKEND": "sqlite", "CASEWORK_QUEUE_PATH": f"{folder}/queue.db"}
        saved = os.environ.copy()
        os.environ.update(self.env)
        try:
            cfg = load_config("development")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        # The app of a caller (scripts/benchmark.py) keeps its queue: this app takes it for a while.
        self._saved_queue = (queue.huey.storage, queue.app)
        self.app = create_app(cfg)
        self.db, self.queue = db, queue
        with self.app.app_context():
            upgrade_database()
            load_demo()
            self.sample = self._sample_letter()

    def _sample_letter(self):
        from sqlalchemy import select, update

        from casework.models import Child, Letter, User
        from casework.services.cases import commit, open_case

        db = self.db
        ouder = db.session.scalar(select(User).where(User.email == "ouder1@voorbeeld.test"))
        sam = db.session.scalar(select(Child).where(Child.voornaam == "Sam"))
        year = date.today().year + 1
        open_case(ouder, "vrijstelling_5a", {"child_id": sam.id, "schooljaar": f"{year}-{year + 1}",
                                             "toelichting": "Ons kind kan door ziekte niet naar school."})
        commit()
        letter = db.session.scalar(select(Letter).where(Letter.kind == "v5a_ontvangstbevestiging"))
        # Out of the sweep's way: only the copies below are rendered.
        db.session.execute(update(Letter).values(status="failed", attempts=99, queued_at=None))
        db.session.commit()
        self.queue.huey.flush()
        return {c: getattr(letter, c) for c in ("case_id", "audit_seq", "kind", "recipient_role",
                                                  "recipient_user_id", "recipient_org_id", "context")}

    def letter_html(self) -> str:
        from casework.services.letters import revive

        return render.render_letter_html(self.sample["kind"], revive(self.sample["context"]))

    def add_letters(self, count: int) -> list[int]:
        """`count` pending copies of the sample letter, not on the queue (the worker's start-up
        sweep queues them)."""
        from casework.models import Letter

        with self.app.app_context():
            letters = [Letter(**self.sample, status="pending", queued_at=None) for _ in range(count)]
            self.db.session.add_all(letters)
            self.db.session.commit()
            return [x.id for x in letters]

    def rendered_at(self, ids: list[int]) -> list[datetime | None]:
        from sqlalchemy import select

        from casework.models import Letter

        with self.app.app_context():
            rows = self.db.session.execute(select(Letter.id, Letter.rendered_at, Letter.status)
                                           .where(Letter.id.in_(ids))).all()
            failed = [r.id for r in rows if r.status == "failed"]
            if failed:
                raise RuntimeError(f"brieven mislukt: {failed}")
            return [r.rendered_at for r in rows]

    def close(self) -> None:
        self.db.state(self.app).engine.dispose()
        self.queue.huey.storage, self.queue.app = self._saved_queue


def worker_throughput(database: _Database, processes: int, n: int, timeout: float = 300) -> float:
    """Letters per second of the real worker with `processes` process workers."""
    ids = database.add_letters(n * processes)
    env = {**os.environ, **database.env, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "flask", "--app", "casework", "worker",
            "--workers", str(processes), "--worker-type", "process"]
    with open(database.folder / f"worker-{processes}.log", "wb") as log:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                done = database.rendered_at(ids)
                if all(done):
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"de verwerker stopte of was te laat; zie {log.name}")
                time.sleep(0.25)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # graceful, as systemd stops it
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    epoch = datetime(1970, 1, 1)
    return steady_rate([(t - epoch) / timedelta(seconds=1) for t in done], processes)


# --- all figures ----------------------------------------------------------------------------

def letter_figures(processes=(1, 2), n: int = 30, rounds: int = 3) -> dict:
    """The letter figures as numbers:

    {"ms_per_letter": {kind: {"product"|"bare_same_html"|"plain_page": {"cpu_ms", "wall_ms"}}},
     "pages": {kind: pages of the product's letter},
     "throughput": {N: {"worker": letters/s, "bare": letters/s, "ratio": worker/bare,
                        "ratios": [per round]}},
     "processes": [...], "n": n, "rounds": rounds, "cpu_count": ..., "load_average": ...}

    n: renders per figure for the ms (median), and letters per process for the throughput.
    rounds: worker and bare WeasyPrint take turns this many times per process count; the
    figures are the medians (other work on the machine then weighs on both alike).
    Makes its own temporary SQLite database and queue; needs no app (a caller's app keeps its
    database, and its queue once this returns)."""
    figures: dict = {"n": n, "rounds": rounds, "processes": list(processes),
                     "cpu_count": os.cpu_count(), "load_average": _load_average(),
                     "ms_per_letter": {kind: letter_ms(kind, n) for kind in KINDS},
                     "pages": {kind: letter_pages(kind) for kind in KINDS},
                     "throughput": {}}
    with tempfile.TemporaryDirectory(prefix="casework-bench-letters-") as folder:
        database = _Database(Path(folder))
        try:
            html = standalone_html(database.letter_html())
            for count in processes:
                workers, bares = [], []
                for _ in range(rounds):
                    workers.append(worker_throughput(database, count, n))
                    bares.append(bare_throughput(html, count, n))
                figures["throughput"][count] = {
                    "worker": statistics.median(workers), "bare": statistics.median(bares),
                    "ratio": round(statistics.median(workers) / statistics.median(bares), 2),
                    "ratios": [round(w / b, 2) for w, b in zip(workers, bares)]}
        finally:
            database.close()
    figures["load_average_after"] = _load_average()
    return figures


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def print_figures(figures: dict) -> None:
    print(f"Brieven: ms per brief (mediaan van {figures['n']}, CPU / wandklok), "
          f"{figures['cpu_count']} kernen, belasting {figures['load_average']} → "
          f"{figures['load_average_after']}")
    for kind, rows in figures["ms_per_letter"].items():
        pages = figures["pages"][kind]
        print(f"  {kind} ({pages} {'pagina' if pages == 1 else 'pagina’s'})")
        for name, label in (("product", "product (render_letter)"),
                            ("bare_same_html", "kale WeasyPrint, zelfde HTML"),
                            ("plain_page", "kale WeasyPrint, gewone pagina")):
            row = rows[name]
            print(f"    {label:32s} {row['cpu_ms']:7.1f} ms CPU {row['wall_ms']:7.1f} ms")
    print("Verwerker: brieven per seconde (v5a_ontvangstbevestiging)")
    for count, row in figures["throughput"].items():
        print(f"  {count} proces(sen): verwerker {row['worker']:6.1f}/s, kale WeasyPrint "
              f"{row['bare']:6.1f}/s, verhouding {row['ratio']:.2f} (per ronde {row['ratios']})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the dict as JSON")
    args = parser.parse_args()
    figures = letter_figures(tuple(args.processes), args.n, args.rounds)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
