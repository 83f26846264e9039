"""access log seals: a MAC per access-log row (key_id, mac), chained seals over closed batches
and prune records (access_log_seals, append-only); a DELETE on access_log only within a pruned
range; existing rows get their MAC and are sealed

Revision ID: f1b56dfc17d0
Revises: c4d81e9a2f36
Create Date: 2026-12-03 23:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'f1b56dfc17d0'
down_revision = 'c4d81e9a2f36'
branch_labels = None
depends_on = None

_PRUNED_TO = "(SELECT coalesce(max(hi), 0) FROM access_log_seals WHERE kind = 'opschoning')"

_PG_GUARD = f"""
CREATE FUNCTION casework_access_log_seals_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'access_log_seals is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_log_seals_no_update BEFORE UPDATE ON access_log_seals
    FOR EACH ROW EXECUTE FUNCTION casework_access_log_seals_guard();
CREATE TRIGGER access_log_seals_no_delete BEFORE DELETE ON access_log_seals
    FOR EACH ROW EXECUTE FUNCTION casework_access_log_seals_guard();
CREATE TRIGGER access_log_seals_no_truncate BEFORE TRUNCATE ON access_log_seals
    FOR EACH STATEMENT EXECUTE FUNCTION casework_access_log_seals_guard();
DROP TRIGGER access_log_no_delete ON access_log;
CREATE FUNCTION casework_access_log_prune_only() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM gone WHERE id > {_PRUNED_TO}) THEN
        RAISE EXCEPTION 'access_log is append-only: DELETE refused (only whole pruned batches)';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_log_no_delete AFTER DELETE ON access_log REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION casework_access_log_prune_only();
"""

_PG_UNGUARD = """
DROP TRIGGER IF EXISTS access_log_no_delete ON access_log;
DROP FUNCTION IF EXISTS casework_access_log_prune_only();
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION casework_access_log_append_only();
"""

_SQLITE_GUARDS = {
    "access_log_seals_no_update": "BEFORE UPDATE ON access_log_seals BEGIN "
                                  "SELECT RAISE(ABORT, 'access_log_seals is append-only: UPDATE refused'); END",
    "access_log_seals_no_delete": "BEFORE DELETE ON access_log_seals BEGIN "
                                  "SELECT RAISE(ABORT, 'access_log_seals is append-only: DELETE refused'); END",
    "access_log_seals_no_replace": "BEFORE INSERT ON access_log_seals "
                                   "WHEN EXISTS (SELECT 1 FROM access_log_seals WHERE seq = NEW.seq) BEGIN "
                                   "SELECT RAISE(ABORT, 'access_log_seals is append-only: REPLACE refused'); END",
}
_SQLITE_DELETE_OLD = ("BEFORE DELETE ON access_log BEGIN "
                      "SELECT RAISE(ABORT, 'access_log is append-only: DELETE refused'); END")
_SQLITE_DELETE_NEW = (f"BEFORE DELETE ON access_log WHEN OLD.id > {_PRUNED_TO} BEGIN "
                      "SELECT RAISE(ABORT, 'access_log is append-only: DELETE refused'); END")
_SQLITE_NO_UPDATE = ("BEFORE UPDATE ON access_log BEGIN "
                     "SELECT RAISE(ABORT, 'access_log is append-only: UPDATE refused'); END")


def _settings():
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config
    from config import load_config

    return load_config()


def _backfill(conn, config) -> None:
    """A MAC for every row written before (the UPDATE guard is lifted for this only)."""
    from casework.services.audit import ACCESS_FIELDS, access_key, access_row_mac

    key_id, key = access_key(config)
    log = sa.table("access_log", sa.column("id", sa.Integer), sa.column("at", sa.DateTime),
                   sa.column("key_id", sa.String), sa.column("mac", sa.String),
                   *[sa.column(f) for f in ACCESS_FIELDS])
    last = 0
    while True:
        rows = conn.execute(sa.select(log).where(log.c.id > last).order_by(log.c.id).limit(5000)).all()
        if not rows:
            return
        conn.execute(sa.update(log).where(log.c.id == sa.bindparam("row_id"))
                     .values(key_id=sa.bindparam("k"), mac=sa.bindparam("m")),
                     [{"row_id": r.id, "k": key_id, "m": access_row_mac(key, r._mapping)} for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    # Plain ALTERs (no batch copy): access_log keeps its append-only triggers.
    op.add_column("access_log", sa.Column("key_id", sa.String(length=32), nullable=True))
    op.add_column("access_log", sa.Column("mac", sa.String(length=64), nullable=True))
    op.create_table(
        "access_log_seals",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lo", sa.Integer(), nullable=False),
        sa.Column("hi", sa.Integer(), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("prev_mac", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_access_log_seals")),
    )
    op.create_index("ix_access_log_seals_kind_hi", "access_log_seals", ["kind", "hi"], unique=False)

    conn, config = op.get_bind(), _settings()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE access_log DISABLE TRIGGER access_log_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS access_log_no_update")
    _backfill(conn, config)
    if postgres:
        op.execute("ALTER TABLE access_log ENABLE TRIGGER access_log_no_update")
        op.execute(_PG_GUARD)
    else:
        op.execute(f"CREATE TRIGGER access_log_no_update {_SQLITE_NO_UPDATE};")
        op.execute("DROP TRIGGER IF EXISTS access_log_no_delete")
        op.execute(f"CREATE TRIGGER access_log_no_delete {_SQLITE_DELETE_NEW};")
        for name, body in _SQLITE_GUARDS.items():
            op.execute(f"CREATE TRIGGER {name} {body};")

    from casework.services.access_log import seal_pending

    seal_pending(conn, config, settle_seconds=0)  # nothing writes during the migration


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_UNGUARD)
        for verb in ("update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS access_log_seals_no_{verb} ON access_log_seals")
        op.execute("DROP FUNCTION IF EXISTS casework_access_log_seals_guard()")
    else:
        op.execute("DROP TRIGGER IF EXISTS access_log_no_delete")
        op.execute(f"CREATE TRIGGER access_log_no_delete {_SQLITE_DELETE_OLD};")
        for name in _SQLITE_GUARDS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_access_log_seals_kind_hi", table_name="access_log_seals")
    op.drop_table("access_log_seals")
    op.drop_column("access_log", "mac")
    op.drop_column("access_log", "key_id")
