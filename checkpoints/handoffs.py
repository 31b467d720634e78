"""`HandoffStore`: who owns a conversation, every change of owner, the agents' queue, and the
webhook notifications of a handoff (an outbox, retried with backoff).

A handoff runs from the bot giving a conversation up (`bot -> pending`) to its release
(`-> bot`) or closing; an agent takes it (`pending -> human`). Each change is one
transaction that moves the conversation's status only from the statuses it expects (rows
locked on Postgres, `BEGIN IMMEDIATE` on SQLite), so two agents or two replicas never
both win, and records an event with who, why and when.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from checkpoints.database import Database, Row, Session
from checkpoints.records import ConversationRecord
from checkpoints.service import ConversationNotFound

OPEN_STATUSES = ("pending", "human")


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class NotHandedOver(Exception):
    """The conversation is not waiting for or owned by a person (the bot has it, or closed)."""

    def __init__(self, conversation_id: str, status: str) -> None:
        super().__init__(f"conversation {conversation_id!r} is {status!r}, not handed over")
        self.conversation_id = conversation_id
        self.status = status


class AssignedElsewhere(Exception):
    """Another agent owns the conversation."""

    def __init__(self, conversation_id: str, agent: str) -> None:
        super().__init__(f"conversation {conversation_id!r} is assigned to {agent!r}")
        self.conversation_id = conversation_id
        self.agent = agent


@dataclass(frozen=True, slots=True)
class HandoffRecord:
    """One handoff of a conversation, from the bot giving it up to its release."""

    id: int
    tenant_id: str
    conversation_id: str
    reasons: tuple[str, ...]
    sentiment: float | None
    """Mood score of the turn that handed over."""
    agent: str | None
    """The agent who took it (None while pending)."""
    opened_at: datetime
    assigned_at: datetime | None
    agent_active_at: datetime
    """Last time an agent did something (took it, replied); idle time counts from here."""
    reminded_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    """`released`, `idle`, `closed`, ..."""

    @classmethod
    def from_row(cls, row: Row) -> HandoffRecord:
        sentiment = row["sentiment"]
        return cls(
            id=int(row["id"]),
            tenant_id=row["tenant_id"],
            conversation_id=row["conversation_id"],
            reasons=tuple(json.loads(row["reasons"])),
            sentiment=None if sentiment is None else float(sentiment),
            agent=row["agent"],
            opened_at=_aware(row["opened_at"]),  # type: ignore[arg-type]
            assigned_at=_aware(row["assigned_at"]),
            agent_active_at=_aware(row["agent_active_at"]),  # type: ignore[arg-type]
            reminded_at=_aware(row["reminded_at"]),
            ended_at=_aware(row["ended_at"]),
            end_reason=row["end_reason"],
        )


@dataclass(frozen=True, slots=True)
class HandoffEvent:
    """One thing that happened to a handoff: an ownership change, a notification outcome."""

    id: int
    conversation_id: str
    handoff_id: int | None
    kind: str
    """`status` (owner changed), `notified`, `notify_failed`, `reminded`."""
    from_status: str | None
    to_status: str | None
    actor: str
    """`bot`, `system`, or an agent's name."""
    reason: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> HandoffEvent:
        return cls(
            id=int(row["id"]),
            conversation_id=row["conversation_id"],
            handoff_id=None if row["handoff_id"] is None else int(row["handoff_id"]),
            kind=row["kind"],
            from_status=row["from_status"],
            to_status=row["to_status"],
            actor=row["actor"],
            reason=row["reason"],
            created_at=_aware(row["created_at"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class HandoffNotification:
    """A webhook event to deliver to the tenant (`handoff.created`, `handoff.reminder`, ...)."""

    id: int
    tenant_id: str
    conversation_id: str
    handoff_id: int
    event: str
    payload: dict[str, Any]
    status: str
    """`pending`, `sent`, `failed` (gave up)."""
    attempts: int
    due_at: datetime
    error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_row(cls, row: Row) -> HandoffNotification:
        return cls(
            id=int(row["id"]),
            tenant_id=row["tenant_id"],
            conversation_id=row["conversation_id"],
            handoff_id=int(row["handoff_id"]),
            event=row["event"],
            payload=json.loads(row["payload"]),
            status=row["status"],
            attempts=int(row["attempts"]),
            due_at=_aware(row["due_at"]),  # type: ignore[arg-type]
            error=row["error"],
            created_at=_aware(row["created_at"]),  # type: ignore[arg-type]
            sent_at=_aware(row["sent_at"]),
        )


@dataclass(frozen=True, slots=True)
class QueuedHandoff:
    """A conversation waiting for or owned by a person, with its open handoff."""

    conversation: ConversationRecord
    handoff: HandoffRecord


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of an ownership change."""

    handoff: HandoffRecord
    from_status: str
    to_status: str
    changed: bool
    """False when nothing changed (e.g. the same agent taking it again)."""


class HandoffStore:
    """Ownership changes, the queue and the notification outbox; scoped by tenant."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ownership

    async def open(
        self,
        tenant_id: str,
        conversation_id: str,
        reasons: Sequence[str],
        sentiment: float | None,
        now: datetime,
        *,
        actor: str = "bot",
        notification: tuple[str, dict[str, Any]] | None = None,
    ) -> HandoffRecord | None:
        """Hand the conversation to the people: `bot -> pending`, a handoff and its event.

        Idempotent: an open handoff is returned as it is. A conversation the turn already set
        to `pending` (or `human`) without a handoff gets one. None when it is closed; raises
        `ConversationNotFound`. `notification` (event name, payload) is queued for the webhook.
        """
        async with self.db.transaction() as session:
            status = await _locked_status(session, tenant_id, conversation_id)
            existing = await _open_handoff(session, tenant_id, conversation_id)
            if existing is not None:
                return existing
            if status == "closed":
                return None
            to_status = "pending" if status == "bot" else status
            await session.execute(
                """UPDATE conversations SET status = :status, handoff_reasons = :reasons,
                       updated_at = :now WHERE tenant_id = :tenant_id AND id = :id""",
                {
                    "status": to_status,
                    "reasons": json.dumps(list(reasons)),
                    "now": now,
                    "tenant_id": tenant_id,
                    "id": conversation_id,
                },
            )
            row = await session.fetch_one(
                """INSERT INTO handoffs (tenant_id, conversation_id, reasons, sentiment,
                       opened_at, agent_active_at)
                   VALUES (:tenant_id, :conversation_id, :reasons, :sentiment, :now, :now)
                   RETURNING *""",
                {
                    "tenant_id": tenant_id,
                    "conversation_id": conversation_id,
                    "reasons": json.dumps(list(reasons)),
                    "sentiment": sentiment,
                    "now": now,
                },
            )
            assert row is not None
            handoff = HandoffRecord.from_row(row)
            await _event(
                session, handoff, "status", "bot", to_status, actor, ",".join(reasons), now
            )
            if notification is not None:
                await _enqueue(session, handoff, *notification, now)
            return handoff

    async def assign(
        self, tenant_id: str, conversation_id: str, agent: str, now: datetime, *, force: bool
    ) -> Transition:
        """An agent takes the conversation: `pending -> human` (or from another agent, with
        `force`). Raises `NotHandedOver`, `AssignedElsewhere`, `ConversationNotFound`."""
        async with self.db.transaction() as session:
            return await _take(session, tenant_id, conversation_id, agent, now, force, "assigned")

    async def agent_replied(
        self, tenant_id: str, conversation_id: str, agent: str, now: datetime
    ) -> Transition:
        """An agent writes to the customer: takes a pending conversation, refreshes activity.

        Raises `NotHandedOver` (the bot owns it), `AssignedElsewhere`, `ConversationNotFound`.
        """
        async with self.db.transaction() as session:
            return await _take(session, tenant_id, conversation_id, agent, now, False, "replied")

    async def release(
        self,
        tenant_id: str,
        conversation_id: str,
        actor: str,
        reason: str,
        now: datetime,
        *,
        notification: tuple[str, dict[str, Any]] | None = None,
        expected: HandoffRecord | None = None,
    ) -> Transition:
        """Give the conversation back to the bot (`pending|human -> bot`), ending the handoff.

        With `expected`, only while that handoff is still open and unchanged by an agent
        (for the idle release). Raises `NotHandedOver`, `ConversationNotFound`.
        """
        async with self.db.transaction() as session:
            status, handoff = await _locked_handoff(session, tenant_id, conversation_id)
            if expected is not None and (
                handoff.id != expected.id or handoff.agent_active_at != expected.agent_active_at
            ):
                raise NotHandedOver(conversation_id, "active")
            await session.execute(
                """UPDATE conversations SET status = 'bot', updated_at = :now
                   WHERE tenant_id = :tenant_id AND id = :id""",
                {"now": now, "tenant_id": tenant_id, "id": conversation_id},
            )
            await session.execute(
                "UPDATE handoffs SET ended_at = :now, end_reason = :reason WHERE id = :id",
                {"now": now, "reason": reason, "id": handoff.id},
            )
            await _event(session, handoff, "status", status, "bot", actor, reason, now)
            if notification is not None:
                await _enqueue(session, handoff, *notification, now)
            ended = await _handoff(session, handoff.id)
            return Transition(ended, status, "bot", True)

    async def remind(
        self,
        handoff: HandoffRecord,
        idle_since: datetime,
        now: datetime,
        notification: tuple[str, dict[str, Any]] | None,
    ) -> bool:
        """Record a reminder for an idle handoff, once per idle stretch (False: already done
        since `idle_since`, or the handoff ended)."""
        async with self.db.transaction() as session:
            changed = await session.execute(
                """UPDATE handoffs SET reminded_at = :now WHERE id = :id AND ended_at IS NULL
                       AND (reminded_at IS NULL OR reminded_at < :idle_since)""",
                {"now": now, "id": handoff.id, "idle_since": idle_since},
            )
            if not changed:
                return False
            await _event(session, handoff, "reminded", None, None, "system", "idle", now)
            if notification is not None:
                await _enqueue(session, handoff, *notification, now)
            return True

    # reading

    async def current(self, tenant_id: str, conversation_id: str) -> HandoffRecord | None:
        """The conversation's open handoff, if any."""
        row = await self.db.fetch_one(
            """SELECT * FROM handoffs WHERE tenant_id = :tenant_id
                   AND conversation_id = :conversation_id AND ended_at IS NULL""",
            {"tenant_id": tenant_id, "conversation_id": conversation_id},
        )
        return HandoffRecord.from_row(row) if row else None

    async def history(self, tenant_id: str, conversation_id: str) -> list[HandoffRecord]:
        """Every handoff of the conversation, oldest first."""
        rows = await self.db.fetch_all(
            """SELECT * FROM handoffs WHERE tenant_id = :tenant_id
                   AND conversation_id = :conversation_id ORDER BY id""",
            {"tenant_id": tenant_id, "conversation_id": conversation_id},
        )
        return [HandoffRecord.from_row(row) for row in rows]

    async def events(self, tenant_id: str, conversation_id: str) -> list[HandoffEvent]:
        """Ownership changes and notification outcomes of the conversation, oldest first."""
        rows = await self.db.fetch_all(
            """SELECT * FROM handoff_events WHERE tenant_id = :tenant_id
                   AND conversation_id = :conversation_id ORDER BY id""",
            {"tenant_id": tenant_id, "conversation_id": conversation_id},
        )
        return [HandoffEvent.from_row(row) for row in rows]

    async def queue(self, tenant_id: str, limit: int = 100) -> list[QueuedHandoff]:
        """Conversations waiting for or owned by a person, longest waiting first (those
        without a handoff record are not listed: see `unrecorded`)."""
        rows = await self.db.fetch_all(
            """SELECT c.id AS c_id, c.channel AS c_channel, c.address AS c_address,
                      c.status AS c_status, c.handoff_reasons AS c_handoff_reasons,
                      c.created_at AS c_created_at, c.updated_at AS c_updated_at, h.*
               FROM handoffs h JOIN conversations c
                   ON c.tenant_id = h.tenant_id AND c.id = h.conversation_id
               WHERE h.tenant_id = :tenant_id AND h.ended_at IS NULL
                   AND c.status IN ('pending', 'human')
               ORDER BY h.opened_at, h.id LIMIT :limit""",
            {"tenant_id": tenant_id, "limit": limit},
        )
        return [QueuedHandoff(_conversation(row), HandoffRecord.from_row(row)) for row in rows]

    async def open_everywhere(self, limit: int = 1000) -> list[QueuedHandoff]:
        """Open handoffs of every tenant (for the idle reminder and release), oldest first."""
        rows = await self.db.fetch_all(
            """SELECT c.id AS c_id, c.channel AS c_channel, c.address AS c_address,
                      c.status AS c_status, c.handoff_reasons AS c_handoff_reasons,
                      c.created_at AS c_created_at, c.updated_at AS c_updated_at, h.*
               FROM handoffs h JOIN conversations c
                   ON c.tenant_id = h.tenant_id AND c.id = h.conversation_id
               WHERE h.ended_at IS NULL AND c.status IN ('pending', 'human')
               ORDER BY h.agent_active_at, h.id LIMIT :limit""",
            {"limit": limit},
        )
        return [QueuedHandoff(_conversation(row), HandoffRecord.from_row(row)) for row in rows]

    async def unrecorded(
        self, limit: int = 100, tenant_id: str | None = None
    ) -> list[ConversationRecord]:
        """Conversations (of any tenant, or of one) a turn handed over without a handoff
        record (the turn only sets the status), longest waiting first."""
        tenant = "AND c.tenant_id = :tenant_id" if tenant_id is not None else ""
        rows = await self.db.fetch_all(
            f"""SELECT * FROM conversations c WHERE c.status IN ('pending', 'human') {tenant}
                   AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.tenant_id = c.tenant_id
                       AND h.conversation_id = c.id AND h.ended_at IS NULL)
               ORDER BY c.updated_at LIMIT :limit""",
            {"limit": limit, "tenant_id": tenant_id},
        )
        return [ConversationRecord.from_row(row) for row in rows]

    async def last_direction(self, tenant_id: str, conversation_id: str) -> str | None:
        """Direction of the conversation's latest message (`inbound`: the customer waits)."""
        row = await self.db.fetch_one(
            """SELECT direction FROM messages WHERE tenant_id = :tenant_id
                   AND conversation_id = :conversation_id ORDER BY id DESC LIMIT 1""",
            {"tenant_id": tenant_id, "conversation_id": conversation_id},
        )
        return row["direction"] if row else None

    # notifications (outbox)

    async def notifications(
        self, tenant_id: str, conversation_id: str
    ) -> list[HandoffNotification]:
        """The conversation's webhook notifications, oldest first."""
        rows = await self.db.fetch_all(
            """SELECT * FROM handoff_notifications WHERE tenant_id = :tenant_id
                   AND conversation_id = :conversation_id ORDER BY id""",
            {"tenant_id": tenant_id, "conversation_id": conversation_id},
        )
        return [HandoffNotification.from_row(row) for row in rows]

    async def due_notifications(
        self,
        now: datetime,
        limit: int = 50,
        *,
        tenant_id: str | None = None,
        conversation_id: str | None = None,
    ) -> list[HandoffNotification]:
        """Pending notifications whose next attempt is due (of one conversation, when
        given), oldest first."""
        where = ""
        if tenant_id is not None and conversation_id is not None:
            where = "AND tenant_id = :tenant_id AND conversation_id = :conversation_id"
        rows = await self.db.fetch_all(
            f"""SELECT * FROM handoff_notifications WHERE status = 'pending' AND due_at <= :now
                {where} ORDER BY due_at, id LIMIT :limit""",
            {
                "now": now,
                "limit": limit,
                "tenant_id": tenant_id,
                "conversation_id": conversation_id,
            },
        )
        return [HandoffNotification.from_row(row) for row in rows]

    async def claim_notification(
        self, notification: HandoffNotification, now: datetime, lease_until: datetime
    ) -> bool:
        """Take one attempt at a due notification (no other process attempts it before
        `lease_until`); False when someone else took it first."""
        changed = await self.db.execute(
            """UPDATE handoff_notifications SET due_at = :lease, attempts = attempts + 1
               WHERE id = :id AND status = 'pending' AND due_at <= :now AND attempts = :attempts""",
            {
                "id": notification.id,
                "now": now,
                "lease": lease_until,
                "attempts": notification.attempts,
            },
        )
        return changed > 0

    async def notification_sent(self, notification_id: int, now: datetime) -> None:
        async with self.db.transaction() as session:
            row = await session.fetch_one(
                """UPDATE handoff_notifications SET status = 'sent', sent_at = :now, error = NULL
                   WHERE id = :id AND status = 'pending' RETURNING *""",
                {"id": notification_id, "now": now},
            )
            if row is not None:
                sent = HandoffNotification.from_row(row)
                await _notification_event(session, sent, "notified", sent.event, now)

    async def notification_failed(
        self, notification_id: int, error: str, now: datetime, retry_at: datetime | None
    ) -> None:
        """An attempt failed: try again at `retry_at`, or give up (None), recording why."""
        async with self.db.transaction() as session:
            if retry_at is not None:
                await session.execute(
                    """UPDATE handoff_notifications SET due_at = :retry_at, error = :error
                       WHERE id = :id AND status = 'pending'""",
                    {"id": notification_id, "retry_at": retry_at, "error": error[:500]},
                )
                return
            row = await session.fetch_one(
                """UPDATE handoff_notifications SET status = 'failed', error = :error
                   WHERE id = :id AND status = 'pending' RETURNING *""",
                {"id": notification_id, "error": error[:500]},
            )
            if row is not None:
                failed = HandoffNotification.from_row(row)
                reason = f"{failed.event} after {failed.attempts} attempts: {error}"[:500]
                await _notification_event(session, failed, "notify_failed", reason, now)


def _conversation(row: Row) -> ConversationRecord:
    return ConversationRecord.from_row(
        {
            "id": row["c_id"],
            "tenant_id": row["tenant_id"],
            "channel": row["c_channel"],
            "address": row["c_address"],
            "status": row["c_status"],
            "handoff_reasons": row["c_handoff_reasons"],
            "created_at": row["c_created_at"],
            "updated_at": row["c_updated_at"],
        }
    )


async def _locked_status(session: Session, tenant_id: str, conversation_id: str) -> str:
    """The conversation's status, its row locked until the transaction ends (Postgres)."""
    lock = " FOR UPDATE" if session.dialect == "postgres" else ""
    row = await session.fetch_one(
        f"SELECT status FROM conversations WHERE tenant_id = :tenant_id AND id = :id{lock}",
        {"tenant_id": tenant_id, "id": conversation_id},
    )
    if row is None:
        raise ConversationNotFound(tenant_id, conversation_id)
    return str(row["status"])


async def _locked_handoff(
    session: Session, tenant_id: str, conversation_id: str
) -> tuple[str, HandoffRecord]:
    """The handed-over conversation's status (row locked) and its open handoff, adopting a
    handoff a turn left unrecorded. Raises `NotHandedOver`, `ConversationNotFound`."""
    status = await _locked_status(session, tenant_id, conversation_id)
    if status not in OPEN_STATUSES:
        raise NotHandedOver(conversation_id, status)
    handoff = await _open_handoff(session, tenant_id, conversation_id)
    if handoff is None:
        handoff = await _adopt(session, tenant_id, conversation_id)
    return status, handoff


async def _open_handoff(
    session: Session, tenant_id: str, conversation_id: str
) -> HandoffRecord | None:
    row = await session.fetch_one(
        """SELECT * FROM handoffs WHERE tenant_id = :tenant_id
               AND conversation_id = :conversation_id AND ended_at IS NULL""",
        {"tenant_id": tenant_id, "conversation_id": conversation_id},
    )
    return HandoffRecord.from_row(row) if row else None


async def _handoff(session: Session, handoff_id: int) -> HandoffRecord:
    row = await session.fetch_one("SELECT * FROM handoffs WHERE id = :id", {"id": handoff_id})
    assert row is not None
    return HandoffRecord.from_row(row)


async def _adopt(session: Session, tenant_id: str, conversation_id: str) -> HandoffRecord:
    """A handoff record for a conversation a turn handed over without one (opened when the
    conversation last changed, with its recorded reasons)."""
    conversation = await session.fetch_one(
        "SELECT * FROM conversations WHERE tenant_id = :tenant_id AND id = :id",
        {"tenant_id": tenant_id, "id": conversation_id},
    )
    assert conversation is not None
    record = ConversationRecord.from_row(conversation)
    opened = record.updated_at
    row = await session.fetch_one(
        """INSERT INTO handoffs (tenant_id, conversation_id, reasons, opened_at, agent_active_at)
           VALUES (:tenant_id, :conversation_id, :reasons, :opened, :opened) RETURNING *""",
        {
            "tenant_id": tenant_id,
            "conversation_id": conversation_id,
            "reasons": json.dumps(list(record.handoff_reasons)),
            "opened": opened,
        },
    )
    assert row is not None
    handoff = HandoffRecord.from_row(row)
    reason = ",".join(record.handoff_reasons)
    await _event(session, handoff, "status", "bot", record.status, "bot", reason, opened)
    return handoff


async def _take(
    session: Session,
    tenant_id: str,
    conversation_id: str,
    agent: str,
    now: datetime,
    force: bool,
    why: str,
) -> Transition:
    status, handoff = await _locked_handoff(session, tenant_id, conversation_id)
    previous = handoff.agent if status == "human" else None
    if previous and previous != agent and not force:
        raise AssignedElsewhere(conversation_id, previous)
    changed = status != "human" or previous != agent
    await session.execute(
        """UPDATE handoffs SET agent = :agent, agent_active_at = :now,
               assigned_at = CASE WHEN :changed THEN :now ELSE assigned_at END
           WHERE id = :id""",
        {"agent": agent, "now": now, "changed": changed, "id": handoff.id},
    )
    if changed:
        await session.execute(
            """UPDATE conversations SET status = 'human', updated_at = :now
               WHERE tenant_id = :tenant_id AND id = :id""",
            {"now": now, "tenant_id": tenant_id, "id": conversation_id},
        )
        reason = f"{why} (from {previous})" if previous else why
        await _event(session, handoff, "status", status, "human", agent, reason, now)
    return Transition(await _handoff(session, handoff.id), status, "human", changed)


async def _event(
    session: Session,
    handoff: HandoffRecord,
    kind: str,
    from_status: str | None,
    to_status: str | None,
    actor: str,
    reason: str,
    now: datetime,
) -> None:
    await session.execute(
        """INSERT INTO handoff_events (tenant_id, conversation_id, handoff_id, kind,
               from_status, to_status, actor, reason, created_at)
           VALUES (:tenant_id, :conversation_id, :handoff_id, :kind, :from_status, :to_status,
               :actor, :reason, :now)""",
        {
            "tenant_id": handoff.tenant_id,
            "conversation_id": handoff.conversation_id,
            "handoff_id": handoff.id,
            "kind": kind,
            "from_status": from_status,
            "to_status": to_status,
            "actor": actor,
            "reason": reason,
            "now": now,
        },
    )


async def _notification_event(
    session: Session, notification: HandoffNotification, kind: str, reason: str, now: datetime
) -> None:
    await session.execute(
        """INSERT INTO handoff_events (tenant_id, conversation_id, handoff_id, kind,
               actor, reason, created_at)
           VALUES (:tenant_id, :conversation_id, :handoff_id, :kind, 'system', :reason, :now)""",
        {
            "tenant_id": notification.tenant_id,
            "conversation_id": notification.conversation_id,
            "handoff_id": notification.handoff_id,
            "kind": kind,
            "reason": reason,
            "now": now,
        },
    )


async def _enqueue(
    session: Session, handoff: HandoffRecord, event: str, payload: dict[str, Any], now: datetime
) -> None:
    await session.execute(
        """INSERT INTO handoff_notifications (tenant_id, conversation_id, handoff_id, event,
               payload, due_at, created_at)
           VALUES (:tenant_id, :conversation_id, :handoff_id, :event, :payload, :now, :now)""",
        {
            "tenant_id": handoff.tenant_id,
            "conversation_id": handoff.conversation_id,
            "handoff_id": handoff.id,
            "event": event,
            "payload": json.dumps(payload),
            "now": now,
        },
    )
