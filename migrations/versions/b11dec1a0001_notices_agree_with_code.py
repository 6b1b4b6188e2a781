"""notices agree with the code: the referring site's origin in the usage log; a
sub-processor's category, country, data processing agreement and transfer safeguard

Revision ID: b11dec1a0001
Revises: a10c0ffee001
Create Date: 2026-12-07 07:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b11dec1a0001"
down_revision = "a10c0ffee001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("page_view") as batch:
        batch.add_column(sa.Column("referrer_origin", sa.String(length=300), nullable=True))
    with op.batch_alter_table("sub_processor") as batch:
        batch.add_column(
            sa.Column(
                "category",
                sa.Enum("hosting", "mail", "backup", "other", name="subprocessorcategory", native_enum=False, length=20),
                nullable=False,
                server_default="other",
            )
        )
        batch.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("dpa_signed_on", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column(
                "transfer_safeguard",
                sa.Enum("adequacy", "scc", "bcr", name="transfersafeguard", native_enum=False, length=20),
                nullable=True,
            )
        )


def downgrade():
    with op.batch_alter_table("sub_processor") as batch:
        batch.drop_column("transfer_safeguard")
        batch.drop_column("dpa_signed_on")
        batch.drop_column("country")
        batch.drop_column("category")
    with op.batch_alter_table("page_view") as batch:
        batch.drop_column("referrer_origin")
