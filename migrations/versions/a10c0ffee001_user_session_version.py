"""user session version: ends every other session and token of a user

Revision ID: a10c0ffee001
Revises: a3c51f0e9d42
Create Date: 2026-12-07 04:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a10c0ffee001"
down_revision = "a3c51f0e9d42"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ab_user") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default=sa.text("0")))


def downgrade():
    with op.batch_alter_table("ab_user") as batch:
        batch.drop_column("session_version")
