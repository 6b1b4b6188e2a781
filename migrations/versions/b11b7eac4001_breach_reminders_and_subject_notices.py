"""breach reminders (Art. 33(1)) and notices to the people affected (Art. 34)

Revision ID: b11b7eac4001
Revises: b11dec1a0001
Create Date: 2026-12-07 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b11b7eac4001"
down_revision = "b11dec1a0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "breach_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("breach_id", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.String(length=20), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["breach_id"], ["breach.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("breach_id", "threshold", "deadline"),
    )
    op.create_index(op.f("ix_breach_reminder_breach_id"), "breach_reminder", ["breach_id"], unique=False)
    op.create_table(
        "breach_subject_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("breach_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("dealer_ids", sa.String(length=500), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("nature", sa.Text(), nullable=False),
        sa.Column("likely_consequences", sa.Text(), nullable=False),
        sa.Column("measures_taken", sa.Text(), nullable=False),
        sa.Column("contact_point", sa.String(length=300), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["breach_id"], ["breach.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sent_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index(op.f("ix_breach_subject_notice_breach_id"), "breach_subject_notice", ["breach_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_breach_subject_notice_breach_id"), table_name="breach_subject_notice")
    op.drop_table("breach_subject_notice")
    op.drop_index(op.f("ix_breach_reminder_breach_id"), table_name="breach_reminder")
    op.drop_table("breach_reminder")
