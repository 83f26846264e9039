"""Search by name or kenmerk: the one implementation behind the API's and the web UI's `q`.

What matches: a case-insensitive substring of the child's "voornaam achternaam" (so of either
name, or across both, as in "sam jans") and of the case reference; `%`, `_` and `\\` are taken
literally. The SWV adviser finds a case by the child's name only where the case has toestemming.

How it stays fast (migrations 2026_11_23_search_indexes, 2026_12_05_search_scope and
2026_12_06_search_index_upkeep):
- PostgreSQL: GIN trigram indexes (pg_trgm) on `lower(voornaam || ' ' || achternaam)` (children)
  and on the cases' own `(gemeente_id, lower(kind_naam))` and `(gemeente_id, lower(reference))`
  (btree_gin; it serves a search without a gemeente too), without a pending list. The
  conditions below are exactly `<indexed expression> LIKE lower(:pattern)`, so the planner reads
  the candidate rows from the index (Bitmap Index Scan) and rechecks them; for a gemeente's user
  only that gemeente's.
- SQLite: FTS5 tables with the trigram tokenizer, `children_fts` (over the view `children_naam`)
  and `cases_fts` (over `cases.reference`), external content kept in step by triggers. A text of
  three characters or more first narrows to the rows whose trigrams match; for a text in ASCII
  that match decides (_fts_decides), for any other text the same LIKE then decides, so the
  result is the LIKE's.
A shorter text has no trigram to look up: a plain scan on SQLite, and on PostgreSQL the planner
chooses the scan itself.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, String, column, func, literal_column, or_, select, table, true

from casework import policy
from casework.extensions import db
from casework.models import Case, Child, User

# A trigram index can only look up texts of at least this many characters.
MIN_INDEXED_LENGTH = 3

# Schema objects of the search indexes that the models do not describe (Alembic's comparison of
# models and database leaves them alone: migrations/env.py and tests/test_migrations.py).
# ix_cases_reference_trgm went in 2026_12_06_search_index_upkeep (the scoped one serves every
# search); it stays known here for a database taken back to before that migration.
TRIGRAM_INDEXES = ("ix_children_naam_trgm", "ix_cases_reference_trgm", "ix_cases_naam_trgm",
                   "ix_cases_reference_scope_trgm")
FTS_TABLES = ("children_fts", "cases_fts")

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def is_search_index_object(name: str | None) -> bool:
    """A search index, an FTS5 table or one of its shadow tables (children_fts_data, …)."""
    if name is None:
        return False
    return name in TRIGRAM_INDEXES or any(name == t or name.startswith(f"{t}_") for t in FTS_TABLES)


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's include_name hook: compare everything except the search index objects."""
    return not (type_ in ("table", "index") and is_search_index_object(name))


def like_pattern(text: str) -> str:
    """A LIKE pattern that finds text anywhere, with % and _ taken literally (escape char \\)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _patterns(text: str) -> list[str]:
    # SQLite's lower() (and PostgreSQL's in the C locale) folds only A-Z. The API compared
    # lower(name) with lower(text), the web lists with Python's text.lower(): both are kept, so a
    # text with a capital like É finds what it found in either place before.
    patterns = [like_pattern(text)]
    if text.lower() != text.translate(_ASCII_LOWER):
        patterns.append(like_pattern(text.lower()))
    return patterns


def _contains(expression: ColumnElement[str], text: str) -> ColumnElement[bool]:
    """lower(expression) LIKE lower(pattern): on PostgreSQL the shape its trigram index serves."""
    lowered = func.lower(expression)
    return or_(*(lowered.like(func.lower(p), escape="\\") for p in _patterns(text)))


def _full_name() -> ColumnElement[str]:
    # A literal ' ' (not a bound parameter): the query's expression must be the indexed one.
    return Child.voornaam + literal_column("' '", String) + Child.achternaam


def _fts_uses_index(text: str) -> bool:
    return len(text) >= MIN_INDEXED_LENGTH and db.session.get_bind().dialect.name == "sqlite"


def _fts_rowids(fts_table: str, text: str):
    """SELECT rowid FROM <fts_table> WHERE <fts_table> MATCH '"text"' (an FTS5 string: the
    trigram tokenizer matches it as a substring, case-insensitively)."""
    fts = table(fts_table, column("rowid"))
    phrase = '"' + text.replace('"', '""') + '"'
    return select(fts.c.rowid).where(literal_column(fts_table).op("MATCH")(phrase))


def _fts_decides(text: str) -> bool:
    """Whether the FTS5 match alone gives the LIKE's answer, so no row is read to check it.

    For a text in ASCII it does: the trigram phrase matches exactly where the text occurs, with
    ASCII letters folded as lower() folds them. A text with other letters is checked by the LIKE
    as well, because FTS5 folds É to é where SQLite's lower() does not. (The only difference for
    an ASCII text: the odd letter outside ASCII whose case folds into it, such as the Kelvin
    sign, is found by its ASCII letter.)"""
    return _fts_uses_index(text) and text.isascii()


def children_matching(text: str) -> ColumnElement[bool]:
    """Children whose "voornaam achternaam" contains text, case-insensitively."""
    if _fts_decides(text):
        return Child.id.in_(_fts_rowids("children_fts", text))
    condition = _contains(_full_name(), text)
    if _fts_uses_index(text):
        condition = Child.id.in_(_fts_rowids("children_fts", text)) & condition
    return condition


def identity_visible(user: User) -> ColumnElement[bool]:
    """SQL twin of policy.sees_identity: names may only be searched where they may be seen."""
    if user.role == "swv_adviseur":
        return Case.toestemming.is_(True)
    return true()


def cases_matching(text: str, user: User) -> ColumnElement[bool]:
    """The cases this user may see (policy.case_scope) whose reference contains text, or whose
    child's name does where the user may see who the child is (SWV adviser: with toestemming)."""
    scope = policy.case_scope(user)
    # Without toestemming the SWV sees only the round's own kenmerk: the case's finds nothing.
    by_reference = _contains(Case.reference, text) & identity_visible(user)
    if db.session.get_bind().dialect.name != "sqlite":
        # PostgreSQL: the case's own copy of the child's name (cases.kind_naam). For a gemeente's
        # user both conditions go to GIN indexes that hold the gemeente as well (a BitmapOr of
        # ix_cases_reference_scope_trgm and ix_cases_naam_trgm): only that gemeente's matches
        # are read, not every child of that name in the country. Under three characters there
        # is no trigram and the planner scans the user's cases.
        return scope & or_(by_reference, _contains(Case.kind_naam, text) & identity_visible(user))
    if _fts_decides(text):
        # SQLite answers this OR from both indexes (MULTI-INDEX OR: the cases' FTS rowids, and
        # ix_cases_child_scope for the children's), reading no child row and, for a gemeente's
        # user, no case row until the page is chosen.
        return scope & identity_visible(user) & or_(
            Case.id.in_(_fts_rowids("cases_fts", text)),
            Case.child_id.in_(_fts_rowids("children_fts", text)))
    # correlate(None): the web list joins children itself; this subquery stands on its own.
    named = select(Child.id).where(children_matching(text)).correlate(None)
    by_name = Case.child_id.in_(named) & identity_visible(user)
    if len(text) < MIN_INDEXED_LENGTH:
        return scope & or_(by_reference, by_name)  # no trigram: test every visible case
    return scope & or_(Case.id.in_(_fts_rowids("cases_fts", text)) & by_reference, by_name)
