"""saved views: a user's named list filters, sort and columns, shareable within the dealer

Revision ID: b13f1d5a0001
Revises: b12a1b0e0001
Create Date: 2026-12-07 12:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b13f1d5a0001"
down_revision = "b12a1b0e0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("query", sa.String(length=2000), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "list_name", "name", name="uq_saved_view_user_list_name"),
    )
    with op.batch_alter_table("saved_view") as batch:
        batch.create_index(batch.f("ix_saved_view_dealer_id"), ["dealer_id"], unique=False)
        batch.create_index(batch.f("ix_saved_view_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("saved_view") as batch:
        batch.drop_index(batch.f("ix_saved_view_user_id"))
        batch.drop_index(batch.f("ix_saved_view_dealer_id"))
    op.drop_table("saved_view")
