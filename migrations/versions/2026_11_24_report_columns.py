"""report facts as columns, report indexes covering

Revision ID: 5d1e7c3a9b20
Revises: 0c5b7e2a9d41
Create Date: 2026-11-24 00:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '5d1e7c3a9b20'
down_revision = '0c5b7e2a9d41'
branch_labels = None
depends_on = None

# (column, type) as in models/case.py REPORT_FACTS; the values are copied from cases.data.
FACTS = (
    ("beeindigd_op", sa.Date()), ("reden_beeindiging", sa.String(32)),
    ("oorspronkelijke_soort", sa.String(16)), ("verzuimsoort", sa.String(32)),
    ("afsluiting", sa.String(32)), ("periode_start", sa.Date()), ("omgezet_op", sa.Date()),
    ("afgesloten_op", sa.Date()), ("tegen", sa.String(16)),
)
CASES_REPORT = ("gemeente_id", "type", "created_at", "state", "is_open", "child_id",
                "ingangsdatum", "einddatum", "beeindigd_op", "reden_beeindiging",
                "oorspronkelijke_soort", "verzuimsoort", "afsluiting", "periode_start",
                "omgezet_op", "afgesloten_op", "tegen", "id")


def upgrade() -> None:
    # Cold (nothing in the page cache), a leerplichttelling of a large gemeente read its case rows
    # one by one for a few JSON fields: 39 s with a million cases on SQLite. As columns in an
    # index that covers everything a report reads, it reads one stretch of the index.
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, type_ in FACTS:
        op.add_column("cases", sa.Column(name, type_, nullable=True))
    if postgresql:
        values = ", ".join(
            f"{name} = (data ->> '{name}')::{'date' if isinstance(type_, sa.Date) else 'text'}"
            for name, type_ in FACTS)
    else:  # SQLite keeps a Date as its JJJJ-MM-DD text, as it is in data
        values = ", ".join(f"{name} = json_extract(data, '$.{name}')" for name, _ in FACTS)
    op.execute(f"UPDATE cases SET {values}")
    op.drop_index("ix_cases_report", table_name="cases")
    op.create_index("ix_cases_report", "cases", list(CASES_REPORT), unique=False)
    # Plain DROP/CREATE INDEX (no batch copy): audit_events keeps its append-only triggers.
    op.drop_index("ix_audit_events_report", table_name="audit_events")
    op.create_index("ix_audit_events_report", "audit_events",
                    ["event", "at", "case_id", "from_state", "to_state", "seq"], unique=False)
    # A dropped index takes its planner statistics along: gather them again.
    op.execute("ANALYZE cases")
    op.execute("ANALYZE audit_events")


def downgrade() -> None:
    op.drop_index("ix_audit_events_report", table_name="audit_events")
    op.create_index("ix_audit_events_report", "audit_events",
                    ["event", "at", "case_id", "from_state", "to_state"], unique=False)
    op.drop_index("ix_cases_report", table_name="cases")
    op.create_index("ix_cases_report", "cases", ["gemeente_id", "type", "created_at"], unique=False)
    for name, _ in reversed(FACTS):  # plain DROP COLUMN: a batch copy would lose the FTS triggers
        op.drop_column("cases", name)
