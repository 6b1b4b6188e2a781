"""car_photo: the stored variants (large, thumbnail), their size and the upload's hash

Revision ID: c12f0a0e0001
Revises: b11b0e7e0001
Create Date: 2026-12-07 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c12f0a0e0001"
down_revision = "b11b0e7e0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("car_photo") as batch:
        batch.add_column(sa.Column("thumb_path", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("width", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("height", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("byte_size", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("content_sha256", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("car_photo") as batch:
        batch.drop_column("content_sha256")
        batch.drop_column("byte_size")
        batch.drop_column("height")
        batch.drop_column("width")
        batch.drop_column("thumb_path")
