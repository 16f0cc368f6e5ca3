"""The records every layer shares."""

from shequn.model.records import (
    AccountRef,
    Community,
    MembershipEvent,
    Message,
    Reaction,
    Record,
)

__all__ = ["AccountRef", "Community", "MembershipEvent", "Message", "Reaction", "Record"]
