"""How many SQL statements the hot requests send, pinned: a fire, a case page, a list page.

A lazy load per row (an N+1) or a second read of what the request already has makes these fail.
The counts leave out the test's own transaction control (SAVEPOINT / RELEASE / ROLLBACK TO, and
the BEGIN the app sends): the app's commits become savepoints here. When a count changes on
purpose, change it here and say in the commit what the new statement is for.
"""
from __future__ import annotations

from datetime import date

from conftest import web_signed_in
from factories import make_case, make_child
from sql_statements import assert_statements, counted
from sql_statements import explain as _explain
from test_api_support import api_fixture  # noqa: F401


def _children(demo, n: int, start: int) -> list:
    return [make_child(demo, date(2014, 5, 1), f"Telkind{i}", f"{990000000 + start + i:09d}")
            for i in range(n)]


# ------------------------------------------------------------------ a fire


def test_a_fire_sends_thirteen_statements(api, demo):
    """neem_in_behandeling through the API, as the LPA, with two letters (ouder, jeugdarts)."""
    case = api.file("ouder1")
    assert api.get("lpa", f"/cases/{case['id']}").status_code == 200  # the token's first use
    with counted() as seen:
        response = api.fire("lpa", case["id"], "neem_in_behandeling", deskundige_id=demo.arts.id)
    assert response.status_code == 200, response.get_json()
    assert_statements(seen, [
        "FROM api_tokens",  # the token and its user (joined), once per request
        "FROM cases",  # the case, scoped, with its child, gemeente and the gemeente's settings
        "JOIN jgz_gemeenten",  # guard: the jeugdarts works for this gemeente (with the JGZ)
        "UPDATE cases",  # state, with the version check
        "FROM audit_seals",  # the case's and the global seal, locked in one statement
        "INSERT INTO audit_events",
        "UPDATE audit_seals",  # both seals, one executemany
        "parent_children",  # the parents the letter goes to: names and addresses only
        "INSERT INTO letters",  # to the ouder
        "INSERT INTO letters",  # to the jeugdarts
        "FROM audit_events",  # the history in the answer
        "FROM letters",  # the letters in the answer
        "INSERT INTO access_log",  # the read of the child's identity
    ], "A fire")


# ------------------------------------------------------------------ a case


def test_the_case_in_the_api(api, demo):
    case = api.file("ouder1")
    api.accept(case)
    assert api.get("lpa", f"/cases/{case['id']}").status_code == 200  # the token's first use
    with counted() as seen:
        response = api.get("lpa", f"/cases/{case['id']}")
    assert response.status_code == 200
    assert_statements(seen, [
        "FROM api_tokens",
        "FROM cases",  # with its child, gemeente and the gemeente's settings
        "FROM audit_events",  # the history
        "FROM letters",
        "INSERT INTO access_log",  # the read of the child's identity
    ], "GET /api/v1/cases/<id>")


def test_the_case_page(client, demo):
    case = make_case(demo, "advies_uitgebracht")
    web_signed_in(client, "leerplicht@voorbeeldstad.test")
    assert client.get(f"/zaken/{case.id}").status_code == 200
    with counted() as seen:
        response = client.get(f"/zaken/{case.id}")
    assert response.status_code == 200
    assert_statements(seen, [
        "FROM users",  # the signed-in user (Flask-Login)
        "FROM user_sessions",  # and the session row
        "FROM cases",  # with its child and gemeente
        "FROM users",  # the jeugdarts
        "FROM organisations",  # the jeugdarts' JGZ
        "FROM audit_events",
        "FROM letters",
        "INSERT INTO access_log",
        "INSERT INTO access_log",
        "FROM organisations",  # the SWV that gave the advice
    ], "The case page")


# ------------------------------------------------------------------ a list


def _list_counts(request_list, demo, sizes=(2, 12)) -> list[list[str]]:
    """The statements of the LPA's list with `sizes` cases in the gemeente (besides the demo's)."""
    runs, made = [], 0
    for size in sizes:
        for child in _children(demo, size - made, made):
            make_case(demo, "in_behandeling", child=child)
        made = size
        request_list()  # warm: the token's or session's first use
        with counted() as seen:
            response = request_list()
        assert response.status_code == 200
        runs.append(seen)
    return runs


def test_the_api_list_does_not_grow_with_the_page(api, demo):
    small, large = _list_counts(lambda: api.get("lpa", "/cases?per_page=25"), demo)
    assert len(small) == len(large), f"2 cases:\n{_explain(small)}\n12 cases:\n{_explain(large)}"
    assert_statements(large, [
        "FROM api_tokens",
        "count(",  # the total
        "FROM cases",  # the page
        ("FROM children", "FROM organisations"),  # its children and gemeenten, one query each
        "INSERT INTO access_log",  # one row per case shown, one executemany
    ], "GET /api/v1/cases")


def test_the_work_list_page_does_not_grow_with_the_page(client, demo):
    web_signed_in(client, "leerplicht@voorbeeldstad.test")
    small, large = _list_counts(lambda: client.get("/zaken"), demo)
    assert len(small) == len(large), f"2 cases:\n{_explain(small)}\n12 cases:\n{_explain(large)}"
    assert_statements(large, [
        "FROM users",
        "FROM user_sessions",
        "count(",
        "FROM cases",  # the page, with the children's names
        "INSERT INTO access_log",
    ], "The work list")


def test_the_api_search_does_not_grow_with_the_matches(api, demo):
    small, large = _list_counts(lambda: api.get("lpa", "/cases?per_page=25&q=Telkind"), demo)
    assert len(small) == len(large), f"2 cases:\n{_explain(small)}\n12 cases:\n{_explain(large)}"
    assert_statements(large, [
        "FROM api_tokens",
        "WITH matches AS MATERIALIZED",  # the page's ids and the exact total (window count)
        "FROM cases",  # those cases
        ("FROM children", "FROM organisations"),
        "INSERT INTO access_log",
    ], "GET /api/v1/cases?q=")
