"""list indexes: a child's cases by gemeente and due date; a gemeente's cases by state and due date

Revision ID: 5d1f0c7a9e22
Revises: 3c5e8b1d2a47
Create Date: 2026-12-05 10:00:00.000000

A name search finds children first, then their cases: with (child_id, gemeente_id, due_on, id)
it keeps only the user's gemeente's cases without reading their rows (at a million cases the
rows lie all over the table). ix_cases_child_id, its first column alone, goes. A list filtered
on a state (and a type) reads (gemeente_id, state, type, due_on, id) instead of every case of
the gemeente.
"""
from alembic import op


revision = '5d1f0c7a9e22'
down_revision = '3c5e8b1d2a47'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_child_scope", "cases", ["child_id", "gemeente_id", "due_on", "id"])
    op.create_index("ix_cases_gemeente_state_due", "cases",
                    ["gemeente_id", "state", "type", "due_on", "id"])
    op.drop_index("ix_cases_child_id", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_child_id", "cases", ["child_id"])
    op.drop_index("ix_cases_gemeente_state_due", table_name="cases")
    op.drop_index("ix_cases_child_scope", table_name="cases")
