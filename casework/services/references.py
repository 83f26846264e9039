"""Case references without gaps: PREFIX-YYYY-NNNNN, numbered per prefix and year.

The number comes from reference_counters, taken by one INSERT ... ON CONFLICT DO UPDATE ...
RETURNING in the transaction that inserts the case: the first case of a prefix and year
inserts the row (last = 1), every later one adds one to it. The row stays locked until that
transaction ends, so two transactions never get the same number, and a rollback (a DUO dry
run's savepoint, a step refused after the case was flushed, a lost race) takes its number back
with it. A database sequence (the case id) cannot do that: PostgreSQL never hands a sequence
value back. SQLite serialises writers (BEGIN IMMEDIATE) anyway.

Lock order: the case's opening step takes the number after its audit row, which locks the
global audit seal; every transaction that takes a number holds that seal first, so taking a
number never waits and never deadlocks against the seal.
"""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from casework.extensions import db
from casework.models import ReferenceCounter

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def next_number(prefix: str, year: int) -> int:
    """The next number of this prefix and year, taken in the current transaction."""
    insert = _INSERTS[db.session.get_bind().dialect.name]
    table = ReferenceCounter.__table__
    statement = (insert(table).values(prefix=prefix, year=year, last=1)
                 .on_conflict_do_update(index_elements=[table.c.prefix, table.c.year],
                                        set_={"last": table.c.last + 1})
                 .returning(table.c.last))
    return db.session.execute(statement).scalar_one()


def format_reference(prefix: str, year: int, number: int) -> str:
    """V5A-2026-00014: five digits, more when a year needs them."""
    return f"{prefix}-{year}-{number:05d}"


def next_reference(prefix: str, year: int) -> str:
    return format_reference(prefix, year, next_number(prefix, year))
