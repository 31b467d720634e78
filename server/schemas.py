"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

TenantId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
MAX_MESSAGE_CHARS = 4096
MAX_DOCUMENT_CHARS = 1_000_000


class HandoffRulesIn(BaseModel):
    """Per-tenant overrides of the four handoff triggers."""

    model_config = ConfigDict(extra="forbid")
    sentiment_threshold: float | None = Field(default=None, ge=-1, le=1)
    keywords: list[str] | None = None
    max_fallbacks: int | None = Field(default=None, ge=0, le=20)
    loop_similarity: float | None = Field(default=None, gt=0, le=1)


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
    sources: list[str]
    created_at: datetime


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


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
