"""/metrics in Prometheus' text format, behind CASEWORK_METRICS=1 (and, when set, a bearer token).

Requests by route template and status and their latency come from the request log's own
measurement; letters pending and failed, the age of the oldest pending letter and the queue's
depth are read at each scrape, so every web process answers the same. Several gunicorn workers:
set PROMETHEUS_MULTIPROC_DIR to an empty folder so that the counters add up over the processes
(prometheus_client's multiprocess mode)."""
from __future__ import annotations

import hmac
import os

from flask import Flask, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

_REGISTRY = CollectorRegistry()
REQUESTS = Counter("casework_requests", "Verzoeken per route en status.",
                   ["method", "route", "status"], registry=_REGISTRY)
LATENCY = Histogram("casework_request_duration_seconds", "Duur van een verzoek.", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                    registry=_REGISTRY)


class _LettersAndQueue:
    """Gauges read at scrape time from the database and the queue."""

    def collect(self):
        from sqlalchemy import func, select

        from .extensions import db, queue
        from .models import Letter, utcnow

        limit = current_app.config["LETTER_MAX_ATTEMPTS"]
        pending, oldest = db.session.execute(select(func.count(), func.min(Letter.created_at))
                                             .where(Letter.status == "pending")).one()
        failed = db.session.scalar(select(func.count()).where(Letter.status == "failed",
                                                              Letter.attempts >= limit))
        db.session.rollback()  # a scrape holds no transaction
        yield GaugeMetricFamily("casework_letters_pending", "Brieven die nog gemaakt worden.", value=pending)
        yield GaugeMetricFamily("casework_letters_failed", "Brieven die na alle pogingen mislukt zijn.",
                                value=failed)
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0
        yield GaugeMetricFamily("casework_oldest_pending_letter_age_seconds",
                                "Leeftijd van de oudste brief die nog gemaakt wordt.", value=age)
        try:
            depth = queue.huey.pending_count()
        except Exception:  # noqa: BLE001 - a queue that does not answer shows as -1
            depth = -1
        yield GaugeMetricFamily("casework_queue_depth", "Taken in de wachtrij (-1: wachtrij onbereikbaar).",
                                value=depth)


def observe(method: str, route: str | None, status: int, seconds: float) -> None:
    route = route or "<geen route>"
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(route).observe(seconds)


def install_metrics(app: Flask) -> None:
    if not app.config.get("METRICS_ENABLED"):
        return

    @app.get("/metrics", endpoint="metrics")
    def metrics():
        token = app.config.get("METRICS_TOKEN")
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token and not hmac.compare_digest(sent.encode(), token.encode()):
            abort(404)  # as if there were no /metrics
        registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(registry)
        else:
            registry = _REGISTRY
        output = generate_latest(registry) + generate_latest(_GAUGES)
        return Response(output, mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                        headers={"Cache-Control": "no-store"})


_GAUGES = CollectorRegistry()
_GAUGES.register(_LettersAndQueue())
