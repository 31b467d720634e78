"""What an LLM call cost: tokens and money, per call, ready to be recorded per tenant."""

from __future__ import annotations

import uuid
from typing import TypedDict

from langchain_core.messages import BaseMessage

RECENT_USAGE_LIMIT = 20


class LLMUsage(TypedDict):
    """One LLM call: its unique id (recording twice is harmless), group, model and cost."""

    call_id: str
    model_group: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float


def usage_of(message: BaseMessage, model_group: str) -> LLMUsage | None:
    """The usage an LLM reply carries (None when the model reported none, as fakes do)."""
    tokens = getattr(message, "usage_metadata", None) or {}
    meta = message.response_metadata or {}
    cost = float(meta.get("cost_usd") or 0.0)
    if not tokens and not cost:
        return None
    return LLMUsage(
        call_id=str(meta.get("call_id") or uuid.uuid4().hex),
        model_group=str(meta.get("model_group") or model_group),
        model=str(meta.get("model_name") or "unknown"),
        input_tokens=int(tokens.get("input_tokens", 0) or 0),
        output_tokens=int(tokens.get("output_tokens", 0) or 0),
        cost_usd=cost,
    )


def keep_recent_usage(earlier: list[LLMUsage], new: list[LLMUsage]) -> list[LLMUsage]:
    """State reducer: the most recent calls, newest last, each call once."""
    seen = {u["call_id"] for u in new}
    merged = [u for u in earlier if u["call_id"] not in seen] + list(new)
    return merged[-RECENT_USAGE_LIMIT:]
