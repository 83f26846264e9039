"""One page of a case list and how many cases there are: the API's and the web UI's lists.

How many: counting every case of a large gemeente (180,000 at a million cases) costs more than
the page itself, and nobody pages through more than a few thousand. So the count stops at
LIST_COUNT_CAP: above it the total is the cap and `capped` says there are more.

A search (`q`) must look at every match anyway to order them by due date, so its page's ids
carry the exact total as a window count (one pass instead of two); it is never capped.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm.attributes import set_committed_value

from casework.extensions import db
from casework.models import Case, Child, Organisation


@dataclass(frozen=True)
class Page:
    rows: list[Case]
    total: int
    capped: bool  # more cases than `total`: the count stopped at the cap


def count_cases(query: Select) -> tuple[int, bool]:
    """The number of cases `query` selects, up to the cap; and whether there are more."""
    cap = current_app.config["LIST_COUNT_CAP"]
    ids = query.with_only_columns(Case.id).order_by(None).limit(cap + 1).subquery()
    found = db.session.scalar(select(func.count()).select_from(ids)) or 0
    return min(found, cap), found > cap


def case_page(query: Select, order: Callable, page: int, per_page: int, *, search: bool,
              count_query: Select | None = None, by_id_query: Select | None = None) -> Page:
    """`query` (selecting Case, with its loader options) in the order `order(columns)` gives
    (policy.list_order: columns None for the cases table, or a subquery's), page `page`.

    count_query (default `query`): the same cases without joins or loader options; the count,
    and a search's first step, run on it.

    by_id_query (default `query`): how a search's second step reads the page's cases by id: the
    user's scope (policy) with the loader options, without the search itself. The ids come from
    the search in this transaction; matching the text once more for 25 rows cost as much as
    finding them (5 ms at a million cases on SQLite).

    A search goes in two steps: the page's ids with the exact total as a window count, from the
    indexes where the engine can (SQLite: no case row is read for the matches that do not make
    the page), then those cases. Otherwise the total is counted by count_cases (capped) and the
    page read straight in its order (ix_cases_gemeente_due)."""
    base = count_query if count_query is not None else query
    offset = (page - 1) * per_page
    if search:
        # MATERIALIZED: the matches are found first and then sorted. Without it PostgreSQL may
        # walk the gemeente's whole due-date index to save the sort, not seeing that the window
        # count needs every match before the first row (a second instead of milliseconds).
        matches = (base.with_only_columns(Case.id, Case.due_on).order_by(None)
                   .cte("matches").prefix_with("MATERIALIZED"))
        found = db.session.execute(
            select(matches.c.id, func.count().over().label("total"))
            .order_by(*order(matches.c)).limit(per_page).offset(offset)).all()
        if not found and page > 1:  # a page past the end: the total from a count
            total, capped = count_cases(base)
            return Page([], total, capped)
        ids = [row.id for row in found]
        by_id = by_id_query if by_id_query is not None else query
        rows = (db.session.scalars(by_id.where(Case.id.in_(ids))).unique().all() if ids else [])
        by_id = {case.id: case for case in rows}
        return Page([by_id[i] for i in ids if i in by_id], found[0].total if found else 0, False)
    total, capped = count_cases(base)
    rows = list(db.session.scalars(query.order_by(*order(None)).limit(per_page).offset(offset))
                .unique())
    return Page(rows, total, capped)


# Built once: a page's children and gemeenten by id.
_CHILDREN = select(Child).where(Child.id.in_(bindparam("ids", expanding=True)))
_ORGANISATIONS = select(Organisation).where(Organisation.id.in_(bindparam("ids", expanding=True)))


def with_children_and_gemeenten(rows: list[Case]) -> list[Case]:
    """The page's children and gemeenten in one read each, set on its cases as loaded (what
    selectinload does, without building its statements anew for every page: that cost more
    than the reads)."""
    if rows:
        children = {c.id: c for c in db.session.scalars(
            _CHILDREN, {"ids": sorted({case.child_id for case in rows})})}
        gemeenten = {g.id: g for g in db.session.scalars(
            _ORGANISATIONS, {"ids": sorted({case.gemeente_id for case in rows})})}
        for case in rows:
            set_committed_value(case, "child", children.get(case.child_id))
            set_committed_value(case, "gemeente", gemeenten.get(case.gemeente_id))
    return rows
