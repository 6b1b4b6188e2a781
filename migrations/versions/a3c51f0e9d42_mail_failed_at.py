"""mail outbox: failed_at, when sending was given up after the last retry

Revision ID: a3c51f0e9d42
Revises: 7e33dadbe6be
Create Date: 2026-12-14 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a3c51f0e9d42"
down_revision = "7e33dadbe6be"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_mail_message_failed_at"), ["failed_at"], unique=False)


def downgrade():
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_message_failed_at"))
        batch_op.drop_column("failed_at")
