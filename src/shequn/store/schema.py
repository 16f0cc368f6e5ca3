"""The tables. SQLite (embedded default) and PostgreSQL share one definition.

Times are UTC: `timestamptz` on PostgreSQL; on SQLite naive UTC text in SQLAlchemy's
DATETIME format ("YYYY-MM-DD HH:MM:SS.ffffff"), read back as aware UTC by `UTCDateTime`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite has no 64-bit autoincrement type distinct from INTEGER PRIMARY KEY (the rowid).
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; convert to UTC first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL on SQLite
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _created() -> Column[Any]:
    return Column("created_at", UTCDateTime, nullable=False, default=lambda: datetime.now(UTC))


community = Table(
    "community",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("platform_id", String(255), nullable=False),
    Column("name", Text, nullable=False),
    Column("chat_type", String(64)),
    Column("kind", String(32)),  # interest / brand / knowledge / product / learning
    Column("theme", Text),
    Column("keywords", Text),  # JSON array of strings
    Column("rules", Text),
    Column("timezone", String(64)),
    _created(),
    # minutes a question waits for an answer before it counts as unanswered (None: the default)
    Column("answer_window", Integer),
    UniqueConstraint("platform", "platform_id"),
)

person = Table(
    "person",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("display_name", Text),
    Column("notes", Text),
    _created(),
)

account = Table(
    "account",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("platform_id", String(255), nullable=False),
    Column("person_id", Id, ForeignKey("person.id"), nullable=False, index=True),
    Column("display_name", Text),
    Column("username", Text),
    Column("is_bot", Boolean, nullable=False, default=False),
    Column("name_only", Boolean, nullable=False, default=False),  # known only by a display name
    _created(),
    UniqueConstraint("platform", "platform_id"),
)

account_name = Table(
    "account_name",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("first_seen", UTCDateTime),
    Column("last_seen", UTCDateTime),
    UniqueConstraint("account_id", "name"),
)

import_run = Table(
    "import_run",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("format", String(64)),
    Column("file_hash", String(64)),
    Column("timezone", String(64)),
    Column("status", String(16), nullable=False),  # running / ok / failed
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("duration_s", Float),
    Column("counts", Text),  # JSON object
    Column("error", Text),
)

membership_event = Table(
    "membership_event",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("community.id"), nullable=False),
    Column("account_id", Id, ForeignKey("account.id"), nullable=False),
    Column("action", String(16), nullable=False),  # join / leave / remove
    Column("at", UTCDateTime, nullable=False),
    Column("actor_account_id", Id, ForeignKey("account.id")),
    Column("source", String(16), nullable=False, default="unknown"),
    Column("platform_msg_id", String(255)),
    Column("import_run_id", Id, ForeignKey("import_run.id")),
    UniqueConstraint("community_id", "account_id", "action", "at"),
)

membership = Table(
    "membership",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("community.id"), nullable=False),
    Column("account_id", Id, ForeignKey("account.id"), nullable=False),
    Column("joined_at", UTCDateTime),  # None: already a member when the history starts
    Column("left_at", UTCDateTime),
    Column("left_reason", String(16)),  # leave (voluntary) / remove
    Column("inviter_account_id", Id, ForeignKey("account.id")),
    Column("join_source", String(16)),
    Column("role", String(16), nullable=False, default="member"),
    Index(None, "community_id", "account_id"),
    Index(None, "account_id"),
)

message = Table(
    "message",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("community.id"), nullable=False),
    Column("platform_msg_id", String(255), nullable=False),
    Column("account_id", Id, ForeignKey("account.id")),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("reply_to", String(255)),  # platform_msg_id in the same community
    Column("thread_id", String(255)),
    Column("mentions", Text),  # JSON array of account platform ids (or names)
    Column("links", Text),  # JSON array of URLs
    Column("edited_at", UTCDateTime),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("forwarded", Boolean, nullable=False, default=False),
    Column("import_run_id", Id, ForeignKey("import_run.id")),
    UniqueConstraint("community_id", "platform_msg_id"),
    Index(None, "community_id", "sent_at"),
    Index(None, "account_id", "sent_at"),
    Index(None, "community_id", "reply_to"),  # replies to a question (migration 0003)
)

reaction = Table(
    "reaction",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("community.id"), nullable=False),
    Column("platform_msg_id", String(255), nullable=False),
    Column("account_id", Id, ForeignKey("account.id")),
    Column("reactor_key", String(64), nullable=False),  # str(account_id), or "" for counts only
    Column("emoji", String(255), nullable=False),
    Column("count", Integer, nullable=False, default=1),
    Column("reacted_at", UTCDateTime),
    UniqueConstraint("community_id", "platform_msg_id", "reactor_key", "emoji"),
)

search_state = Table(
    "search_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("last_message_id", BigInteger, nullable=False, default=0),
)

# The operator's own product data per person (R2, R4), from `shequn import-attributes`.
product_attribute = Table(
    "product_attribute",
    metadata,
    Column("person_id", Id, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("usage_frequency", Float),  # uses per week, as the operator counts them
    Column("usage_minutes", Float),  # minutes of use per week
    Column("payments", Float),  # amount paid, in the operator's currency
    Column("orders", Integer),  # number of orders
    Column("updated_at", UTCDateTime, nullable=False),
    Column("source", Text),
)

# Fixed discussion times of a group (R14), in the group's own zone.
discussion_window = Table(
    "discussion_window",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("community.id", ondelete="CASCADE"), nullable=False),
    Column("weekdays", String(32), nullable=False),  # "0,1,2,3,4": Monday is 0
    Column("start_minute", Integer, nullable=False),  # minutes after local midnight
    Column("end_minute", Integer, nullable=False),
    UniqueConstraint("community_id", "weekdays", "start_minute"),
)

# ---------------------------------------------------------------------------------------------
# The operator's workspace (web, inbox, accounts): migration 0003.

# Users of the workspace. role: admin / operator (all groups) / leader (assigned groups) / viewer.
app_user = Table(
    "app_user",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", Text),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("lang", String(8), nullable=False, default="zh"),
    Column("timezone", String(64)),  # None: the store's default zone
    Column("disabled", Boolean, nullable=False, default=False),
    _created(),
    Column("last_login_at", UTCDateTime),
)

# The groups a leader may see (other roles ignore it).
user_group = Table(
    "user_group",
    metadata,
    Column("user_id", Id, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", Id, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True),
)

# Browser sessions: the cookie holds a random token, the store only its SHA-256.
user_session = Table(
    "user_session",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    _created(),
    Column("expires_at", UTCDateTime, nullable=False),
)

# API tokens for scripts, stored hashed; shown once when made.
api_token = Table(
    "api_token",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # first characters, to tell tokens apart
    _created(),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

# One-time links that let the first admin set a password (no default password exists).
setup_token = Table(
    "setup_token",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    _created(),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

# Per-message results of the text rules, computed once after import (incremental enrichment).
message_label = Table(
    "message_label",
    metadata,
    Column("message_id", Id, ForeignKey("message.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", Id, nullable=False),
    Column("is_question", Boolean, nullable=False, default=False),
    Column("feedback", String(16)),  # defect / feature / complaint / praise
    Column("feedback_confidence", Float),
    Column("offtopic", String(32)),  # reason code, None when on topic
    Column("theme_score", Float),
    Column("is_intro", Boolean, nullable=False, default=False),
    Column("is_checkin", Boolean, nullable=False, default=False),
    Index(None, "community_id", "is_question"),
    Index(None, "community_id", "feedback"),
)

# Roles that do not come from join/leave events: seen in an export (QQ 【群主】/【管理员】,
# Slack owners and admins) or set by the operator (`source` "import" / "operator"; the
# operator's word wins). Membership spells are rebuilt from events and take the role from here.
member_role = Table(
    "member_role",
    metadata,
    Column("community_id", Id, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", Id, ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),  # owner / admin / operator / member
    Column("source", String(16), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False, default=lambda: datetime.now(UTC)),
)

# Who each message @mentions, resolved to accounts once after import (the text `mentions`
# holds platform ids or names); the KOL graph reads it.
message_mention = Table(
    "message_mention",
    metadata,
    Column("message_id", Id, ForeignKey("message.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", Id, ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", Id, nullable=False),
    Index(None, "community_id"),
)

# The inbox: one task per situation (kind + key), never made twice; it closes itself when the
# situation resolves. status: open / snoozed / done / dismissed / resolved.
task = Table(
    "task",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("key", String(255), nullable=False),
    Column("community_id", Id, ForeignKey("community.id", ondelete="CASCADE")),
    Column("person_id", Id, ForeignKey("person.id", ondelete="SET NULL")),
    Column("account_id", Id, ForeignKey("account.id", ondelete="SET NULL")),
    Column("message_id", Id, ForeignKey("message.id", ondelete="SET NULL")),
    Column("detail", Text),  # JSON: what the task shows (names, dates, reason), no secrets
    Column("status", String(16), nullable=False, default="open"),
    Column("snoozed_until", UTCDateTime),
    Column("assignee_id", Id, ForeignKey("app_user.id", ondelete="SET NULL")),
    _created(),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    UniqueConstraint("kind", "key"),
    Index(None, "status", "community_id"),
)

# What happened to a task and who did it: created, assigned, done, snoozed, dismissed, reopened,
# resolved (by the data), read (a feedback item opened).
task_event = Table(
    "task_event",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("task_id", Id, ForeignKey("task.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("user_id", Id, ForeignKey("app_user.id", ondelete="SET NULL")),
    Column("action", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("detail", Text),
)

# Operators' tags and private notes on a person.
person_tag = Table(
    "person_tag",
    metadata,
    Column("person_id", Id, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(64), primary_key=True),
    Column("created_by", Id, ForeignKey("app_user.id", ondelete="SET NULL")),
    _created(),
)

person_note = Table(
    "person_note",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", Id, ForeignKey("person.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Id, ForeignKey("app_user.id", ondelete="SET NULL")),
    Column("text", Text, nullable=False),
    _created(),
    Column("updated_at", UTCDateTime),
    Index(None, "person_id"),
)
