"""A schema-driven fuzz run: schemathesis generates requests from /api/v1/openapi.json (valid and
invalid ones) and sends each with a token of every role; no answer may be a 5xx or an exception.

Every operation runs twice per generation mode: with generated path ids, and with the ids of real
cases and letters (so the handlers behind the 404 get fuzzed too). Bounded and reproducible: few
examples per operation, derandomized, no deadline, no example database. It runs inside the
test's transaction (conftest.py), so nothing it writes survives. FUZZ_EXAMPLES raises the number
of examples for a longer run by hand; FUZZ_VERBOSE=1 prints the time per operation.
"""
from __future__ import annotations

import os
import time

import schemathesis
from factories import make_case
from factories_verzuim import make_pupil_aged, open_verzuim
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import select

from casework.auth import issue_token
from casework.extensions import db
from casework.models import Letter, User

ROLES = {
    "lpa": "leerplicht@voorbeeldstad.test",
    "jeugdarts": "jeugdarts@ggd-voorbeeld.test",
    "swv": "adviseur@swv-voorbeeldregio.test",
    "school": "school@devoorbeeld.test",
    "ouder": "ouder1@voorbeeld.test",
    "beheerder": "beheer@voorbeeldstad.test",
}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def _tokens() -> dict[str, str | None]:
    users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(ROLES.values())))}
    return {**{role: issue_token(users[email])[0] for role, email in ROLES.items()}, "anoniem": None}


def _run(operation, mode, failures: list[str], *, public: bool, revokes: bool,
         path_parameters: dict | None = None) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
    tokens = {"anoniem": None} if public else _tokens()

    @settings(max_examples=2 if public else EXAMPLES, deadline=None, derandomize=True,
              database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        nonlocal tokens
        if revokes:  # an example may have revoked the tokens it was sent with
            tokens = _tokens()
        for role, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # noqa: BLE001 - the app raised: a 500 in production
                failures.append(f"{operation.label} als {role}: {type(exc).__name__}: {exc} "
                                f"({case.as_curl_command()})")
                db.session.rollback()  # PostgreSQL: go on after the failed statement
                continue
            if response.status_code >= 500:
                failures.append(f"{operation.label} als {role}: {response.status_code} "
                                f"({case.as_curl_command()})")

    try:
        run()
    except Unsatisfiable:
        # Nothing to make invalid (no parameters, no body): the positive run covered it.
        assert mode == GenerationMode.NEGATIVE


def test_no_request_from_the_schema_gets_a_server_error(app, demo):
    from conftest import render_pending

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    vrijstelling = make_case(demo, "advies_gevraagd", toestemming=True)
    verzuim = open_verzuim(demo, make_pupil_aged(demo, 14))
    render_pending()
    letter_id = db.session.scalar(select(Letter.id).where(Letter.case_id == vrijstelling.id))
    real_ids = [{"case_id": vrijstelling.id, "letter_id": letter_id}, {"case_id": verzuim.id}]

    failures: list[str] = []
    operations = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        public = operation.definition.raw.get("security") == []
        revokes = operation.label == "DELETE /api/v1/auth/token"
        path_names = {p.name for p in operation.path_parameters}
        fixed = [None] + [{k: v for k, v in ids.items() if k in path_names}
                          for ids in real_ids if path_names & set(ids)]
        for path_parameters in fixed:
            for mode in MODES:
                _run(operation, mode, failures, public=public, revokes=revokes,
                     path_parameters=path_parameters)
        if os.environ.get("FUZZ_VERBOSE"):
            print(f"{time.monotonic() - started:6.1f} s  {operation.label}")
    assert operations >= 20, "the schema lost its operations"
    assert not failures, "\n".join(failures[:30])
