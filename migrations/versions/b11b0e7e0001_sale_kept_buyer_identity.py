"""sale: the buyer's name and address, kept with a sale kept for accounting

Revision ID: b11b0e7e0001
Revises: a10c0ffee001
Create Date: 2026-12-07 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b11b0e7e0001"
down_revision = "b11e5771c7ed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sale") as batch:
        batch.add_column(sa.Column("buyer_name", sa.String(length=201), nullable=True))
        batch.add_column(sa.Column("buyer_address", sa.String(length=600), nullable=True))


def downgrade():
    with op.batch_alter_table("sale") as batch:
        batch.drop_column("buyer_address")
        batch.drop_column("buyer_name")
