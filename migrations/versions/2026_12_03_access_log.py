"""access log: who (role, organisation), on whose data (child), the processing activity,
security events (no user for an unknown e-mail: subject is a keyed hash); append-only

Revision ID: 3c9a5e71d0b4
Revises: 07a1471a4827
Create Date: 2026-12-03 17:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '3c9a5e71d0b4'
down_revision = '07a1471a4827'
branch_labels = None
depends_on = None

_PG_GUARD = """
CREATE FUNCTION casework_access_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
    FOR EACH ROW EXECUTE FUNCTION casework_access_log_append_only();
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION casework_access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION casework_access_log_append_only();
"""

# SQLite: REPLACE deletes the old row without firing the DELETE trigger (recursive_triggers is
# off): an INSERT whose id already exists is refused before it can replace anything.
_SQLITE_GUARDS = {
    "access_log_no_update": "BEFORE UPDATE ON access_log BEGIN "
                            "SELECT RAISE(ABORT, 'access_log is append-only: UPDATE refused'); END",
    "access_log_no_delete": "BEFORE DELETE ON access_log BEGIN "
                            "SELECT RAISE(ABORT, 'access_log is append-only: DELETE refused'); END",
    "access_log_no_replace": "BEFORE INSERT ON access_log "
                             "WHEN EXISTS (SELECT 1 FROM access_log WHERE id = NEW.id) BEGIN "
                             "SELECT RAISE(ABORT, 'access_log is append-only: REPLACE refused'); END",
}


def _create_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_GUARD)
    else:
        for name, body in _SQLITE_GUARDS.items():
            op.execute(f"CREATE TRIGGER {name} {body};")


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for verb in ("update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS access_log_no_{verb} ON access_log")
        op.execute("DROP FUNCTION IF EXISTS casework_access_log_append_only()")
    else:
        for name in _SQLITE_GUARDS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    # A batch copy is safe here: no table references access_log and it had no triggers yet.
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('child_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('role', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='lezen',
                                      nullable=False))
        batch_op.add_column(sa.Column('activity', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('subject', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_access_log_child_id_children'), 'children',
                                    ['child_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_access_log_organisation_id_organisations'),
                                    'organisations', ['organisation_id'], ['id'])
        batch_op.drop_index(batch_op.f('ix_access_log_user_id'))
        batch_op.create_index('ix_access_log_user_at', ['user_id', 'at'], unique=False)
        batch_op.create_index('ix_access_log_child_at', ['child_id', 'at'], unique=False)
    # Rows written before: the child of their case, the role and organisation of their user.
    op.execute("UPDATE access_log SET child_id = (SELECT child_id FROM cases "
               "WHERE cases.id = access_log.case_id) WHERE case_id IS NOT NULL")
    op.execute("UPDATE access_log SET role = (SELECT role FROM users WHERE users.id = access_log.user_id), "
               "organisation_id = (SELECT organisation_id FROM users WHERE users.id = access_log.user_id)")
    _create_guards()


def downgrade() -> None:
    _drop_guards()
    op.execute("DELETE FROM access_log WHERE user_id IS NULL")
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index('ix_access_log_child_at')
        batch_op.drop_index('ix_access_log_user_at')
        batch_op.create_index(batch_op.f('ix_access_log_user_id'), ['user_id'], unique=False)
        batch_op.drop_constraint(batch_op.f('fk_access_log_organisation_id_organisations'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_access_log_child_id_children'), type_='foreignkey')
        batch_op.drop_column('subject')
        batch_op.drop_column('activity')
        batch_op.drop_column('kind')
        batch_op.drop_column('organisation_id')
        batch_op.drop_column('role')
        batch_op.drop_column('child_id')
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
