"""beheer: the chained record of what beheerders change (beheer_wijzigingen, append-only), the
settings of a gemeente (gemeente_instellingen) and the kind of a set-password link (soort)

Revision ID: 3c5e8b1d2a47
Revises: 87da74dddbbb
Create Date: 2026-12-04 11:20:00.000000

Downgrade drops both tables and the column: the record of changes is then lost, so make a
backup first.
"""
import sqlalchemy as sa
from alembic import op


revision = '3c5e8b1d2a47'
down_revision = '87da74dddbbb'
branch_labels = None
depends_on = None

_PG_GUARD = """
CREATE FUNCTION casework_beheer_wijzigingen_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'beheer_wijzigingen is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER beheer_wijzigingen_no_update BEFORE UPDATE ON beheer_wijzigingen
    FOR EACH ROW EXECUTE FUNCTION casework_beheer_wijzigingen_guard();
CREATE TRIGGER beheer_wijzigingen_no_delete BEFORE DELETE ON beheer_wijzigingen
    FOR EACH ROW EXECUTE FUNCTION casework_beheer_wijzigingen_guard();
CREATE TRIGGER beheer_wijzigingen_no_truncate BEFORE TRUNCATE ON beheer_wijzigingen
    FOR EACH STATEMENT EXECUTE FUNCTION casework_beheer_wijzigingen_guard();
"""

_SQLITE_GUARDS = {
    "beheer_wijzigingen_no_update": "BEFORE UPDATE ON beheer_wijzigingen BEGIN "
                                    "SELECT RAISE(ABORT, 'beheer_wijzigingen is append-only: UPDATE refused'); END",
    "beheer_wijzigingen_no_delete": "BEFORE DELETE ON beheer_wijzigingen BEGIN "
                                    "SELECT RAISE(ABORT, 'beheer_wijzigingen is append-only: DELETE refused'); END",
    "beheer_wijzigingen_no_replace": "BEFORE INSERT ON beheer_wijzigingen "
                                     "WHEN EXISTS (SELECT 1 FROM beheer_wijzigingen WHERE seq = NEW.seq) BEGIN "
                                     "SELECT RAISE(ABORT, 'beheer_wijzigingen is append-only: REPLACE refused'); END",
}


def upgrade() -> None:
    op.create_table(
        'beheer_wijzigingen',
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_naam', sa.String(length=200), nullable=False),
        sa.Column('gemeente_id', sa.Integer(), nullable=True),
        sa.Column('onderwerp', sa.String(length=32), nullable=False),
        sa.Column('onderwerp_id', sa.Integer(), nullable=True),
        sa.Column('actie', sa.String(length=32), nullable=False),
        sa.Column('omschrijving', sa.String(length=300), nullable=False),
        sa.Column('wijzigingen', sa.JSON(), nullable=False),
        sa.Column('prev_mac', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('mac', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_beheer_wijzigingen_actor_id_users')),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_beheer_wijzigingen')),
    )
    op.create_index('ix_beheer_wijzigingen_gemeente_seq', 'beheer_wijzigingen', ['gemeente_id', 'seq'])
    op.create_table(
        'gemeente_instellingen',
        sa.Column('gemeente_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('advies_termijn_dagen', sa.Integer(), nullable=True),
        sa.Column('herbeoordeling_lead_dagen', sa.Integer(), nullable=True),
        sa.Column('verlenging_herinnering_dagen', sa.Integer(), nullable=True),
        sa.Column('ondertekenaar_naam', sa.String(length=200), nullable=False),
        sa.Column('ondertekenaar_functie', sa.String(length=200), nullable=False),
        sa.Column('logo', sa.LargeBinary(), nullable=True),
        sa.Column('logo_type', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['gemeente_id'], ['organisations.id'], ondelete='CASCADE',
                                name=op.f('fk_gemeente_instellingen_gemeente_id_organisations')),
        sa.PrimaryKeyConstraint('gemeente_id', name=op.f('pk_gemeente_instellingen')),
    )
    with op.batch_alter_table('password_reset_tokens') as batch:
        batch.add_column(sa.Column('soort', sa.String(length=16), nullable=False, server_default='herstel'))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_GUARD)
    else:
        for name, body in _SQLITE_GUARDS.items():
            op.execute(f"CREATE TRIGGER {name} {body};")


def downgrade() -> None:
    with op.batch_alter_table('password_reset_tokens') as batch:
        batch.drop_column('soort')
    op.drop_table('gemeente_instellingen')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE beheer_wijzigingen")
        op.execute("DROP FUNCTION IF EXISTS casework_beheer_wijzigingen_guard()")
    else:
        for name in _SQLITE_GUARDS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.drop_table('beheer_wijzigingen')
