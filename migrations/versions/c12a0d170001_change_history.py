"""change_history: who changed which field of a dealer's record, from what to what, when

Revision ID: c12a0d170001
Revises: c12f0a0e0001
Create Date: 2026-12-07 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c12a0d170001"
down_revision = "c12f0a0e0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "change_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=60), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=20), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["changed_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,  # ids never reused: the deletion ledger names rows by id
    )
    with op.batch_alter_table("change_history") as batch:
        batch.create_index("ix_change_history_record", ["table_name", "row_id"], unique=False)
        batch.create_index(batch.f("ix_change_history_dealer_id"), ["dealer_id"], unique=False)
        batch.create_index(batch.f("ix_change_history_changed_by_id"), ["changed_by_id"], unique=False)
        batch.create_index(batch.f("ix_change_history_changed_at"), ["changed_at"], unique=False)


def downgrade():
    with op.batch_alter_table("change_history") as batch:
        batch.drop_index(batch.f("ix_change_history_changed_at"))
        batch.drop_index(batch.f("ix_change_history_changed_by_id"))
        batch.drop_index(batch.f("ix_change_history_dealer_id"))
        batch.drop_index("ix_change_history_record")
    op.drop_table("change_history")
