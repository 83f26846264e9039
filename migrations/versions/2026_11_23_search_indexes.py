"""search indexes

Revision ID: f01d91e83cef
Revises: 8f20ecee342d
Create Date: 2026-11-23 20:00:00.000000

Trigram indexes for the search by name or kenmerk (casework/search.py): `LIKE '%…%'` cannot use
a b-tree, so at a million cases it scanned every child and case.

PostgreSQL: pg_trgm (a trusted extension) and GIN indexes on exactly the expressions the query
compares, `lower(voornaam || ' ' || achternaam)` and `lower(reference)`; kept by PostgreSQL
itself, COPY included.

SQLite: FTS5 tables with the trigram tokenizer, as external-content indexes (they hold only the
trigrams; the text stays in children and cases): `children_fts` over the view `children_naam`
(the full name as one column, so a search across both names matches too) and `cases_fts` over
cases.reference. Triggers keep them in step with every insert, update and delete, including the
generator's executemany inserts. Note for later migrations: a batch (copy-and-move) migration of
children or cases on SQLite drops these triggers with the old table, and the view blocks renaming
a table into `children`; drop the search objects first and run this migration's SQL again after.
"""
from alembic import op


revision = 'f01d91e83cef'
down_revision = '8f20ecee342d'
branch_labels = None
depends_on = None


POSTGRESQL_UP = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_children_naam_trgm ON children "
    "USING gin (lower(voornaam || ' ' || achternaam) gin_trgm_ops)",
    "CREATE INDEX ix_cases_reference_trgm ON cases USING gin (lower(reference) gin_trgm_ops)",
)

# The extension stays: other objects may use it, and it may have been there before.
POSTGRESQL_DOWN = (
    "DROP INDEX ix_cases_reference_trgm",
    "DROP INDEX ix_children_naam_trgm",
)

_CHILD_NAAM = "{row}.voornaam || ' ' || {row}.achternaam"

SQLITE_UP = (
    "CREATE VIEW children_naam AS SELECT id, voornaam || ' ' || achternaam AS naam FROM children",
    # columnsize=0: no per-row token counts (only ranking uses them, and the search does not rank).
    "CREATE VIRTUAL TABLE children_fts USING fts5(naam, content='children_naam', "
    "content_rowid='id', tokenize='trigram', columnsize=0)",
    "INSERT INTO children_fts(children_fts) VALUES ('rebuild')",
    f"""CREATE TRIGGER children_fts_insert AFTER INSERT ON children BEGIN
        INSERT INTO children_fts(rowid, naam) VALUES (new.id, {_CHILD_NAAM.format(row='new')});
    END""",
    f"""CREATE TRIGGER children_fts_delete AFTER DELETE ON children BEGIN
        INSERT INTO children_fts(children_fts, rowid, naam)
        VALUES ('delete', old.id, {_CHILD_NAAM.format(row='old')});
    END""",
    f"""CREATE TRIGGER children_fts_update AFTER UPDATE OF id, voornaam, achternaam ON children
    BEGIN
        INSERT INTO children_fts(children_fts, rowid, naam)
        VALUES ('delete', old.id, {_CHILD_NAAM.format(row='old')});
        INSERT INTO children_fts(rowid, naam) VALUES (new.id, {_CHILD_NAAM.format(row='new')});
    END""",
    "CREATE VIRTUAL TABLE cases_fts USING fts5(reference, content='cases', content_rowid='id', "
    "tokenize='trigram', columnsize=0)",
    "INSERT INTO cases_fts(cases_fts) VALUES ('rebuild')",
    """CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
        INSERT INTO cases_fts(rowid, reference) VALUES (new.id, new.reference);
    END""",
    """CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
        INSERT INTO cases_fts(cases_fts, rowid, reference) VALUES ('delete', old.id, old.reference);
    END""",
    # OF id, reference: a state change (the usual update) leaves the index alone.
    """CREATE TRIGGER cases_fts_update AFTER UPDATE OF id, reference ON cases BEGIN
        INSERT INTO cases_fts(cases_fts, rowid, reference) VALUES ('delete', old.id, old.reference);
        INSERT INTO cases_fts(rowid, reference) VALUES (new.id, new.reference);
    END""",
)

SQLITE_DOWN = (
    "DROP TRIGGER cases_fts_update",
    "DROP TRIGGER cases_fts_delete",
    "DROP TRIGGER cases_fts_insert",
    "DROP TABLE cases_fts",
    "DROP TRIGGER children_fts_update",
    "DROP TRIGGER children_fts_delete",
    "DROP TRIGGER children_fts_insert",
    "DROP TABLE children_fts",
    "DROP VIEW children_naam",
)


def _run(statements: tuple[str, ...]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(POSTGRESQL_UP)
    elif dialect == "sqlite":
        _run(SQLITE_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(POSTGRESQL_DOWN)
    elif dialect == "sqlite":
        _run(SQLITE_DOWN)
