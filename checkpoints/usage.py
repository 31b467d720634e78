"""`UsageStore`: LLM tokens and cost per tenant, one row per call (table `llm_usage`).

Rows are keyed by (tenant, call id), so recording the same calls again (a retried turn, the
recent calls a conversation state still carries) adds nothing. Days are UTC dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from checkpoints.database import Database, utc_now

_INSERT = """INSERT INTO llm_usage (tenant_id, conversation_id, call_id, day, model_group, model,
        input_tokens, output_tokens, cost_usd, created_at)
    VALUES (:tenant_id, :conversation_id, :call_id, :day, :model_group, :model,
        :input_tokens, :output_tokens, :cost_usd, :created_at)
    ON CONFLICT (tenant_id, call_id) DO NOTHING"""

_BY_DAY = """SELECT day, model, COUNT(*) AS calls, SUM(input_tokens) AS input_tokens,
        SUM(output_tokens) AS output_tokens, SUM(cost_usd) AS cost_usd
    FROM llm_usage
    WHERE tenant_id = :tenant_id AND day >= :first AND day <= :last
    GROUP BY day, model
    ORDER BY day, model"""


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """LLM usage of one tenant on one UTC day with one model."""

    day: date
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class UsageStore:
    """Records LLM calls and sums them per day and model."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        tenant_id: str,
        conversation_id: str | None,
        calls: Iterable[Mapping[str, Any]],
        at: datetime | None = None,
    ) -> int:
        """Record calls (`tools.llm.usage.LLMUsage` mappings); how many were new."""
        when = at or utc_now()
        rows = [
            {
                "tenant_id": tenant_id,
                "conversation_id": conversation_id,
                "call_id": str(call["call_id"]),
                "day": when.date().isoformat(),
                "model_group": str(call.get("model_group", "")),
                "model": str(call.get("model") or "unknown"),
                "input_tokens": int(call.get("input_tokens", 0) or 0),
                "output_tokens": int(call.get("output_tokens", 0) or 0),
                "cost_usd": float(call.get("cost_usd", 0.0) or 0.0),
                "created_at": when,
            }
            for call in calls
        ]
        if not rows:
            return 0
        added = 0
        async with self.db.transaction() as session:
            for row in rows:
                added += max(0, await session.execute(_INSERT, row))
        return added

    async def by_day(self, tenant_id: str, first: date, last: date) -> list[UsageTotal]:
        """Totals per (day, model) from `first` to `last` inclusive, oldest first."""
        found = await self.db.fetch_all(
            _BY_DAY,
            {"tenant_id": tenant_id, "first": first.isoformat(), "last": last.isoformat()},
        )
        return [
            UsageTotal(
                day=date.fromisoformat(str(row["day"])),
                model=row["model"],
                calls=int(row["calls"]),
                input_tokens=int(row["input_tokens"] or 0),
                output_tokens=int(row["output_tokens"] or 0),
                cost_usd=float(row["cost_usd"] or 0.0),
            )
            for row in found
        ]
