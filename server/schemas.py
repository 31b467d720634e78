"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from tools.business_hours import BusinessHours

TenantId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
WHATSAPP_NUMBER = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_MESSAGE_CHARS = 4096
MAX_DOCUMENT_CHARS = 1_000_000


class BusinessHoursIn(BaseModel):
    """When the tenant's people answer: `{"timezone", "schedule", "holidays"}`."""

    model_config = ConfigDict(extra="forbid")
    timezone: str = Field(default="UTC", max_length=64, examples=["America/Mexico_City"])
    schedule: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=list, max_length=50, examples=[["mon-fri 09:00-18:00", "sat 10:00-14:00"]]
    )
    holidays: list[Annotated[str, StringConstraints(max_length=10)]] = Field(
        default_factory=list, max_length=400, examples=[["2025-12-25"]]
    )

    @model_validator(mode="after")
    def _readable(self) -> BusinessHoursIn:
        BusinessHours(self.timezone, tuple(self.schedule), tuple(self.holidays)).validate()
        return self


class HandoffRulesIn(BaseModel):
    """Per-tenant overrides of the four handoff triggers."""

    model_config = ConfigDict(extra="forbid")
    sentiment_threshold: float | None = Field(default=None, ge=-1, le=1)
    keywords: list[str] | None = None
    max_fallbacks: int | None = Field(default=None, ge=0, le=20)
    loop_similarity: float | None = Field(default=None, gt=0, le=1)
    business_hours: BusinessHoursIn | None = None
    sentiment_provider: Literal["offline", "comprehend"] | None = None
    webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2000)
    """Where handoff events are POSTed (signed with `webhook_secret`)."""
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=200)
    reminder_minutes: float | None = Field(default=None, ge=0, le=10080)
    """Remind the agents after this long without agent activity (0: never)."""
    release_minutes: float | None = Field(default=None, ge=0, le=10080)
    """Give the conversation back to the bot after this long without agent activity (0: never)."""

    @model_validator(mode="after")
    def _signed_webhook(self) -> HandoffRulesIn:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("webhook_url needs a webhook_secret (at least 16 characters)")
        return self


class WhatsAppIn(BaseModel):
    """The tenant's WhatsApp channel: its own number and Twilio account (else the
    deployment's), its quiet window and its throttle. `null` clears a value: the
    deployment's setting applies again."""

    model_config = ConfigDict(extra="forbid")
    number: str | None = Field(default=None, max_length=40, examples=["+14155238886"])
    """E.164, optionally prefixed `whatsapp:`."""
    account_sid: str | None = Field(default=None, pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr | None = Field(default=None, min_length=8, max_length=128)
    """Write-only: responses only say `auth_token_set`."""
    debounce_seconds: float | None = Field(default=None, ge=0, le=15)
    """Quiet window before a burst is answered."""
    throttle_per_minute: int | None = Field(default=None, ge=1, le=1000)
    """Messages a minute from one customer before the bot stops answering (one notice)."""

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            return None
        bare = value.strip().removeprefix("whatsapp:").strip()
        if not WHATSAPP_NUMBER.match(bare):
            raise ValueError("a number in E.164 form like +14155238886 ('whatsapp:' optional)")
        return f"whatsapp:{bare}"

    @field_validator("auth_token")
    @classmethod
    def _no_spaces(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and any(c.isspace() for c in value.get_secret_value()):
            raise ValueError("an auth token has no spaces")
        return value


class WhatsAppOut(BaseModel):
    """The tenant's own WhatsApp settings (`null`: the deployment's applies)."""

    number: str | None
    account_sid: str | None
    auth_token_set: bool
    debounce_seconds: float | None
    throttle_per_minute: int | None


class TenantFields(BaseModel):
    """Editable tenant fields (all optional on PATCH)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    company_name: str | None = Field(default=None, max_length=200)
    persona: str | None = Field(default=None, max_length=4000)
    welcome_message: str | None = Field(default=None, max_length=1000)
    default_language: str | None = Field(default=None, pattern=r"^(es|en)$")
    handoff_message: str | None = Field(default=None, max_length=1000)
    handoff: HandoffRulesIn | None = None
    whatsapp: WhatsAppIn | None = None
    enabled: bool | None = None


class TenantCreate(TenantFields):
    id: TenantId
    name: str = Field(max_length=200)


class TenantOut(BaseModel):
    id: str
    name: str
    company_name: str
    persona: str
    welcome_message: str
    default_language: str
    handoff_message: str
    handoff: dict[str, Any]
    whatsapp: WhatsAppOut
    enabled: bool
    created_at: datetime
    updated_at: datetime


class TenantList(BaseModel):
    tenants: list[TenantOut]


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, min_length=1, max_length=200)
    title: str | None = Field(default=None, max_length=300)
    text: str = Field(min_length=1, max_length=MAX_DOCUMENT_CHARS)


class KnowledgeIn(BaseModel):
    documents: list[str | DocumentIn] = Field(min_length=1, max_length=1000)


class KnowledgeOut(BaseModel):
    document_ids: list[str]
    chunks: int


class SearchIn(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    limit: int = Field(default=5, ge=1, le=50)


class SearchResult(BaseModel):
    document_id: str
    title: str
    chunk: int
    text: str
    score: float


class SearchOut(BaseModel):
    results: list[SearchResult]


class ConversationOut(BaseModel):
    id: str
    customer: str
    channel: str
    status: str
    handoff_reasons: list[str]
    created_at: datetime
    updated_at: datetime


class ConversationList(BaseModel):
    conversations: list[ConversationOut]
    limit: int
    offset: int


class MessageOut(BaseModel):
    direction: str
    author: str
    body: str
    status: str
    """`received`; outbound: `recorded`, `pending` / `submitting` (not sent yet: waiting in
    the outbox), `queued`, `sent`, `delivered`, `read`, `failed`, ..."""
    kind: str
    """`text`; the bot's `reply`, `welcome`, `failure_notice`, `media_notice`, ..."""
    error: str | None
    """Why it failed; while unsent, why its last send did not go through (it is retried);
    once sent, what went wrong on the way (kept as a trace)."""
    send_attempts: int
    """Rounds of sending that did not settle it (the outbox retried it)."""
    sources: list[str]
    created_at: datetime


class QueuedTurnOut(BaseModel):
    """One queued turn: the bot's answer to a burst of the customer's messages."""

    status: str
    """`running`, `replied` (its messages recorded), `done`."""
    attempts: int
    """More than 1: the turn was retried (a crash, a failing database or provider)."""
    created_at: datetime
    updated_at: datetime


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]
    turns: list[QueuedTurnOut]
    """The WhatsApp worker's turns, oldest first (none on the `cli` channel)."""


class ChatIn(BaseModel):
    """One customer message on the `cli` channel (what `atiende chat` sends)."""

    customer: str = Field(min_length=1, max_length=200)
    text: str = Field(max_length=MAX_MESSAGE_CHARS)


class TurnOut(BaseModel):
    conversation_id: str
    reply: str
    handoff: bool
    reason: str | None
    reasons: list[str]
    sources: list[str]
    status: str
