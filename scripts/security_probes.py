"""Security probes against a running Casework with the demo data: what an attacker with a
demo login would try. For operators and auditors; the test suite has a test per finding.

    python scripts/security_probes.py http://127.0.0.1:5000

Prints one line per probe (OK or LEAK with what was found) and exits 1 on any LEAK. It signs in
every demo user over the API (password `demo` or $CASEWORK_DEMO_PASSWORD; professionals with the
demo TOTP secret), so run it against a demo or test instance only, with `flask demo` loaded
(the demo cases give the object-level probes something to find). A TOTP code works once per
30 seconds per user: do not sign the demo users in elsewhere at the same moment.

Probes: every case, letter and child access log a role may not see answers as an id that does
not exist (ids enumerated over everything any demo user sees, and beyond; allowed: an SWV keeps
the letters addressed to it, the beheerder reads the audit steps of its gemeente's cases, without
content); hostile input (NUL, lone surrogates, huge
integers, deep JSON, a body over the limit) gets a 4xx, never a 5xx; personal data is sent with
`Cache-Control: no-store` and `nosniff`; a professional gets no token without the code; a
revoked token is refused; a school cannot filter on deadlines; the SWV's regional view takes
whole quarters only; a parent never sees staff names in the access log.
"""
from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field

DEMO_TOTP_SECRET = os.environ.get("CASEWORK_DEMO_TOTP_SECRET", "CASEWORKDEMOCASEWORKDEMOCASEWORK")
USERS = {
    "leerplicht@voorbeeldstad.test": "leerplichtambtenaar",
    "leerplicht@buurdorp.test": "leerplichtambtenaar",
    "jeugdarts@ggd-voorbeeld.test": "jeugdarts",
    "adviseur@swv-voorbeeldregio.test": "swv_adviseur",
    "adviseur@swv-naburig.test": "swv_adviseur",
    "school@devoorbeeld.test": "school",
    "school@voorbeeldcollege.test": "school",
    "beheer@voorbeeldstad.test": "beheerder",
    "ouder1@voorbeeld.test": "ouder",
    "ouder2@voorbeeld.test": "ouder",
}


# The beheerder and the leerplichtambtenaar of the same gemeente.
OWN_LPA = {"beheer@voorbeeldstad.test": "leerplicht@voorbeeldstad.test"}
AUDIT_KEYS = {"seq", "event", "from_state", "to_state", "actor_id", "actor_role", "at",
              "payload_digest", "prev_hash", "hash"}


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body or b"null")


class Api:
    def __init__(self, base: str):
        self.base = base.rstrip("/") + "/api/v1"

    def call(self, method: str, path: str, token: str | None = None, body=None,
             raw: bytes | None = None) -> Answer:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    leaks: int = 0

    def check(self, name: str, problems: list[str]) -> None:
        if problems:
            self.leaks += 1
            self.lines.append(f"LEAK {name}: " + "; ".join(problems[:5])
                              + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))
        else:
            self.lines.append(f"OK   {name}")


def demo_code(email: str) -> str:
    import pyotp

    return pyotp.TOTP(DEMO_TOTP_SECRET).now()


def sign_in(api: Api, code_for=demo_code) -> dict[str, str]:
    """A token per demo user (professionals with the code from their app)."""
    password = os.environ.get("CASEWORK_DEMO_PASSWORD", "demo")
    tokens = {}
    for email, role in USERS.items():
        body = {"email": email, "password": password}
        if role != "ouder":
            body["otp"] = code_for(email)
        answer = api.call("POST", "/auth/token", body=body)
        if answer.status != 201 and answer.status != 200:
            raise SystemExit(f"{email} kan niet inloggen ({answer.status}): {answer.body[:200]!r}")
        tokens[email] = answer.json()["token"]
    return tokens


def _all_cases(api: Api, token: str) -> list[dict]:
    items, page = [], 1
    while True:
        answer = api.call("GET", f"/cases?per_page=100&page={page}", token)
        if answer.status != 200:
            return items
        data = answer.json()
        items += data["items"]
        if page * 100 >= data["total"]:
            return items
        page += 1


