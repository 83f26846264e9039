"""a child record per gemeente: unique (bsn, gemeente_id) instead of bsn

Revision ID: 0f8c3bcf4e25
Revises: f1b56dfc17d0
Create Date: 2026-12-03 23:30:00.000000

Each gemeente keeps its own leerplicht administration of the children living there, so the
same BSN may have a record in two gemeenten; registering a BSN known elsewhere then answers
exactly like an unknown BSN. The new unique index leads with bsn, so it also serves the look-ups
by BSN alone (the beheerder's access log by BSN, the generator's highest BSN).

SQLite: the old constraint is part of the CREATE TABLE, so the table is copied (batch mode).
The copy drops the FTS5 triggers on children and the view children_naam blocks renaming the
copy into `children` (see the search indexes migration): both are dropped first and made
again after. Row ids do not change, so children_fts itself stays valid. PostgreSQL: a plain
ALTER TABLE; the trigram index is not touched.

Downgrade: refused by the database when a BSN has records in two gemeenten.
"""
from alembic import op


revision = '0f8c3bcf4e25'
down_revision = 'f1b56dfc17d0'
branch_labels = None
depends_on = None

_CHILD_NAAM = "{row}.voornaam || ' ' || {row}.achternaam"

SQLITE_SEARCH_DROP = (
    "DROP TRIGGER IF EXISTS children_fts_update",
    "DROP TRIGGER IF EXISTS children_fts_delete",
    "DROP TRIGGER IF EXISTS children_fts_insert",
    "DROP VIEW IF EXISTS children_naam",
)

# As in 2026_11_23_search_indexes.py.
SQLITE_SEARCH_CREATE = (
    "CREATE VIEW children_naam AS SELECT id, voornaam || ' ' || achternaam AS naam FROM children",
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
)


def _swap(drop: str, create: str, columns: list[str]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for statement in SQLITE_SEARCH_DROP:
            op.execute(statement)
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_constraint(drop, type_='unique')
        batch_op.create_unique_constraint(create, columns)
    if sqlite:
        for statement in SQLITE_SEARCH_CREATE:
            op.execute(statement)


def upgrade() -> None:
    _swap('uq_children_bsn', 'uq_children_bsn_gemeente', ['bsn', 'gemeente_id'])


def downgrade() -> None:
    _swap('uq_children_bsn_gemeente', 'uq_children_bsn', ['bsn'])
