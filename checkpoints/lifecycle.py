"""The conversation lifecycle in the service tables (migration 5).

Closing a conversation (once: a second close changes nothing), the open conversations idle
since a moment, the closed ones whose memory is not written yet, the closed ones whose
thread has outlived the retention period, and a customer's conversations (for export and
erasure). A conversation closed elsewhere without `closed_at` counts as closed at its last
update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from checkpoints.database import Database, Row, Session
from checkpoints.records import ConversationRecord
from checkpoints.service import new_conversation_id

BATCH = 200


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class LifecycleRecord:
    """A conversation with its lifecycle columns."""

    conversation: ConversationRecord
    closed_at: datetime | None
    close_reason: str | None
    remembered_at: datetime | None
    """When its summary and facts were written to the customer's memory."""
    thread_deleted_at: datetime | None
    """When its LangGraph thread was deleted (retention)."""

    @property
    def id(self) -> str:
        return self.conversation.id

    @property
    def ended_at(self) -> datetime:
        """When it was closed (its last update when closed without a close time)."""
        return self.closed_at or self.conversation.updated_at

    @classmethod
    def from_row(cls, row: Row) -> LifecycleRecord:
        return cls(
            conversation=ConversationRecord.from_row(row),
            closed_at=_aware(row["closed_at"]),
            close_reason=row["close_reason"],
            remembered_at=_aware(row["remembered_at"]),
            thread_deleted_at=_aware(row["thread_deleted_at"]),
        )


_CLOSE = """UPDATE conversations SET status = 'closed', closed_at = :now, close_reason = :reason
    WHERE tenant_id = :tenant_id AND id = :id AND status <> 'closed' RETURNING *"""

_UNANSWERED = """SELECT id FROM messages WHERE tenant_id = :tenant_id AND conversation_id = :id
    AND direction = 'inbound' AND (pending OR turn_id IN (
        SELECT t.id FROM turns t WHERE t.conversation_id = :id AND t.status = 'running'))
    ORDER BY id"""


async def _carry_over(
    session: Session, closed: ConversationRecord, message_ids: list[int], now: datetime
) -> None:
    """Move unanswered inbound messages into the customer's open conversation (a new one
    unless a message opened it already), pending again; end the turns they were in."""
    params: dict[str, Any] = {
        "new_id": new_conversation_id(),
        "tenant_id": closed.tenant_id,
        "channel": closed.channel,
        "address": closed.address,
        "old_id": closed.id,
        "now": now,
    }
    row = await session.fetch_one(
        """INSERT INTO conversations (id, tenant_id, channel, address, status, handoff_reasons,
               created_at, updated_at)
           VALUES (:new_id, :tenant_id, :channel, :address, 'bot', '[]', :now, :now)
           ON CONFLICT (tenant_id, channel, address) WHERE status <> 'closed'
           DO UPDATE SET updated_at = excluded.updated_at
           RETURNING id""",
        params,
    )
    assert row is not None
    names = ", ".join(f":m{i}" for i in range(len(message_ids)))
    params.update({f"m{i}": value for i, value in enumerate(message_ids)})
    await session.execute(
        f"""UPDATE messages SET conversation_id = :open_id, pending = TRUE, turn_id = NULL
            WHERE tenant_id = :tenant_id AND id IN ({names})""",
        {**params, "open_id": row["id"]},
    )
    await session.execute(
        """UPDATE turns SET status = 'done', updated_at = :now
           WHERE tenant_id = :tenant_id AND conversation_id = :old_id AND status = 'running'""",
        params,
    )


