"""A schema-driven fuzz run: schemathesis generates requests from /api/v1/openapi.json (valid and
invalid ones) and sends each with a token of every role; no answer may be a 5xx or an exception.

Bounded and reproducible: few examples per operation, derandomized, no deadline, no example
database. It runs inside the test's transaction (conftest.py), so nothing it writes survives.
FUZZ_EXAMPLES raises the number of examples for a longer run by hand.
"""
from __future__ import annotations

import os
import time

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import select

from casework.auth import issue_token
from casework.models import User

ROLES = {
    "lpa": "leerplicht@voorbeeldstad.test",
    "jeugdarts": "jeugdarts@ggd-voorbeeld.test",
    "swv": "adviseur@swv-voorbeeldregio.test",
    "school": "school@devoorbeeld.test",
    "ouder": "ouder1@voorbeeld.test",
    "beheerder": "beheer@voorbeeldstad.test",
}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
# The token endpoint is the one a fuzzer can slow down on purpose (argon2 per attempt).
SLOW = {"POST /api/v1/auth/token"}


def _tokens() -> dict[str, str]:
    from casework.extensions import db

    users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(ROLES.values())))}
    return {role: issue_token(users[email])[0] for role, email in ROLES.items()}


def _run(operation, mode, failures: list[str], examples: int) -> None:
    strategy = operation.as_strategy(generation_mode=mode)

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        tokens = _tokens()  # fresh ones: an example may have revoked them (POST /auth/revoke)
        for role, token in [*tokens.items(), ("anoniem", None)]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # noqa: BLE001 - the app raised: a 500 in production
                failures.append(f"{operation.label} als {role}: {type(exc).__name__}: {exc} "
                                f"({case.as_curl_command()})")
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
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        examples = 2 if operation.label in SLOW else EXAMPLES
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, failures, examples)
        if os.environ.get("FUZZ_VERBOSE"):
            print(f"{time.monotonic() - started:6.1f} s  {operation.label}")
    elapsed = time.monotonic() - started
    assert operations >= 20, "the schema lost its operations"
    assert not failures, "\n".join(failures[:30])
    print(f"fuzz: {operations} operations in {elapsed:.1f} s")

