"""Records of the service's own tables: tenants, conversations, messages.

Small frozen dataclasses; timestamps are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from checkpoints.database import Row, utc_now

ConversationStatus = Literal["bot", "pending", "human", "closed"]
MessageDirection = Literal["inbound", "outbound"]
CONVERSATION_STATUSES: tuple[ConversationStatus, ...] = ("bot", "pending", "human", "closed")
MESSAGE_DIRECTIONS: tuple[MessageDirection, ...] = ("inbound", "outbound")


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class TenantRecord:
    """One tenant: a business the bot answers for."""

    id: str
    name: str
    company_name: str = ""
    persona: str = ""
    welcome_message: str = ""
    default_language: str = "es"
    handoff_message: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    """Free-form JSON settings (handoff rules, ...)."""
    enabled: bool = True
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    @classmethod
    def from_row(cls, row: Row) -> TenantRecord:
        return cls(
            id=row["id"],
            name=row["name"],
            company_name=row["company_name"],
            persona=row["persona"],
            welcome_message=row["welcome_message"],
            default_language=row["default_language"],
            handoff_message=row["handoff_message"],
            settings=json.loads(row["settings"]),
            enabled=bool(row["enabled"]),
            created_at=_aware(row["created_at"]),
            updated_at=_aware(row["updated_at"]),
        )


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """One conversation of a customer (tenant, channel, address); a LangGraph thread."""

    id: str
    tenant_id: str
    channel: str
    address: str
    status: ConversationStatus
    handoff_reasons: tuple[str, ...]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> ConversationRecord:
        return cls(
            id=row["id"],
            tenant_id=row["tenant_id"],
            channel=row["channel"],
            address=row["address"],
            status=row["status"],
            handoff_reasons=tuple(json.loads(row["handoff_reasons"])),
            created_at=_aware(row["created_at"]),
            updated_at=_aware(row["updated_at"]),
        )


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One message of a conversation, inbound (customer) or outbound (bot or agent)."""

    id: int
    tenant_id: str
    conversation_id: str
    direction: MessageDirection
    author: str
    """`customer`, `bot`, or an agent's name."""
    body: str
    status: str
    """`received`, `recorded`, `queued`, `sent`, `delivered`, `failed`, ..."""
    sources: tuple[str, ...]
    """Document ids an outbound reply was built from."""
    external_id: str | None
    """The channel's id (Twilio MessageSid); unique per tenant."""
    created_at: datetime
    turn_id: int | None = None
    """The queued turn that answered (inbound) or sent (outbound) it."""
    seq: int | None = None
    """Position of an outbound message among its turn's messages."""
    kind: str = "text"
    """`text`, `welcome`, `reply`, `media_notice`, `throttle_notice`, `failure_notice`."""
    media: tuple[str, ...] = ()
    """URLs of the media an inbound message carried."""
    error: str | None = None
    """Why sending it failed (`failed`), or why the last attempt did not (still unsent)."""
    send_attempts: int = 0
    """Delivery rounds that did not settle it (the outbox retries it with backoff)."""
    next_attempt_at: datetime | None = None
    """When the outbox tries an unsent message again (None: as soon as possible)."""

    @classmethod
    def from_row(cls, row: Row) -> MessageRecord:
        return cls(
            id=int(row["id"]),
            tenant_id=row["tenant_id"],
            conversation_id=row["conversation_id"],
            direction=row["direction"],
            author=row["author"],
            body=row["body"],
            status=row["status"],
            sources=tuple(json.loads(row["sources"])),
            external_id=row["external_id"],
            created_at=_aware(row["created_at"]),
            turn_id=row.get("turn_id"),
            seq=row.get("seq"),
            kind=row.get("kind") or "text",
            media=tuple(json.loads(row.get("media") or "[]")),
            error=row.get("error"),
            send_attempts=int(row.get("send_attempts") or 0),
            next_attempt_at=_aware(row["next_attempt_at"]) if row.get("next_attempt_at") else None,
        )


TurnStatus = Literal["running", "replied", "done"]


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One queued turn: a burst of inbound messages answered (or recorded) together.

    `running`: messages claimed, reply not recorded yet; `replied`: the outbound messages
    are recorded (some may still be unsent); `done`: everything sent or given up.
    """

    id: int
    tenant_id: str
    conversation_id: str
    status: TurnStatus
    attempts: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> TurnRecord:
        return cls(
            id=int(row["id"]),
            tenant_id=row["tenant_id"],
            conversation_id=row["conversation_id"],
            status=row["status"],
            attempts=int(row["attempts"]),
            created_at=_aware(row["created_at"]),
            updated_at=_aware(row["updated_at"]),
        )
