"""inquiry: when the dealer's users first saw it, and the public form's one-time token

Revision ID: b13a1e5f0001
Revises: b13f1d5a0001
Create Date: 2026-12-07 12:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b13a1e5f0001"
down_revision = "b13f1d5a0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inquiry") as batch:
        batch.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("form_token", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_inquiry_dealer_form_token", ["dealer_id", "form_token"])
    # Inquiries received before this change count as seen: no badge for old mail.
    op.execute(sa.text("UPDATE inquiry SET seen_at = received_at"))


def downgrade():
    with op.batch_alter_table("inquiry") as batch:
        batch.drop_constraint("uq_inquiry_dealer_form_token", type_="unique")
        batch.drop_column("form_token")
        batch.drop_column("seen_at")