def probe_object_level(api: Api, tokens: dict[str, str], report: Report) -> None:
    """Every id another user sees, and ids beyond: a user who may not see it gets 404."""
    seen_cases = {email: {c["id"] for c in _all_cases(api, token)} for email, token in tokens.items()}
    universe = set().union(*seen_cases.values())
    beyond = max(universe, default=0)
    universe |= {beyond + 1, beyond + 2, 0}
    letters_of: dict[str, set[int]] = {}
    for email, token in tokens.items():
        letters_of[email] = set()
        for case_id in seen_cases[email]:
            answer = api.call("GET", f"/cases/{case_id}", token)
            if answer.status == 200:
                letters_of[email] |= {lt["id"] for lt in answer.json().get("letters", [])}
    all_letters = set().union(*letters_of.values())
    all_letters |= {max(all_letters, default=0) + 1}
    # What a user may not see answers exactly as what does not exist: a 404, or the 403 the
    # role gets for that kind of page whatever the id (then it tells nothing either).
    case_paths = ("/cases/{}", "/cases/{}/audit")
    letter_paths = ("/letters/{}", "/letters/{}/pdf")
    problems = []
    for email, token in tokens.items():
        for paths, hidden, nowhere in ((case_paths, universe - seen_cases[email], beyond + 1000),
                                       (letter_paths, all_letters - letters_of[email],
                                        max(all_letters) + 1000)):
            for template in paths:
                baseline = api.call("GET", template.format(nowhere), token).status
                if baseline not in (403, 404):
                    problems.append(f"{email} GET {template.format(nowhere)} (no such id) → {baseline}")
                if template == "/cases/{}/audit" and USERS[email] == "beheerder":
                    # The beheerder checks the audit trail (steps and hashes, no content) of the
                    # own gemeente's cases: those its leerplichtambtenaar sees.
                    hidden = universe - seen_cases[OWN_LPA[email]]
                for object_id in sorted(hidden):
                    answer = api.call("GET", template.format(object_id), token)
                    status = answer.status
                    if status == 200 and template == "/letters/{}" and USERS[email] == "swv_adviseur" \
                            and answer.json().get("recipient_role") == "swv":
                        continue  # an SWV keeps the letters addressed to it (checked below)
                    if template == "/letters/{}/pdf" and USERS[email] == "swv_adviseur" \
                            and status != 404 and api.call("GET", template.format(object_id)[:-4],
                                                           token).status == 200:
                        continue
                    if status != baseline:
                        problems.append(f"{email} GET {template.format(object_id)} → {status}, "
                                        f"no such id → {baseline}")
    # The beheerder's audit view carries no case content.
    beheer = [e for e in tokens if USERS[e] == "beheerder"]
    for email in beheer:
        for case_id in seen_cases[OWN_LPA[email]]:
            answer = api.call("GET", f"/cases/{case_id}/audit", tokens[email])
            extra = {k for row in answer.json().get("items", []) for k in row} - AUDIT_KEYS \
                if answer.status == 200 else set()
            if extra:
                problems.append(f"{email} sees {sorted(extra)} in the audit of case {case_id}")
    report.check(f"object level: {len(universe)} case ids and {len(all_letters)} letter ids "
                 f"for {len(tokens)} users", problems)

    children = {email: {c["id"] for c in api.call("GET", "/children?per_page=100", token).json().get("items", [])}
                for email, token in tokens.items() if USERS[email] == "ouder"}
    problems = []
    for email, own in children.items():
        for other in set().union(*children.values()) - own:
            status = api.call("GET", f"/children/{other}/access-log", tokens[email]).status
            if status != 404:
                problems.append(f"{email} GET /children/{other}/access-log → {status}")
        for child_id in own:
            items = api.call("GET", f"/children/{child_id}/access-log", tokens[email]).json()["items"]
            named = [i for i in items if i.get("gebruiker") or i.get("zaak_id")]
            if named:
                problems.append(f"{email} sees staff names or case ids in the access log of {child_id}")
    report.check("a parent's access log: own children only, no staff names", problems)


def probe_hostile_input(api: Api, tokens: dict[str, str], report: Report) -> None:
    token = tokens["leerplicht@voorbeeldstad.test"]
    big = "9" * 30
    attempts = [
        ("GET", "/cases?q=%00", None, None),
        ("GET", "/cases?q=%ED%A0%80", None, None),
        ("GET", f"/cases?page={big}", None, None),
        ("GET", f"/cases/{big}", None, None),
        ("GET", f"/letters/{big}/pdf", None, None),
        ("POST", "/cases", json.dumps({"type": "vrijstelling_5a", "child_id": int(big)}).encode(), None),
        ("POST", "/cases", ("[" * 5000 + "]" * 5000).encode(), None),
        ("POST", "/cases", b'{"type": "vrijstelling_5a", "toelichting": "\\ud800"}', None),
        ("POST", "/children", b"{" + b'"x": "' + b"a" * (2 * 1024 * 1024) + b'"}', 413),
    ]
    problems = []
    for method, path, raw, expected in attempts:
        answer = api.call(method, path, token, raw=raw)
        if answer.status >= 500 or answer.status < 400 or (expected and answer.status != expected):
            problems.append(f"{method} {path[:40]} → {answer.status}")
    report.check("hostile input gets a clear 4xx, never a 5xx", problems)


