"""letters.queued_at: a letter is put on the queue once

Revision ID: 9a41c7e05d2b
Revises: 7d2e4a9c1b63
Create Date: 2026-12-04 06:50:00.000000

The sweep (every minute, and at each worker's start) re-queues only letters that are not on the
queue. Existing pending letters start with NULL: the first sweep queues them once.
"""
import sqlalchemy as sa
from alembic import op


revision = '9a41c7e05d2b'
down_revision = '7d2e4a9c1b63'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("letters", sa.Column("queued_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("letters", "queued_at")  # SQLite 3.35+: a plain ALTER TABLE DROP COLUMN
