"""search scope: the child's name on its cases, searched within the user's gemeente first

Revision ID: 9b3e6f2c1d85
Revises: 5d1f0c7a9e22
Create Date: 2026-12-05 11:00:00.000000

On PostgreSQL a name search used to find every child with the name in the whole database (a
trigram index and then each child's row) and only then keep the cases of the user's gemeente: at
a million cases thousands of rows read to show 25. Now each case holds its child's name
(`cases.kind_naam`, kept by triggers) and two GIN indexes over (gemeente_id, trigrams) — of the
name and of the reference — find only the gemeente's matching cases (btree_gin lets a GIN index
hold the gemeente; it is a trusted extension, like pg_trgm).

SQLite keeps its FTS5 tables (search indexes migration); the column is kept there too (triggers),
so both databases hold the same data.

Triggers: a new case or a case moved to another child takes the child's name; a child's new name
goes to all its cases. The synthetic data generator writes the name itself (the SQLite trigger
then has nothing to do; PostgreSQL's sets it again from the child, which is the same).
"""
import sqlalchemy as sa
from alembic import op


revision = '9b3e6f2c1d85'
down_revision = '5d1f0c7a9e22'
branch_labels = None
depends_on = None

_NAAM = "children.voornaam || ' ' || children.achternaam"

_FILL = f"UPDATE cases SET kind_naam = (SELECT {_NAAM} FROM children WHERE children.id = cases.child_id)"

POSTGRESQL_UP = (
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    """CREATE FUNCTION cases_kind_naam() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.kind_naam := (SELECT voornaam || ' ' || achternaam FROM children WHERE id = NEW.child_id);
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER cases_kind_naam BEFORE INSERT OR UPDATE OF child_id ON cases
    FOR EACH ROW EXECUTE FUNCTION cases_kind_naam()""",
    """CREATE FUNCTION children_naam_naar_cases() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE cases SET kind_naam = NEW.voornaam || ' ' || NEW.achternaam WHERE child_id = NEW.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER children_naam_naar_cases AFTER UPDATE OF voornaam, achternaam ON children
    FOR EACH ROW WHEN (OLD.voornaam IS DISTINCT FROM NEW.voornaam
                       OR OLD.achternaam IS DISTINCT FROM NEW.achternaam)
    EXECUTE FUNCTION children_naam_naar_cases()""",
    "CREATE INDEX ix_cases_naam_trgm ON cases "
    "USING gin (gemeente_id, lower(kind_naam) gin_trgm_ops)",
    "CREATE INDEX ix_cases_reference_scope_trgm ON cases "
    "USING gin (gemeente_id, lower(reference) gin_trgm_ops)",
)

POSTGRESQL_DOWN = (
    "DROP INDEX ix_cases_reference_scope_trgm",
    "DROP INDEX ix_cases_naam_trgm",
    "DROP TRIGGER children_naam_naar_cases ON children",
    "DROP FUNCTION children_naam_naar_cases()",
    "DROP TRIGGER cases_kind_naam ON cases",
    "DROP FUNCTION cases_kind_naam()",
)

_SQLITE_NAAM = "(SELECT voornaam || ' ' || achternaam FROM children WHERE id = new.child_id)"

SQLITE_UP = (
    f"""CREATE TRIGGER cases_kind_naam_insert AFTER INSERT ON cases
    WHEN new.kind_naam IS NOT {_SQLITE_NAAM} BEGIN
        UPDATE cases SET kind_naam = {_SQLITE_NAAM} WHERE id = new.id;
    END""",
    f"""CREATE TRIGGER cases_kind_naam_update AFTER UPDATE OF child_id, kind_naam ON cases
    WHEN new.kind_naam IS NOT {_SQLITE_NAAM} BEGIN
        UPDATE cases SET kind_naam = {_SQLITE_NAAM} WHERE id = new.id;
    END""",
    """CREATE TRIGGER children_naam_naar_cases AFTER UPDATE OF voornaam, achternaam ON children
    BEGIN
        UPDATE cases SET kind_naam = new.voornaam || ' ' || new.achternaam WHERE child_id = new.id;
    END""",
)

SQLITE_DOWN = (
    "DROP TRIGGER children_naam_naar_cases",
    "DROP TRIGGER cases_kind_naam_update",
    "DROP TRIGGER cases_kind_naam_insert",
)


def _run(statements: tuple[str, ...]) -> None:
    for statement in statements:
        op.execute(statement)


def _refresh_statistics(dialect: str) -> None:
    """The planner's statistics for cases, with the new indexes and column (this migration and
    the list indexes before it). Without them SQLite, which had statistics of the old indexes
    only, read a gemeente's 184,393 cases for a search at a million cases (0.3 s instead of 20
    ms). SQLite only where statistics were kept before (generate, or an ANALYZE by hand): a
    database without them keeps the planner's defaults, which suit a growing table better than
    the figures of a small one."""
    if dialect == "postgresql":
        op.execute("ANALYZE cases")
    elif dialect == "sqlite":
        bind = op.get_bind()
        kept = bind.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar()
        if kept and bind.exec_driver_sql(
                "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'cases'").scalar():
            op.execute("ANALYZE cases")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("cases", sa.Column("kind_naam", sa.String(length=201), nullable=True))
    op.execute(_FILL)
    if dialect == "postgresql":
        _run(POSTGRESQL_UP)
    elif dialect == "sqlite":
        _run(SQLITE_UP)
    _refresh_statistics(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(POSTGRESQL_DOWN)
    elif dialect == "sqlite":
        _run(SQLITE_DOWN)
    op.drop_column("cases", "kind_naam")
