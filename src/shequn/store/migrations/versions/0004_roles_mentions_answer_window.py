"""member roles, resolved @mentions, a per-group answer window

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 01:23:00.123520
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shequn.store.schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "member_role",
        sa.Column("community_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", shequn.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_member_role_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_member_role_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("community_id", "account_id", name=op.f("pk_member_role")),
    )
    op.create_table(
        "message_mention",
        sa.Column("message_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("community_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_message_mention_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_message_mention_message_id_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "account_id", name=op.f("pk_message_mention")),
    )
    with op.batch_alter_table("message_mention", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_mention_community_id"), ["community_id"], unique=False
        )
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer_window", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.drop_column("answer_window")
    with op.batch_alter_table("message_mention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_mention_community_id"))
    op.drop_table("message_mention")
    op.drop_table("member_role")
