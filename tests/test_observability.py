"""Logs an operator can search: JSON lines with a request id, one per request and per letter,
never personal data."""
from __future__ import annotations

import json
import logging

from casework.letters.tasks import render_letter_now
from casework.observability import JsonFormatter, RequestIdFilter
from conftest import api_token
from factories import letters_of, make_case

LPA = "leerplicht@voorbeeldstad.test"


def _lines(caplog, message="request"):
    formatter, stamp = JsonFormatter(), RequestIdFilter()
    out = []
    for record in caplog.records:
        if record.getMessage().startswith(message):
            stamp.filter(record)
            out.append(json.loads(formatter.format(record)))
    return out


def test_one_line_per_request_with_route_template_status_duration_and_user(client, demo, caplog):
    headers = api_token(client, LPA)
    case = make_case(demo, "kennisgeving_ontvangen", child=demo.sam)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="casework"):
        answer = client.get(f"/api/v1/cases/{case.id}", headers=headers)
        search = client.get("/api/v1/cases", query_string={"q": "Jansen"}, headers=headers)
    assert answer.status_code == search.status_code == 200
    lines = _lines(caplog)
    assert len(lines) == 2
    detail, listed = lines
    assert detail["route"] == "/api/v1/cases/<int:case_id>" and detail["method"] == "GET"
    assert detail["status"] == 200 and detail["user_id"] == demo.lpa.id
    assert isinstance(detail["duration_ms"], float)
    assert detail["request_id"] == answer.headers["X-Request-ID"]
    assert listed["route"] == "/api/v1/cases" and listed["request_id"] != detail["request_id"]
    # No personal data: not the search text, not the child, not the path with its id.
    raw = json.dumps(lines)
    for secret in ("Jansen", demo.sam.voornaam, demo.sam.bsn, f"/cases/{case.id}"):
        assert secret not in raw


def test_a_proxys_request_id_is_kept_and_a_strange_one_replaced(client, caplog):
    with caplog.at_level(logging.INFO, logger="casework"):
        kept = client.get("/healthz", headers={"X-Request-ID": "lb-4f9a2c11e0"})
        odd = client.get("/healthz", headers={"X-Request-ID": "x\" injected=1"})
    assert kept.headers["X-Request-ID"] == "lb-4f9a2c11e0"
    assert odd.headers["X-Request-ID"] != "x\" injected=1" and len(odd.headers["X-Request-ID"]) == 32
    assert [line["request_id"] for line in _lines(caplog)] == [
        "lb-4f9a2c11e0", odd.headers["X-Request-ID"]]
    assert all(line["user_id"] is None for line in _lines(caplog))


def test_one_line_per_letter_with_kind_duration_and_outcome(demo, caplog):
    case = make_case(demo, "kennisgeving_ontvangen")
    [letter] = letters_of(case.id)
    with caplog.at_level(logging.INFO, logger="casework"):
        assert render_letter_now(letter.id) == "rendered"
    [line] = _lines(caplog, "brief")
    assert (line["letter_id"], line["kind"], line["outcome"]) == (letter.id, letter.kind, "rendered")
    assert line["duration_ms"] > 0 and line["level"] == "info"
    assert demo.sam.achternaam not in json.dumps(line)
