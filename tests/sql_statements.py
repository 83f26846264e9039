"""Counting the SQL statements a request or task sends (tests/test_statement_counts*.py). No tests
of its own."""
from __future__ import annotations

from contextlib import contextmanager

from casework.extensions import db

# The test's own transaction control: the app's commits become savepoints here, and SQLite's
# BEGIN IMMEDIATE is the app's; neither is a statement of the work counted.
_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT",
            "ROLLBACK")


@contextmanager
def counted():
    """The statements sent to the database inside the block, whitespace folded.

    Starts a new session, as each request and each task has in the running app: the test's app
    context (and so its session and identity map) otherwise outlives the test client's requests."""
    from sqlalchemy import event

    seen: list[str] = []
    db.session.remove()

    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        text = " ".join(statement.split())
        if not text.upper().startswith(_CONTROL):
            seen.append(text)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def explain(seen: list[str]) -> str:
    return "\n".join(f"  {n}. {s[:150]}" for n, s in enumerate(seen, 1))


def assert_statements(seen: list[str], expected: list, what: str) -> None:
    """`seen` is exactly one statement per text in `expected`, each containing its text; a tuple
    in `expected` stands for that many statements in any order (loads SQLAlchemy sends
    together, such as two selectinloads)."""
    flat = [part for entry in expected for part in (entry if isinstance(entry, tuple) else (entry,))]
    assert len(seen) == len(flat), (
        f"{what} sent {len(seen)} statements, expected {len(flat)}:\n{explain(seen)}")
    n = 0
    for entry in expected:
        group = entry if isinstance(entry, tuple) else (entry,)
        unmatched = list(seen[n:n + len(group)])
        for part in group:
            hit = next((s for s in unmatched if part in s), None)
            assert hit is not None, (
                f"{what}, statements {n + 1}-{n + len(group)}: expected {part!r}:\n{explain(seen)}")
            unmatched.remove(hit)
        n += len(group)
