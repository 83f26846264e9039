"""SWV advice rounds: a random id per round where the SWV must not tie it to an earlier one

Revision ID: 7d2e4a9c1b63
Revises: 0f8c3bcf4e25
Create Date: 2026-12-04 06:40:00.000000

`cases.swv_rondes` keeps the advice rounds (which SWV, with or without toestemming, the round's
id); `cases.swv_ronde_id` is the id under which the SWV of the current round sees the case when
that SWV was asked before with the other consent. Both are empty for existing cases: their next
round starts from the case's current SWV and consent.
"""
import sqlalchemy as sa
from alembic import op


revision = '7d2e4a9c1b63'
down_revision = '0f8c3bcf4e25'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("swv_rondes", sa.JSON(none_as_null=True), nullable=True))
    op.add_column("cases", sa.Column("swv_ronde_id", sa.Integer(), nullable=True))
    op.create_index("uq_cases_swv_ronde_id", "cases", ["swv_ronde_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_cases_swv_ronde_id", table_name="cases")
    op.drop_column("cases", "swv_ronde_id")  # SQLite 3.35+: a plain ALTER TABLE DROP COLUMN
    op.drop_column("cases", "swv_rondes")
