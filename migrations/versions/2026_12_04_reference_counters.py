"""reference counters: case numbers per prefix and year without gaps (reference_counters)

Revision ID: 87da74dddbbb
Revises: 9a41c7e05d2b
Create Date: 2026-12-04 06:30:00.000000

Until now a reference was PREFIX-YYYY-<case id>, and PostgreSQL never gives a sequence value
back: a DUO dry run, a step refused after the case was flushed or a lost race left a gap in
the numbers. From here on the number comes from reference_counters, in the transaction of the
case itself (services/references.py).

The counters start at the highest number already given per prefix and year, so new references
continue after the existing ones and never repeat one. Only references of the shape the app
makes (PREFIX-YYYY-NNNNN) count; others (such as the generator's SYN-VZ-2025-0001234) are left
alone.

Downgrade: drops the table; references then come from the case id again.
"""
import re

import sqlalchemy as sa
from alembic import op


revision = '87da74dddbbb'
down_revision = '9a41c7e05d2b'
branch_labels = None
depends_on = None

REFERENCE = re.compile(r"([A-Z0-9]{1,16})-([0-9]{4})-([0-9]{1,9})")

cases = sa.table("cases", sa.column("reference", sa.String))


def upgrade() -> None:
    counters = op.create_table(
        'reference_counters',
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.CheckConstraint('last >= 0', name=op.f('ck_reference_counters_last_niet_negatief')),
        sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_reference_counters')),
    )
    highest: dict[tuple[str, int], int] = {}
    result = op.get_bind().execute(sa.select(cases.c.reference).where(cases.c.reference.is_not(None)))
    for (reference,) in result:
        match = REFERENCE.fullmatch(reference)
        if match:
            key = (match[1], int(match[2]))
            highest[key] = max(highest.get(key, 0), int(match[3]))
    if highest:
        op.bulk_insert(counters, [{"prefix": prefix, "year": year, "last": last}
                                  for (prefix, year), last in sorted(highest.items())])


def downgrade() -> None:
    op.drop_table('reference_counters')