class ConversationLifecycle:
    """Reads and writes the lifecycle of conversations; every method is scoped by tenant."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, tenant_id: str, conversation_id: str) -> LifecycleRecord | None:
        row = await self.db.fetch_one(
            "SELECT * FROM conversations WHERE tenant_id = :tenant_id AND id = :id",
            {"tenant_id": tenant_id, "id": conversation_id},
        )
        return LifecycleRecord.from_row(row) if row else None

    async def close(
        self, tenant_id: str, conversation_id: str, reason: str, now: datetime
    ) -> LifecycleRecord | None:
        """Close an open conversation; None when it is unknown or already closed.

        Exactly one of concurrent closers gets the record. The customer's next message opens
        a new conversation; messages of theirs not answered yet (waiting for their quiet
        window, or in a turn a killed process left running) move to that new conversation,
        to be answered there. Hold the conversation (no turn running) while closing it.
        """
        params = {"tenant_id": tenant_id, "id": conversation_id, "reason": reason, "now": now}
        async with self.db.transaction() as session:
            row = await session.fetch_one(_CLOSE, params)
            if row is None:
                return None
            closed = LifecycleRecord.from_row(row)
            unanswered = await session.fetch_all(_UNANSWERED, params)
            if unanswered:
                await _carry_over(session, closed.conversation, [r["id"] for r in unanswered], now)
        return closed

    async def idle(
        self, tenant_id: str, before: datetime, limit: int = BATCH
    ) -> list[ConversationRecord]:
        """Open conversations of the tenant with no activity since `before`, oldest first."""
        rows = await self.db.fetch_all(
            """SELECT * FROM conversations WHERE tenant_id = :tenant_id
                   AND status <> 'closed' AND updated_at < :before
               ORDER BY updated_at LIMIT :limit""",
            {"tenant_id": tenant_id, "before": before, "limit": limit},
        )
        return [ConversationRecord.from_row(row) for row in rows]

    async def to_remember(self, limit: int = BATCH) -> list[LifecycleRecord]:
        """Closed conversations (any tenant) whose memory is not written yet, oldest first."""
        rows = await self.db.fetch_all(
            """SELECT * FROM conversations WHERE status = 'closed' AND remembered_at IS NULL
               ORDER BY updated_at LIMIT :limit""",
            {"limit": limit},
        )
        return [LifecycleRecord.from_row(row) for row in rows]

    async def mark_remembered(self, tenant_id: str, conversation_id: str, now: datetime) -> None:
        await self._set(tenant_id, conversation_id, "remembered_at", now)

    async def expired(
        self, tenant_id: str, ended_before: datetime, limit: int = BATCH
    ) -> list[LifecycleRecord]:
        """Closed conversations of the tenant, ended before `ended_before`, with a thread."""
        rows = await self.db.fetch_all(
            """SELECT * FROM conversations WHERE tenant_id = :tenant_id AND status = 'closed'
                   AND thread_deleted_at IS NULL
                   AND COALESCE(closed_at, updated_at) < :before
               ORDER BY COALESCE(closed_at, updated_at) LIMIT :limit""",
            {"tenant_id": tenant_id, "before": ended_before, "limit": limit},
        )
        return [LifecycleRecord.from_row(row) for row in rows]

    async def mark_thread_deleted(
        self, tenant_id: str, conversation_id: str, now: datetime
    ) -> None:
        await self._set(tenant_id, conversation_id, "thread_deleted_at", now)

    async def of_customer(
        self, tenant_id: str, address: str, channel: str | None = None
    ) -> list[LifecycleRecord]:
        """The customer's conversations (on one channel, or on every channel), oldest first."""
        rows = await self.db.fetch_all(
            f"""SELECT * FROM conversations WHERE tenant_id = :tenant_id
                   AND address = :address {"AND channel = :channel" if channel else ""}
               ORDER BY created_at, id""",
            {"tenant_id": tenant_id, "address": address, "channel": channel},
        )
        return [LifecycleRecord.from_row(row) for row in rows]

    async def delete(self, tenant_id: str, conversation_ids: Sequence[str]) -> int:
        """Delete conversations with everything that cascades from them (messages, turns,
        handoffs, ...); how many conversations were deleted."""
        deleted = 0
        async with self.db.transaction() as session:
            for conversation_id in conversation_ids:
                deleted += await session.execute(
                    "DELETE FROM conversations WHERE tenant_id = :tenant_id AND id = :id",
                    {"tenant_id": tenant_id, "id": conversation_id},
                )
        return deleted

    async def _set(self, tenant_id: str, conversation_id: str, column: str, value: Any) -> None:
        await self.db.execute(
            f"UPDATE conversations SET {column} = :value WHERE tenant_id = :tenant_id AND id = :id",
            {"tenant_id": tenant_id, "id": conversation_id, "value": value},
        )
