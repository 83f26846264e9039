"""search index upkeep: trigram indexes without a pending list, and no second reference index

Revision ID: 4e8a2c6f1b93
Revises: 9b3e6f2c1d85
Create Date: 2026-12-06 09:00:00.000000

PostgreSQL only (SQLite's FTS5 tables have no such thing):

- The GIN trigram indexes no longer collect new entries in a pending list (`fastupdate = off`).
  Every step on a case writes a new row version, and so new entries in these indexes. With a
  pending list, every search read the whole list (3,720 entries after 1,240 steps: a reference
  search at a million cases 39 instead of 34 ms), until a vacuum or the step that found the list
  full (4 MB) moved it into the index, a pause of its own. Without it each step adds its entries
  to the index at once: steady, a few tenths of a millisecond of the database's time per step.
- `ix_cases_reference_trgm` (the reference alone) goes: `ix_cases_reference_scope_trgm` (the
  gemeente and the reference, since 2026_12_05_search_scope) serves a search without a gemeente
  as well, and each step no longer writes a third set of trigram entries (93 MB at a million
  cases).
"""
from alembic import op


revision = '4e8a2c6f1b93'
down_revision = '9b3e6f2c1d85'
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = ("ix_cases_reference_scope_trgm", "ix_cases_naam_trgm", "ix_children_naam_trgm")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_cases_reference_trgm")
    for name in TRIGRAM_INDEXES:
        op.execute(f"ALTER INDEX {name} SET (fastupdate = off)")
        # What the pending list already holds goes into the index now.
        op.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        op.execute(f"ALTER INDEX {name} RESET (fastupdate)")
    op.execute("CREATE INDEX ix_cases_reference_trgm ON cases USING gin (lower(reference) gin_trgm_ops)")
