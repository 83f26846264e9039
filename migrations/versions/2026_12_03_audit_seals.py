"""audit seals: keyed row MACs (audit_events.key_id, mac), audit_seals per case and global;
SQLite refuses REPLACE on the audit tables; existing chains are sealed with the audit key

Revision ID: 07a1471a4827
Revises: 92f99bf7c96c
Create Date: 2026-12-03 16:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '07a1471a4827'
down_revision = '92f99bf7c96c'
branch_labels = None
depends_on = None

_PG_GUARD = """
CREATE FUNCTION casework_audit_seal_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION casework_audit_seal_guard();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION casework_audit_seal_guard();
CREATE TRIGGER audit_seals_no_shrink BEFORE UPDATE ON audit_seals
    FOR EACH ROW WHEN (NEW.n_rows < OLD.n_rows OR NEW.case_id <> OLD.case_id)
    EXECUTE FUNCTION casework_audit_seal_guard();
"""

# SQLite: INSERT OR REPLACE deletes the old row without firing DELETE triggers (unless
# recursive_triggers is on), so an INSERT that would replace a row is refused before it runs.
_SQLITE_GUARD = [
    "CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events "
    "WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id "
    "OR (case_id = NEW.case_id AND seq = NEW.seq)) "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: REPLACE refused'); END;",
    "CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals "
    "BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only: DELETE refused'); END;",
    "CREATE TRIGGER audit_seals_no_replace BEFORE INSERT ON audit_seals "
    "WHEN EXISTS (SELECT 1 FROM audit_seals WHERE case_id = NEW.case_id) "
    "BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only: REPLACE refused'); END;",
    "CREATE TRIGGER audit_seals_no_shrink BEFORE UPDATE ON audit_seals "
    "WHEN NEW.n_rows < OLD.n_rows OR NEW.case_id <> OLD.case_id "
    "BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only: UPDATE refused'); END;",
]


def _settings():
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config
    from config import load_config

    return load_config()


def upgrade() -> None:
    # Plain ALTERs (no batch copy): audit_events keeps its append-only triggers.
    op.add_column("audit_events", sa.Column("key_id", sa.String(length=32), nullable=True))
    op.add_column("audit_events", sa.Column("mac", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_seals",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("n_cases", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_audit_seals")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_GUARD)
    elif dialect == "sqlite":
        for statement in _SQLITE_GUARD:
            op.execute(statement)

    from casework.services.audit import seal_existing_chains

    seal_existing_chains(op.get_bind(), _settings())


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_seals_no_delete ON audit_seals")
        op.execute("DROP TRIGGER IF EXISTS audit_seals_no_truncate ON audit_seals")
        op.execute("DROP TRIGGER IF EXISTS audit_seals_no_shrink ON audit_seals")
        op.execute("DROP FUNCTION IF EXISTS casework_audit_seal_guard()")
    elif dialect == "sqlite":
        for name in ("audit_events_no_replace", "audit_seals_no_delete", "audit_seals_no_replace",
                     "audit_seals_no_shrink"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("audit_seals")
    op.drop_column("audit_events", "mac")
    op.drop_column("audit_events", "key_id")
