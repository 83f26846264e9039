"""renewal: cases.vorige_case_id; one open not-yet-running vrijstelling case per child

Revision ID: 7b2e1d3f5a82
Revises: 6a1f0c2d4e71
Create Date: 2026-12-03 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '7b2e1d3f5a82'
down_revision = '6a1f0c2d4e71'
branch_labels = None
depends_on = None

OLD_WHERE = {"sqlite": "is_open = 1 AND type = 'vrijstelling_5a'",
             "postgresql": "is_open AND type = 'vrijstelling_5a'"}
# A running exemption (it has a period) no longer blocks the renewal kennisgeving.
NEW_WHERE = {k: v + " AND ingangsdatum IS NULL" for k, v in OLD_WHERE.items()}


def _index(where: dict) -> None:
    op.create_index("uq_cases_open_vrijstelling_per_child", "cases", ["child_id"], unique=True,
                    sqlite_where=sa.text(where["sqlite"]),
                    postgresql_where=sa.text(where["postgresql"]))


def upgrade() -> None:
    # Plain ALTER (no batch copy): cases is referenced by audit_events, letters and more.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE cases ADD COLUMN vorige_case_id INTEGER "
                   "CONSTRAINT fk_cases_vorige_case_id_cases REFERENCES cases (id)")
    else:
        op.add_column("cases", sa.Column("vorige_case_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_cases_vorige_case_id_cases", "cases", "cases",
                              ["vorige_case_id"], ["id"])
    op.create_index("ix_cases_vorige_case_id", "cases", ["vorige_case_id"])
    op.drop_index("uq_cases_open_vrijstelling_per_child", table_name="cases")
    _index(NEW_WHERE)


def downgrade() -> None:
    op.drop_index("uq_cases_open_vrijstelling_per_child", table_name="cases")
    _index(OLD_WHERE)
    op.drop_index("ix_cases_vorige_case_id", table_name="cases")
    if op.get_bind().dialect.name == "sqlite":  # no batch copy: it would lose the search triggers
        op.execute("ALTER TABLE cases DROP COLUMN vorige_case_id")
    else:
        op.drop_constraint("fk_cases_vorige_case_id_cases", "cases", type_="foreignkey")
        op.drop_column("cases", "vorige_case_id")
