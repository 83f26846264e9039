"""two-step sign-in (TOTP columns on users, recovery_codes), server-side user_sessions,
last use of api_tokens

Revision ID: c4d81e9a2f36
Revises: 3c9a5e71d0b4
Create Date: 2026-12-03 17:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'c4d81e9a2f36'
down_revision = '3c9a5e71d0b4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): users and api_tokens are referenced by other tables.
    op.add_column('users', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('totp_pending_secret', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('totp_enrolled_at', sa.DateTime(), nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.add_column('api_tokens', sa.Column('last_used_at', sa.DateTime(), nullable=True))
    op.add_column('api_tokens', sa.Column('user_agent', sa.String(length=200), nullable=False,
                                          server_default=''))
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    )
    op.create_index(op.f('ix_recovery_codes_user_id'), 'recovery_codes', ['user_id'], unique=False)
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('user_agent', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_user_sessions_key_hash')),
    )
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
    op.drop_index(op.f('ix_recovery_codes_user_id'), table_name='recovery_codes')
    op.drop_table('recovery_codes')
    # plain DROP COLUMN (SQLite >= 3.35 too), no batch copy
    for table, column in (('api_tokens', 'user_agent'), ('api_tokens', 'last_used_at'),
                          ('users', 'totp_last_step'), ('users', 'totp_enrolled_at'),
                          ('users', 'totp_pending_secret'), ('users', 'totp_secret')):
        op.drop_column(table, column)
