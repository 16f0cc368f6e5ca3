"""analytics inputs: product attributes per person, discussion windows per group

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shequn.store.schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "product_attribute",
        sa.Column("person_id", Id, nullable=False),
        sa.Column("usage_frequency", sa.Float(), nullable=True),
        sa.Column("usage_minutes", sa.Float(), nullable=True),
        sa.Column("payments", sa.Float(), nullable=True),
        sa.Column("orders", sa.Integer(), nullable=True),
        sa.Column("updated_at", shequn.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_product_attribute_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_product_attribute")),
    )
    op.create_table(
        "discussion_window",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("community_id", Id, nullable=False),
        sa.Column("weekdays", sa.String(length=32), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_discussion_window_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discussion_window")),
        sa.UniqueConstraint(
            "community_id",
            "weekdays",
            "start_minute",
            name=op.f("uq_discussion_window_community_id_weekdays_start_minute"),
        ),
    )


def downgrade() -> None:
    op.drop_table("discussion_window")
    op.drop_table("product_attribute")
