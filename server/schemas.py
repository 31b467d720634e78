"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema, WithJsonSchema

from tools.business_hours import BusinessHours

TenantId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
WHATSAPP_NUMBER = r"^(whatsapp:)?\+[1-9][0-9]{6,14}$"
AUTH_TOKEN = r"^[!-~]+$"
# What str.strip() removes, spelled out so a pattern means the same in JSON Schema as in
# Python; a "blank" text is nothing else.
_STRIPPED = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = f"[^{_STRIPPED}]"
# A name (an agent's): once stripped, not blank and no control characters.
_VISIBLE = f"[^\\x00-\\x1f\\x7f{_STRIPPED}]"
PRINTABLE_NAME = f"^[{_STRIPPED}]*{_VISIBLE}([^\\x00-\\x1f\\x7f]*{_VISIBLE})?[{_STRIPPED}]*$"
MAX_MESSAGE_CHARS = 4096
MAX_DOCUMENT_CHARS = 1_000_000
MAX_OFFSET = 1_000_000_000
"""The largest `offset` of a paged list (beyond it, the databases' integers overflow)."""
# A request body is read as JSON, strictly: `true` is not a number, `"5"` is not an integer.
REQUEST_BODY = ConfigDict(extra="forbid", strict=True)


def _whole(value: Any) -> Any:
    """JSON Schema's integers include `2.0`: such a number is the integer 2."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def whole_number(minimum: int, maximum: int) -> Any:
    """An integer from `minimum` to `maximum`; `2.0` counts as 2."""
    return Annotated[int, Field(ge=minimum, le=maximum), BeforeValidator(_whole)]


def _without_default(schema: dict[str, Any]) -> None:
    """For a field whose absence means "keep": its JSON Schema shows no `null` default."""
    schema.pop("default", None)


class Problem(BaseModel):
    where: str = Field(examples=["body.name", "query.offset"])
    """Where in the request: `body.<field>`, `query.<name>`, `path.<name>`."""
    problem: str


class ErrorOut(BaseModel):
    """Every error answer: `detail` says what is wrong; a malformed request (422) also lists
    each problem in `errors`."""

    detail: str
    errors: list[Problem] | None = None


_DAY = "(mon|tue|wed|thu|fri|sat|sun|lun|mar|mie|jue|vie|sab|dom)"
_DAYS = f"{_DAY}(-{_DAY})?(,{_DAY}(-{_DAY})?)*"
_HOURS = "([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)"
SCHEDULE_LINE = f"^{_DAYS} {_HOURS}(,{_HOURS})*$"
"""Days (or day ranges) and hours, e.g. `mon-fri 09:00-13:00,15:00-19:00`."""
ISO_DAY = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TIME_ZONES = sorted(zoneinfo.available_timezones())


def _time_zones(schema: dict[str, Any]) -> None:
    schema["enum"] = TIME_ZONES


class BusinessHoursIn(BaseModel):
    """When the tenant's people answer: `{"timezone", "schedule", "holidays"}`. Each hours
    range ends after it starts, within the day."""

    model_config = REQUEST_BODY
    timezone: str = Field(
        default="UTC", examples=["America/Mexico_City"], json_schema_extra=_time_zones
    )
    schedule: list[Annotated[str, StringConstraints(pattern=SCHEDULE_LINE)]] = Field(
        default_factory=list, max_length=50, examples=[["mon-fri 09:00-18:00", "sat 10:00-14:00"]]
    )
    holidays: list[
        Annotated[
            str,
            StringConstraints(pattern=ISO_DAY),
            WithJsonSchema({"type": "string", "format": "date", "pattern": ISO_DAY}),
        ]
    ] = Field(default_factory=list, max_length=400, examples=[["2025-12-25"]])

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in TIME_ZONES:
            raise ValueError(f"unknown time zone {value!r} (an IANA name like America/Mexico_City)")
        return value

    @model_validator(mode="after")
    def _readable(self) -> BusinessHoursIn:
        BusinessHours(self.timezone, tuple(self.schedule), tuple(self.holidays)).validate()
        return self


class HandoffRulesIn(BaseModel):
    """Per-tenant overrides of the four handoff triggers. A `webhook_url` comes with its
    `webhook_secret` in the same request."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "anyOf": [
                {"properties": {"webhook_url": {"type": "null"}}},
                {
                    "required": ["webhook_url", "webhook_secret"],
                    "properties": {
                        "webhook_url": {"type": "string"},
                        "webhook_secret": {"type": "string"},
                    },
                },
            ]
        },
    )
    sentiment_threshold: float | None = Field(default=None, ge=-1, le=1)
    keywords: list[str] | None = None
    max_fallbacks: whole_number(0, 20) | None = None  # type: ignore[valid-type]
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
    deployment's setting applies again. `account_sid` and `auth_token` go together: both
    set, or both `null`, in the same request."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "anyOf": [
                {"properties": {"account_sid": False, "auth_token": False}},
                {
                    "required": ["account_sid", "auth_token"],
                    "properties": {
                        "account_sid": {"type": "string"},
                        "auth_token": {"type": "string"},
                    },
                },
                {
                    "required": ["account_sid", "auth_token"],
                    "properties": {"account_sid": {"type": "null"}, "auth_token": {"type": "null"}},
                },
            ]
        },
    )
    number: str | None = Field(default=None, pattern=WHATSAPP_NUMBER, examples=["+14155238886"])
    """E.164, optionally prefixed `whatsapp:`."""
    account_sid: str | None = Field(default=None, pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr | None = Field(
        default=None, min_length=8, max_length=128, json_schema_extra={"pattern": AUTH_TOKEN}
    )
    """Write-only: responses only say `auth_token_set`."""
    debounce_seconds: float | None = Field(default=None, ge=0, le=15)
    """Quiet window before a burst is answered."""
    throttle_per_minute: whole_number(1, 1000) | None = None  # type: ignore[valid-type]
    """Messages a minute from one customer before the bot stops answering (one notice)."""

    @field_validator("number")
    @classmethod
    def _prefixed(cls, value: str | None) -> str | None:
        return None if value is None else f"whatsapp:{value.removeprefix('whatsapp:')}"

    @field_validator("auth_token")
    @classmethod
    def _visible_ascii(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(AUTH_TOKEN, value.get_secret_value()):
            raise ValueError("an auth token is visible ASCII characters, no spaces")
        return value

    @model_validator(mode="after")
    def _account_together(self) -> WhatsAppIn:
        given = {"account_sid", "auth_token"} & self.model_fields_set
        if given and (len(given) == 1 or (self.account_sid is None) != (self.auth_token is None)):
            raise ValueError(
                "whatsapp.account_sid and whatsapp.auth_token are set together (or both null)"
            )
        return self


class WhatsAppOut(BaseModel):
    """The tenant's own WhatsApp settings (`null`: the deployment's applies)."""

    number: str | None
    account_sid: str | None
    auth_token_set: bool
    debounce_seconds: float | None
    throttle_per_minute: int | None


class TenantFields(BaseModel):
    """Editable tenant fields (all optional on PATCH: a field left out keeps its value).

    `null` sets a field back to its default (`""` for texts, `es` for the language, the
    built-in handoff rules, the deployment's WhatsApp settings); `name` and `enabled` have
    no default and cannot be `null`.
    """

    model_config = REQUEST_BODY
    name: str | SkipJsonSchema[None] = Field(
        default=None, max_length=200, json_schema_extra=_without_default
    )
    company_name: str | None = Field(default=None, max_length=200)
    persona: str | None = Field(default=None, max_length=4000)
    welcome_message: str | None = Field(default=None, max_length=1000)
    default_language: Literal["es", "en"] | None = None
    handoff_message: str | None = Field(default=None, max_length=1000)
    handoff: HandoffRulesIn | None = None
    whatsapp: WhatsAppIn | None = None
    enabled: bool | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_without_default)

    @field_validator("name", "enabled", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise ValueError(f"{info.field_name} cannot be null (leave it out to keep it)")
        return value


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


DocumentText = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_DOCUMENT_CHARS, pattern=NOT_BLANK)
]


class DocumentIn(BaseModel):
    model_config = REQUEST_BODY
    id: str | None = Field(default=None, min_length=1, max_length=200, pattern=NOT_BLANK)
    title: str | None = Field(default=None, max_length=300)
    text: DocumentText


class KnowledgeIn(BaseModel):
    model_config = ConfigDict(strict=True)
    documents: list[DocumentText | DocumentIn] = Field(min_length=1, max_length=1000)


class KnowledgeOut(BaseModel):
    document_ids: list[str]
    chunks: int


class SearchIn(BaseModel):
    model_config = ConfigDict(strict=True)
    query: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    limit: whole_number(1, 50) = 5  # type: ignore[valid-type]


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

    model_config = ConfigDict(strict=True)
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
