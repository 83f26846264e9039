"""the voorjaars- and zomervakantie of school year 2026-2027 for databases migrated before they shipped

Revision ID: 8c3f2a4b6d93
Revises: 7b2e1d3f5a82
Create Date: 2026-12-03 18:00:00.000000
"""
from datetime import date

import sqlalchemy as sa
from alembic import op


revision = '8c3f2a4b6d93'
down_revision = '7b2e1d3f5a82'
branch_labels = None
depends_on = None

# The national advice (Rijksoverheid, schoolvakanties 2026-2027), as casework/data/schoolvakanties.csv
# ships it. A region that already has this holiday (a fresh database loads it from the file, or the
# beheerder entered it) keeps what it has.
ROWS = [
    ("voorjaar", "noord", date(2027, 2, 20), date(2027, 2, 28)),
    ("voorjaar", "midden", date(2027, 2, 20), date(2027, 2, 28)),
    ("voorjaar", "zuid", date(2027, 2, 13), date(2027, 2, 21)),
    ("zomer", "noord", date(2027, 7, 10), date(2027, 8, 22)),
    ("zomer", "midden", date(2027, 7, 17), date(2027, 8, 29)),
    ("zomer", "zuid", date(2027, 7, 24), date(2027, 9, 5)),
]
SCHOOLJAAR = "2026-2027"

vakanties = sa.table("schoolvakanties", sa.column("schooljaar", sa.String), sa.column("naam", sa.String),
                     sa.column("regio", sa.String), sa.column("school_id", sa.Integer),
                     sa.column("begin", sa.Date), sa.column("eind", sa.Date))


def upgrade() -> None:
    conn = op.get_bind()
    present = {(r.naam, r.regio) for r in conn.execute(
        sa.select(vakanties.c.naam, vakanties.c.regio)
        .where(vakanties.c.schooljaar == SCHOOLJAAR, vakanties.c.regio.is_not(None)))}
    missing = [{"schooljaar": SCHOOLJAAR, "naam": naam, "regio": regio, "begin": begin, "eind": eind}
               for naam, regio, begin, eind in ROWS if (naam, regio) not in present]
    if missing:
        op.bulk_insert(vakanties, missing)


def downgrade() -> None:
    # The rows are data the earlier revisions can hold too (the beheerder may have entered them):
    # a downgrade keeps them.
    pass
