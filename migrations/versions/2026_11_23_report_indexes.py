"""report indexes

Revision ID: 63b3872623af
Revises: 6033e3355b23
Create Date: 2026-11-23 18:30:00.000000
"""
from alembic import op


revision = '63b3872623af'
down_revision = '6033e3355b23'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE INDEX (no batch copy): audit_events keeps its append-only triggers.
    # The leerplichttelling and the SWV view count audit rows of an event in a period; the
    # index also holds what they filter on, so the table itself is only read for one gemeente ...
    op.create_index("ix_audit_events_report", "audit_events",
                    ["event", "at", "case_id", "from_state", "to_state"], unique=False)
    # ... and a gemeente's cases of a type by when they came in (and what runs on a date).
    op.create_index("ix_cases_report", "cases", ["gemeente_id", "type", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_report", table_name="cases")
    op.drop_index("ix_audit_events_report", table_name="audit_events")
