"""usage log restriction and objection: restricted page views, a user's usage log stopped

Revision ID: b11e5771c7ed
Revises: b11b7eac4001
Create Date: 2026-12-07 07:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b11e5771c7ed"
down_revision = "b11b7eac4001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("page_view") as batch:
        batch.add_column(sa.Column("restricted_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_page_view_restricted_at"), ["restricted_at"], unique=False)
    with op.batch_alter_table("ab_user") as batch:
        batch.add_column(sa.Column("usage_restricted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("usage_objected_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("ab_user") as batch:
        batch.drop_column("usage_objected_at")
        batch.drop_column("usage_restricted_at")
    with op.batch_alter_table("page_view") as batch:
        batch.drop_index(batch.f("ix_page_view_restricted_at"))
        batch.drop_column("restricted_at")
