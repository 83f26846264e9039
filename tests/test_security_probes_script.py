"""scripts/security_probes.py against a real server thread on the demo with its cases: every probe
passes, and the script notices a leak (so it cannot rot into a script that always says OK)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from casework.extensions import db, queue
from conftest import otp_code
from test_browser import serve

pytestmark = pytest.mark.no_transaction

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "security_probes.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("security_probes", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def probe_server(tmp_path_factory):
    from casework import demo_cases
    from conftest import PG_URL, fresh_postgres_database_url, make_app

    saved = queue.huey.storage, queue.app, queue.huey.immediate
    url = fresh_postgres_database_url("casework_probes") if PG_URL else None
    probe_app = make_app(tmp_path_factory.mktemp("probes"), url)
    with probe_app.app_context():
        made, _, skipped = demo_cases.load_demo_cases()
        db.session.commit()
        db.session.remove()
    assert made > 5 and skipped == []
    try:
        with serve(probe_app, "casework-probe-server") as base:
            yield probe_app, base
    finally:
        db.state(probe_app).engine.dispose()
        queue.huey.storage, queue.app, queue.huey.immediate = saved


def test_every_probe_passes_against_the_demo(probe_server):
    probe_app, base = probe_server
    probes = _load_script()
    report = probes.run(base, code_for=lambda email: otp_code(email, probe_app))
    assert report.leaks == 0, "\n".join(report.lines)
    assert len(report.lines) == 8 and all(line.startswith("OK") for line in report.lines)
    object_level = report.lines[0]
    assert "case ids" in object_level and " 0 case ids" not in object_level


def test_the_script_reports_a_leak(probe_server, monkeypatch):
    """A server that answers 403 for a case the user may not see but 404 for one that does not
    exist (telling that it exists) is a LEAK, and so is a missing no-store."""
    probe_app, base = probe_server
    probes = _load_script()
    real_call = probes.Api.call

    def leaky(self, method, path, token=None, body=None, raw=None):
        answer = real_call(self, method, path, token, body, raw)
        parts = path.split("/")
        if answer.status == 404 and parts[1] == "cases" and parts[2].isdigit() and 0 < int(parts[2]) < 1000:
            answer.status = 403  # only for ids that exist: it tells that they do
        answer.headers.pop("Cache-Control", None)
        return answer

    monkeypatch.setattr(probes.Api, "call", leaky)
    report = probes.run(base, code_for=lambda email: otp_code(email, probe_app))
    leaks = [line for line in report.lines if line.startswith("LEAK")]
    assert any("object level" in line and "→ 403" in line for line in leaks), report.lines
    assert any("no-store" in line for line in leaks), report.lines
