"""verzuim

Revision ID: 6033e3355b23
Revises: 8406c231b08c
Create Date: 2026-11-23 17:30:03.941802
"""
from alembic import op
import sqlalchemy as sa


revision = '6033e3355b23'
down_revision = '8406c231b08c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTERs (no batch copy): audit_events keeps its append-only triggers, and no table
    # that other tables reference is rebuilt.
    op.add_column("audit_events", sa.Column("details", sa.JSON(none_as_null=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE cases ADD COLUMN school_id INTEGER "
                   "CONSTRAINT fk_cases_school_id_organisations REFERENCES organisations (id)")
    else:
        op.add_column("cases", sa.Column("school_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_cases_school_id_organisations", "cases", "organisations",
                              ["school_id"], ["id"])
    op.drop_index("uq_cases_open_per_child", table_name="cases")
    op.create_index("ix_cases_school", "cases", ["school_id", "type"], unique=False)
    op.create_index(
        "uq_cases_open_vrijstelling_per_child", "cases", ["child_id"], unique=True,
        sqlite_where=sa.text("is_open = 1 AND type = 'vrijstelling_5a'"),
        postgresql_where=sa.text("is_open AND type = 'vrijstelling_5a'"))


def downgrade() -> None:
    op.drop_index("uq_cases_open_vrijstelling_per_child", table_name="cases")
    op.drop_index("ix_cases_school", table_name="cases")
    op.create_index("uq_cases_open_per_child", "cases", ["child_id", "type"], unique=True,
                    sqlite_where=sa.text("is_open = 1"), postgresql_where=sa.text("is_open"))
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("school_id")
    op.drop_column("audit_events", "details")
