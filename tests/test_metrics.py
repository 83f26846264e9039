"""/metrics: off unless switched on; requests by route and status, latency, letters and queue."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from casework import create_app
from casework.extensions import db
from casework.models import Letter
from config import TestConfig
from factories import demo_namespace, letters_of, make_case, own_app


pytestmark = pytest.mark.no_transaction  # the app of its own commits for real


@pytest.fixture(scope="module")
def metrics_app(tmp_path_factory):
    with own_app(tmp_path_factory.mktemp("metrics"), METRICS_ENABLED=True,
                 METRICS_TOKEN="scrape-token-for-tests") as app:
        yield app


def _value(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, text, re.M)
    assert found, f"{name} {labels} not in /metrics"
    return float(found.group(1))


def test_metrics_are_off_by_default(tmp_path):
    cfg = TestConfig.from_env()
    cfg.update(DATABASE_URL=f"sqlite:///{tmp_path}/unused.db", QUEUE_BACKEND="memory")
    assert create_app(cfg).test_client().get("/metrics").status_code == 404


def test_metrics_count_requests_letters_and_the_queue(metrics_app):
    client = metrics_app.test_client()
    scrape = {"Authorization": "Bearer scrape-token-for-tests"}
    assert client.get("/metrics").status_code == 404  # without the token: as if it did not exist
    before = client.get("/metrics", headers=scrape).get_data(as_text=True)
    start = _value(before, "casework_requests_total", method="GET", route="/healthz", status="200") \
        if 'route="/healthz"' in before else 0
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    with metrics_app.app_context():
        demo = demo_namespace()
        case = make_case(demo, "kennisgeving_ontvangen")
        [letter] = letters_of(case.id)
        db.session.execute(update(Letter).where(Letter.id == letter.id).values(
            status="failed", attempts=metrics_app.config["LETTER_MAX_ATTEMPTS"]))
        db.session.commit()
    text = client.get("/metrics", headers=scrape).get_data(as_text=True)
    assert _value(text, "casework_requests_total", method="GET", route="/healthz", status="200") == start + 3
    assert _value(text, "casework_request_duration_seconds_count", route="/healthz") >= 3
    assert _value(text, "casework_letters_failed") == 1
    assert _value(text, "casework_letters_pending") >= 0
    assert _value(text, "casework_queue_depth") >= 0
    assert "casework_oldest_pending_letter_age_seconds" in text
    assert "Jansen" not in text
