"""work list index

Revision ID: 8f20ecee342d
Revises: 63b3872623af
Create Date: 2026-11-23 19:05:00.000000
"""
from alembic import op


revision = '8f20ecee342d'
down_revision = '63b3872623af'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The work list: a gemeente's cases by due date (NULLS LAST), then id. With a million cases
    # PostgreSQL otherwise scans the whole table twice per page (count and first page); with it
    # the count is an index-only scan and the first page reads 25 index entries.
    op.create_index("ix_cases_gemeente_due", "cases", ["gemeente_id", "due_on", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_gemeente_due", table_name="cases")
