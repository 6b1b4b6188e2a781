"""import_batch and import_row: an uploaded spreadsheet checked before it is applied

Revision ID: b12a1b0e0001
Revises: c12a0d170001
Create Date: 2026-12-07 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b12a1b0e0001"
down_revision = "c12a0d170001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("car", "client", name="importkind", native_enum=False, length=10), nullable=False),
        sa.Column(
            "status",
            sa.Enum("preview", "queued", "applied", "failed", name="importstatus", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("file_format", sa.String(length=4), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("to_create", sa.Integer(), nullable=False),
        sa.Column("to_update", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("with_errors", sa.Integer(), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("import_batch") as batch:
        batch.create_index(batch.f("ix_import_batch_dealer_id"), ["dealer_id"], unique=False)
    op.create_table(
        "import_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("import_row") as batch:
        batch.create_index(batch.f("ix_import_row_batch_id"), ["batch_id"], unique=False)
        batch.create_index(batch.f("ix_import_row_dealer_id"), ["dealer_id"], unique=False)
        batch.create_index(batch.f("ix_import_row_email"), ["email"], unique=False)
        batch.create_index(batch.f("ix_import_row_phone"), ["phone"], unique=False)


def downgrade():
    op.drop_table("import_row")
    op.drop_table("import_batch")
