"""school holidays per region and per school; organisations.vakantieregio

Revision ID: 6a1f0c2d4e71
Revises: 5d1e7c3a9b20
Create Date: 2026-12-03 00:00:00.000000
"""
import csv
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from alembic import op


revision = '6a1f0c2d4e71'
down_revision = '5d1e7c3a9b20'
branch_labels = None
depends_on = None

# The shipped national advice (casework/data/schoolvakanties.csv), as it was when this migration
# was written; later changes are the beheerder's, on the page.
DATA = Path(__file__).resolve().parents[2] / "casework" / "data" / "schoolvakanties.csv"
REGIOS = "('noord', 'midden', 'zuid')"


def _rows() -> list[dict]:
    with DATA.open(encoding="utf-8") as f:
        lines = [line for line in f if line.strip() and not line.lstrip().startswith("#")]
    return [{"schooljaar": r["schooljaar"], "naam": r["naam"], "regio": r["regio"],
             "begin": date.fromisoformat(r["begin"]), "eind": date.fromisoformat(r["eind"])}
            for r in csv.DictReader(lines)]


def upgrade() -> None:
    # Plain ADD COLUMN with its CHECK (no batch copy): organisations is referenced by every table.
    op.execute("ALTER TABLE organisations ADD COLUMN vakantieregio VARCHAR(8) "
               f"CONSTRAINT ck_organisations_vakantieregio CHECK (vakantieregio IN {REGIOS})")
    table = op.create_table(
        "schoolvakanties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schooljaar", sa.String(length=9), nullable=False),
        sa.Column("naam", sa.String(length=60), nullable=False),
        sa.Column("regio", sa.String(length=8), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("begin", sa.Date(), nullable=False),
        sa.Column("eind", sa.Date(), nullable=False),
        sa.CheckConstraint("eind >= begin", name=op.f("ck_schoolvakanties_eind_na_begin")),
        sa.CheckConstraint(f"regio IN {REGIOS}", name=op.f("ck_schoolvakanties_regio")),
        sa.CheckConstraint("(regio IS NULL) <> (school_id IS NULL)",
                           name=op.f("ck_schoolvakanties_regio_of_school")),
        sa.ForeignKeyConstraint(["school_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_schoolvakanties_school_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schoolvakanties")),
    )
    op.create_index("ix_schoolvakanties_school_id", "schoolvakanties", ["school_id"], unique=False)
    op.create_index("ix_schoolvakanties_periode", "schoolvakanties", ["eind", "begin"], unique=False)
    op.bulk_insert(table, _rows())


def downgrade() -> None:
    op.drop_index("ix_schoolvakanties_periode", table_name="schoolvakanties")
    op.drop_index("ix_schoolvakanties_school_id", table_name="schoolvakanties")
    op.drop_table("schoolvakanties")
    # Plain DROP COLUMN (SQLite 3.35+): its own CHECK goes with it.
    op.execute("ALTER TABLE organisations DROP COLUMN vakantieregio")