def probe_headers(api: Api, tokens: dict[str, str], report: Report) -> None:
    answer = api.call("GET", "/cases", tokens["leerplicht@voorbeeldstad.test"])
    headers = {k.lower(): v for k, v in answer.headers.items()}
    problems = []
    if "no-store" not in headers.get("cache-control", ""):
        problems.append(f"Cache-Control is {headers.get('cache-control')!r}")
    if headers.get("x-content-type-options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    report.check("personal data: no-store and nosniff", problems)


def probe_sign_in(api: Api, tokens: dict[str, str], report: Report) -> None:
    password = os.environ.get("CASEWORK_DEMO_PASSWORD", "demo")
    problems = []
    for email, role in USERS.items():
        if role == "ouder":
            continue
        answer = api.call("POST", "/auth/token", body={"email": email, "password": password})
        if answer.status != 401:
            problems.append(f"{email} without a code → {answer.status}")
    report.check("professionals get no token without the second step", problems)


def probe_revoked_token(api: Api, tokens: dict[str, str], report: Report) -> None:
    email = "ouder2@voorbeeld.test"
    password = os.environ.get("CASEWORK_DEMO_PASSWORD", "demo")
    extra = api.call("POST", "/auth/token", body={"email": email, "password": password}).json()["token"]
    revoked = api.call("DELETE", "/auth/token", extra).status
    after = api.call("GET", "/cases", extra).status
    report.check("a revoked token is refused",
                 [] if revoked in (200, 204) and after == 401 else [f"revoke {revoked}, then {after}"])


def probe_school_and_swv(api: Api, tokens: dict[str, str], report: Report) -> None:
    problems = []
    for email in ("school@devoorbeeld.test", "school@voorbeeldcollege.test"):
        status = api.call("GET", "/cases?due_before=2030-01-01", tokens[email]).status
        if status != 422:
            problems.append(f"{email} due_before → {status}")
        for case in _all_cases(api, tokens[email]):
            if case.get("due_on") is not None or case.get("state") not in ("ontvangen", "in_behandeling",
                                                                           "afgesloten"):
                problems.append(f"{email} sees due_on or a fine state of case {case['id']}")
    report.check("a school sees no deadlines and only coarse states", problems)
    problems = []
    token = tokens["adviseur@swv-voorbeeldregio.test"]
    for period in ("van=2026-01-01&tot=2026-01-31", "van=2026-02-01&tot=2026-04-30"):
        status = api.call("GET", f"/reports/swv?{period}", token).status
        if status != 422:
            problems.append(f"/reports/swv?{period} → {status}")
    answer = api.call("GET", "/reports/swv?van=2026-01-01&tot=2026-03-31", token)
    if answer.status != 200:
        problems.append(f"a whole quarter → {answer.status}")
    elif any(isinstance(v, int) and 0 <= v <= 4 for v in _numbers(answer.json())):
        problems.append("a count from 0 to 4 is shown")
    report.check("the SWV's regional view: whole quarters, small counts hidden", problems)


COUNT_KEYS = ("waarden", "totalen", "totaal", "eerste", "laatste")


def _numbers(data, counting: bool = False):
    """The counts of the regional view (not ids or years): what it shows per cell."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _numbers(value, key in COUNT_KEYS)
    elif isinstance(data, list):
        for value in data:
            yield from _numbers(value, counting)
    elif counting and isinstance(data, int) and not isinstance(data, bool):
        yield data


PROBES = (probe_object_level, probe_hostile_input, probe_headers, probe_sign_in,
          probe_revoked_token, probe_school_and_swv)


def run(base: str, code_for=demo_code) -> Report:
    api = Api(base)
    tokens = sign_in(api, code_for)
    report = Report()
    for probe in PROBES:
        probe(api, tokens, report)
    return report


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    report = run(argv[1])
    print("\n".join(report.lines))
    print(f"{report.leaks} leak(s)" if report.leaks else "no leaks found")
    return 1 if report.leaks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
