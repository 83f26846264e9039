"""Logs an operator can search: one JSON object per line, a request id on every line, one line
per request and per letter. Never personal data: the route's template (`/api/v1/cases/<int:case_id>`),
not the path or the query; the user's id, not their name."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

log = logging.getLogger("casework.request")

# Fields a log call may add with extra={...}; anything else stays out of the line.
_FIELDS = ("method", "route", "status", "duration_ms", "user_id", "letter_id", "kind", "outcome",
           "attempt")
# A request id a proxy sent along is kept when it looks like one (no text smuggled into the log).
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def current_request_id() -> str | None:
    return getattr(g, "request_id", None) if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Puts the request id (or the letter worker's task id) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in _FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(app: Flask) -> None:
    """JSON lines on stderr for the `casework` loggers (LOG_FORMAT "text": readable lines)."""
    root = logging.getLogger("casework")
    if not any(getattr(h, "_casework", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._casework = True  # type: ignore[attr-defined]
        handler.addFilter(RequestIdFilter())
        if (app.config.get("LOG_FORMAT") or "json") == "text":
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s "
                                                   "[%(request_id)s] %(message)s"))
        else:
            handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = bool(app.testing)  # tests read the records (caplog); production: once


def install_request_log(app: Flask) -> None:
    @app.before_request
    def _start():
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if _GOOD_ID.fullmatch(sent) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _done(response):
        started = getattr(g, "request_started", None)
        if started is None:  # a request refused before our first hook ran
            return response
        response.headers["X-Request-ID"] = g.request_id
        seconds = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else None
        log.info("request", extra={
            "method": request.method, "route": route, "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1), "user_id": _user_id(),
        })
        if app.config.get("METRICS_ENABLED"):
            from .metrics import observe

            observe(request.method, route, response.status_code, seconds)
        return response


def _user_id() -> int | None:
    """The signed-in user's id as the route policy found it (no extra look-up)."""
    return getattr(g, "actor_id", None)
