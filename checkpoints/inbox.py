"""`Inbox`: the durable side of the WhatsApp channel.

Inbound messages are stored `pending` (unique per tenant on the channel's message id);
a queued turn claims a conversation's pending messages, records its outbound messages
(unique per turn position) and is `done` once they were handed to the sender. Outbound
messages not sent yet (`pending`, or `submitting`: a send was tried and may have gone out)
are the outbox: delivered oldest first per conversation, retried with backoff
(`next_attempt_at`). Every step is one transaction, so a process killed anywhere leaves a
state the next one resumes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from checkpoints.database import Database, Params, Row, Session, utc_now
from checkpoints.records import ConversationRecord, MessageRecord, TurnRecord
from checkpoints.service import new_conversation_id

# Delivery statuses only move forward (Twilio's callbacks may arrive out of order).
OUTBOUND_RANK: dict[str, int] = {
    "pending": 0,
    "submitting": 1,
    "accepted": 2,
    "scheduled": 2,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "read": 6,
}
UNSENT = ("pending", "submitting")
ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer message as a channel delivered it."""

    external_id: str
    address: str
    body: str
    media: tuple[str, ...] = ()
    channel: str = "whatsapp"


@dataclass(frozen=True, slots=True)
class Receipt:
    """Where a newly stored inbound message went."""

    message_id: int
    conversation_id: str


@dataclass(frozen=True, slots=True)
class QueuedConversation:
    """A conversation with work: pending messages (a burst), an unfinished turn and/or
    unsent outbound messages."""

    tenant_id: str
    conversation_id: str
    first_at: datetime | None
    """The pending burst's first message (None: no burst)."""
    last_at: datetime | None
    unfinished: bool
    outbox_due_at: datetime | None = None
    """When its oldest unsent outbound message is due (None: nothing unsent)."""


@dataclass(frozen=True, slots=True)
class ConversationWork:
    """What a claimed conversation has to do (read in one round trip)."""

    conversation: ConversationRecord | None
    unfinished: TurnRecord | None
    """Its oldest turn not `done` (left by a killed process, or by this one)."""
    pending: list[MessageRecord]
    """Inbound messages not yet part of a turn, oldest first."""
    recent_inbound: int
    """Inbound messages since the `since` asked for (for throttling)."""
    unsent: list[MessageRecord] = field(default_factory=list)
    """Outbound messages not sent yet (the outbox), oldest first."""

    @staticmethod
    def reads(tenant_id: str, conversation_id: str, since: datetime) -> list[tuple[str, Params]]:
        """The queries it is read with (`from_rows` takes their rows)."""
        params = {"tenant_id": tenant_id, "conversation_id": conversation_id, "since": since}
        return [(sql, params) for sql in _WORK]

    @classmethod
    def from_rows(cls, rows: Sequence[list[Row]]) -> ConversationWork:
        conversation, turn, pending, recent, unsent = rows
        return cls(
            ConversationRecord.from_row(conversation[0]) if conversation else None,
            TurnRecord.from_row(turn[0]) if turn else None,
            [MessageRecord.from_row(row) for row in pending],
            int(recent[0]["n"]),
            [MessageRecord.from_row(row) for row in unsent],
        )


@dataclass(frozen=True, slots=True)
class OutboundDraft:
    """One message a turn will send (split into parts already)."""

    kind: str
    body: str
    sources: tuple[str, ...] = ()


def _timestamp(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite aggregates lose the column's declared type
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.utcoffset() == ZERO else value.astimezone(UTC)


_RECEIVE_POSTGRES = """
WITH conversation AS (
    INSERT INTO conversations (id, tenant_id, channel, address, status, handoff_reasons,
        created_at, updated_at)
    VALUES (:new_id, :tenant_id, :channel, :address, 'bot', '[]', :now, :now)
    ON CONFLICT (tenant_id, channel, address) WHERE status <> 'closed'
    DO UPDATE SET updated_at = EXCLUDED.updated_at
    RETURNING id
)
INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, sources,
    external_id, created_at, pending, kind, media)
SELECT :tenant_id, id, 'inbound', 'customer', :body, 'received', '[]', :external_id, :now,
    TRUE, :kind, :media
FROM conversation
ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
RETURNING id, conversation_id"""

_UPSERT_CONVERSATION = """
INSERT INTO conversations (id, tenant_id, channel, address, status, handoff_reasons,
    created_at, updated_at)
VALUES (:new_id, :tenant_id, :channel, :address, 'bot', '[]', :now, :now)
ON CONFLICT (tenant_id, channel, address) WHERE status <> 'closed'
DO UPDATE SET updated_at = excluded.updated_at
RETURNING id"""

_INSERT_INBOUND = """
INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, sources,
    external_id, created_at, pending, kind, media)
VALUES (:tenant_id, :conversation_id, 'inbound', 'customer', :body, 'received', '[]',
    :external_id, :now, TRUE, :kind, :media)
ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
RETURNING id, conversation_id"""

_INSERT_TURN = """
INSERT INTO turns (tenant_id, conversation_id, status, attempts, created_at, updated_at)
VALUES (:tenant_id, :conversation_id, 'running', 1, :now, :now)
RETURNING *"""

_START_TURN_POSTGRES = f"""
WITH turn AS ({_INSERT_TURN}),
claimed AS (
    UPDATE messages SET pending = FALSE, turn_id = (SELECT id FROM turn)
    WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id AND pending
        AND id = ANY(:ids)
    RETURNING id
)
SELECT turn.*, (SELECT COUNT(*) FROM claimed) AS claimed FROM turn"""

_MARK_REPLIED = """
UPDATE turns SET status = 'replied', updated_at = :now WHERE id = :id AND status = 'running'"""

_INSERT_OUTBOUND = """
INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, sources,
    created_at, turn_id, seq, kind)
VALUES (:tenant_id, :conversation_id, 'outbound', 'bot', :body, :status, :sources, :now, :id,
    :seq, :kind)
RETURNING *"""

_TOUCH_CONVERSATION = """
UPDATE conversations SET updated_at = :now{handoff}
WHERE tenant_id = :tenant_id AND id = :conversation_id"""

# One statement (one round trip): mark the turn replied, insert its messages, touch the
# conversation; nothing happens unless the turn was still running.
_RECORD_OUTBOUND_POSTGRES = """
WITH turn AS (
    UPDATE turns SET status = 'replied', updated_at = :now
    WHERE id = :id AND status = 'running' RETURNING id
),
drafts AS (
    SELECT * FROM unnest(:bodies::text[], :kinds::text[], :sources::text[])
        WITH ORDINALITY AS d(body, kind, sources, seq)
),
touched AS (
    UPDATE conversations SET updated_at = :now{handoff}
    WHERE tenant_id = :tenant_id AND id = :conversation_id AND EXISTS (SELECT 1 FROM turn)
)
INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, sources,
    created_at, turn_id, seq, kind)
SELECT :tenant_id, :conversation_id, 'outbound', 'bot', d.body, :status, d.sources, :now,
    turn.id, d.seq - 1, d.kind
FROM turn, drafts d ORDER BY d.seq
RETURNING *"""


_UNSENT = "direction = 'outbound' AND status IN ('pending', 'submitting')"

# `kind`: 1 an unfinished turn, 0 a pending burst, 2 the outbox (due when its oldest
# message is: the others wait behind it)
_QUEUED = f"""
SELECT tenant_id, conversation_id, NULL AS first_at, NULL AS last_at, 1 AS kind
FROM turns WHERE status <> 'done'
UNION ALL
SELECT tenant_id, conversation_id, MIN(created_at), MAX(created_at), 0
FROM messages WHERE pending GROUP BY tenant_id, conversation_id
UNION ALL
SELECT tenant_id, conversation_id, COALESCE(next_attempt_at, created_at), NULL, 2
FROM messages m WHERE {_UNSENT} AND NOT EXISTS (
    SELECT 1 FROM messages o WHERE o.tenant_id = m.tenant_id
        AND o.conversation_id = m.conversation_id AND o.id < m.id
        AND o.direction = 'outbound' AND o.status IN ('pending', 'submitting'))"""

_WORK = (
    "SELECT * FROM conversations WHERE tenant_id = :tenant_id AND id = :conversation_id",
    """SELECT * FROM turns WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id
           AND status <> 'done' ORDER BY id LIMIT 1""",
    """SELECT * FROM messages WHERE tenant_id = :tenant_id
           AND conversation_id = :conversation_id AND pending ORDER BY id""",
    """SELECT COUNT(*) AS n FROM messages WHERE tenant_id = :tenant_id
           AND conversation_id = :conversation_id AND direction = 'inbound'
           AND created_at >= :since""",
    f"""SELECT * FROM messages WHERE tenant_id = :tenant_id
           AND conversation_id = :conversation_id AND {_UNSENT} ORDER BY id""",
)

_MARK_SENT = """
UPDATE messages SET external_id = :external_id, error = COALESCE(:note, error),
    next_attempt_at = NULL,
    status = CASE WHEN status IN ('pending', 'submitting') THEN :status ELSE status END
WHERE id = :id"""

_MARK_FAILED = """
UPDATE messages SET status = 'failed', error = :error, next_attempt_at = NULL WHERE id = :id"""

_POSTPONE = """
UPDATE messages SET status = 'submitting', error = :error, next_attempt_at = :next_attempt_at,
    send_attempts = send_attempts + 1
WHERE id = :id AND status IN ('pending', 'submitting')"""

_FINISH_TURN = "UPDATE turns SET status = 'done', updated_at = :now WHERE id = :turn_id"


class Inbox:
    """Queued turns over the service tables (the same `Database` as `ServiceStore`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # inbound

    async def receive(self, tenant_id: str, message: InboundMessage) -> Receipt | None:
        """Store an inbound message in the customer's open conversation; None on a replay."""
        params = {
            "new_id": new_conversation_id(),
            "tenant_id": tenant_id,
            "channel": message.channel,
            "address": message.address,
            "body": message.body,
            "external_id": message.external_id,
            "kind": "media" if message.media else "text",
            "media": json.dumps(list(message.media)),
            "now": utc_now(),
        }
        if self.db.dialect == "postgres":
            row = await self.db.fetch_one(_RECEIVE_POSTGRES, params)
        else:
            async with self.db.transaction() as session:
                conversation = await session.fetch_one(_UPSERT_CONVERSATION, params)
                assert conversation is not None
                row = await session.fetch_one(
                    _INSERT_INBOUND, {**params, "conversation_id": conversation["id"]}
                )
        return Receipt(int(row["id"]), row["conversation_id"]) if row else None

    async def queued(self) -> list[QueuedConversation]:
        """Every conversation with pending inbound messages, an unfinished turn or unsent
        outbound messages."""
        found: dict[str, QueuedConversation] = {}
        for row in await self.db.fetch_all(_QUEUED):
            conversation_id = row["conversation_id"]
            item = found.get(conversation_id) or QueuedConversation(
                row["tenant_id"], conversation_id, None, None, False
            )
            if row["kind"] == 1:
                item = replace(item, unfinished=True)
            elif row["kind"] == 0:
                first, last = _timestamp(row["first_at"]), _timestamp(row["last_at"])
                item = replace(item, first_at=first, last_at=last)
            else:
                item = replace(item, outbox_due_at=_timestamp(row["first_at"]))
            found[conversation_id] = item
        return list(found.values())

    async def work(self, tenant_id: str, conversation_id: str, since: datetime) -> ConversationWork:
        """The conversation, its unfinished turn, its pending messages and how many inbound
        messages arrived since `since`, in one round trip."""
        reads = ConversationWork.reads(tenant_id, conversation_id, since)
        return ConversationWork.from_rows(await self.db.fetch_batch(reads))

    async def sent_kind_since(
        self, tenant_id: str, conversation_id: str, kind: str, since: datetime
    ) -> bool:
        """Whether an outbound message of `kind` was recorded in the conversation since then."""
        row = await self.db.fetch_one(
            """SELECT 1 AS found FROM messages WHERE tenant_id = :tenant_id
                   AND conversation_id = :conversation_id AND direction = 'outbound'
                   AND kind = :kind AND created_at >= :since LIMIT 1""",
            {
                "tenant_id": tenant_id,
                "conversation_id": conversation_id,
                "kind": kind,
                "since": since,
            },
        )
        return row is not None

    async def has_written_to(self, tenant_id: str, channel: str, address: str) -> bool:
        """Whether the customer ever got an outbound message (in any conversation)."""
        row = await self.db.fetch_one(
            """SELECT 1 AS found FROM conversations c JOIN messages m
                   ON m.tenant_id = c.tenant_id AND m.conversation_id = c.id
               WHERE c.tenant_id = :tenant_id AND c.channel = :channel
                   AND c.address = :address AND m.direction = 'outbound' LIMIT 1""",
            {"tenant_id": tenant_id, "channel": channel, "address": address},
        )
        return row is not None

    # turns

    async def start_turn(
        self, tenant_id: str, conversation_id: str, message_ids: Sequence[int]
    ) -> TurnRecord:
        """A new `running` turn owning these (still pending) inbound messages."""
        params = {
            "tenant_id": tenant_id,
            "conversation_id": conversation_id,
            "now": utc_now(),
            "ids": list(message_ids),
        }
        if self.db.dialect == "postgres":
            row = await self.db.fetch_one(_START_TURN_POSTGRES, params)
            assert row is not None
            return TurnRecord.from_row(row)
        async with self.db.transaction() as session:
            row = await session.fetch_one(_INSERT_TURN, params)
            assert row is not None
            turn = TurnRecord.from_row(row)
            await _assign(session, turn, message_ids)
        return turn

    async def retry_turn(self, turn: TurnRecord) -> TurnRecord:
        """Count one more attempt at a turn found unfinished (after a crash)."""
        row = await self.db.fetch_one(
            """UPDATE turns SET attempts = attempts + 1, updated_at = :now
               WHERE id = :id RETURNING *""",
            {"id": turn.id, "now": utc_now()},
        )
        assert row is not None
        return TurnRecord.from_row(row)

    async def turns(self, tenant_id: str, conversation_id: str) -> list[TurnRecord]:
        """The conversation's turns, oldest first."""
        rows = await self.db.fetch_all(
            """SELECT * FROM turns WHERE tenant_id = :tenant_id
                   AND conversation_id = :conversation_id ORDER BY id""",
            {"tenant_id": tenant_id, "conversation_id": conversation_id},
        )
        return [TurnRecord.from_row(row) for row in rows]

    async def turn_messages(self, turn_id: int) -> list[MessageRecord]:
        """The turn's inbound then outbound messages, in order."""
        rows = await self.db.fetch_all(
            "SELECT * FROM messages WHERE turn_id = :turn_id ORDER BY id", {"turn_id": turn_id}
        )
        return [MessageRecord.from_row(row) for row in rows]

    async def record_outbound(
        self,
        turn: TurnRecord,
        drafts: Sequence[OutboundDraft],
        *,
        status: str,
        handoff_reasons: Sequence[str] | None = None,
    ) -> list[MessageRecord]:
        """Record the turn's outbound messages (and a handoff) and mark it `replied`; the
        recorded messages, in order.

        `status` is `submitting` (sent right away), `pending` (left to the outbox) or
        `recorded` (no channel account). Records nothing when the turn was not `running`
        any more.
        """
        params: dict[str, Any] = {
            "id": turn.id,
            "tenant_id": turn.tenant_id,
            "conversation_id": turn.conversation_id,
            "status": status,
            "now": utc_now(),
            "reasons": json.dumps(list(handoff_reasons or [])),
        }
        handoff = ", status = 'pending', handoff_reasons = :reasons" if handoff_reasons else ""
        if self.db.dialect == "postgres":
            rows = await self.db.fetch_all(
                _RECORD_OUTBOUND_POSTGRES.format(handoff=handoff),
                {
                    **params,
                    "bodies": [d.body for d in drafts],
                    "kinds": [d.kind for d in drafts],
                    "sources": [json.dumps(list(d.sources)) for d in drafts],
                },
            )
            return sorted((MessageRecord.from_row(row) for row in rows), key=_seq)
        recorded: list[MessageRecord] = []
        async with self.db.transaction() as session:
            moved = await session.execute(_MARK_REPLIED, params)
            if not moved:
                return []
            for seq, draft in enumerate(drafts):
                row = await session.fetch_one(
                    _INSERT_OUTBOUND,
                    {
                        **params,
                        "body": draft.body,
                        "sources": json.dumps(list(draft.sources)),
                        "seq": seq,
                        "kind": draft.kind,
                    },
                )
                assert row is not None
                recorded.append(MessageRecord.from_row(row))
            await session.execute(_TOUCH_CONVERSATION.format(handoff=handoff), params)
        return recorded

    async def unsent(self, tenant_id: str, conversation_id: str) -> list[MessageRecord]:
        """The conversation's outbound messages not sent yet (the outbox), oldest first."""
        rows = await self.db.fetch_all(
            _WORK[4], {"tenant_id": tenant_id, "conversation_id": conversation_id}
        )
        return [MessageRecord.from_row(row) for row in rows]

    async def postpone(
        self, message_id: int, error: str, next_attempt_at: datetime, *, finish_turn: int | None
    ) -> None:
        """A send that did not settle: try again at `next_attempt_at` (looking it up at the
        channel first: `submitting`); with `finish_turn`, that turn is `done` too."""
        params = {"id": message_id, "error": error[:500], "next_attempt_at": next_attempt_at}
        await self._update_message(_POSTPONE, params, finish_turn)

    async def external_id_owner(self, tenant_id: str, external_id: str) -> int | None:
        """The message that has this channel id, if any."""
        row = await self.db.fetch_one(
            """SELECT id FROM messages WHERE tenant_id = :tenant_id
                   AND external_id = :external_id""",
            {"tenant_id": tenant_id, "external_id": external_id},
        )
        return int(row["id"]) if row else None

    async def mark_submitting(self, message_id: int) -> None:
        """About to call the channel's API: a crash from here on needs reconciling."""
        await self.db.execute(
            "UPDATE messages SET status = 'submitting' WHERE id = :id AND status = 'pending'",
            {"id": message_id},
        )

    async def mark_sent(
        self,
        message_id: int,
        external_id: str,
        status: str,
        *,
        note: str | None = None,
        finish_turn: int | None = None,
    ) -> None:
        """The channel accepted it: its id and first status (never moving a status back);
        `note`: what happened on the way (an earlier attempt's error is kept otherwise);
        with `finish_turn`, that turn is `done` in the same transaction."""
        params = {"id": message_id, "external_id": external_id, "status": status, "note": note}
        await self._update_message(_MARK_SENT, params, finish_turn)

    async def mark_failed(
        self, message_id: int, error: str, *, finish_turn: int | None = None
    ) -> None:
        """Sending it failed for good (with `finish_turn`: that turn is `done` too)."""
        params = {"id": message_id, "error": error[:500]}
        await self._update_message(_MARK_FAILED, params, finish_turn)

    async def finish_turn(self, turn_id: int) -> None:
        await self.db.execute(_FINISH_TURN, {"turn_id": turn_id, "now": utc_now()})

    async def _update_message(self, sql: str, params: dict[str, Any], turn_id: int | None) -> None:
        if turn_id is None:
            await self.db.execute(sql, params)
            return
        params = {**params, "turn_id": turn_id, "now": utc_now()}
        if self.db.dialect == "postgres":  # one statement, one round trip
            await self.db.execute(f"WITH message AS ({sql}) {_FINISH_TURN}", params)
            return
        async with self.db.transaction() as session:
            await session.execute(sql, params)
            await session.execute(_FINISH_TURN, params)

    async def record_delivery(self, tenant_id: str, external_id: str, status: str) -> bool | None:
        """A delivery status callback: True when it moved the status forward, False when it
        was stale or a repeat, None when no outbound message has that id."""
        rank = OUTBOUND_RANK.get(status)
        earlier = [
            name for name, value in OUTBOUND_RANK.items() if rank is not None and value < rank
        ]
        params: dict[str, Any] = {"tenant_id": tenant_id, "external_id": external_id}
        if earlier:
            names = ", ".join(f":s{i}" for i in range(len(earlier)))
            params.update({f"s{i}": name for i, name in enumerate(earlier)})
            params["status"] = status
            changed = await self.db.execute(
                f"""UPDATE messages SET status = :status WHERE tenant_id = :tenant_id
                    AND external_id = :external_id AND direction = 'outbound'
                    AND status IN ({names})""",
                params,
            )
            if changed:
                return True
        row = await self.db.fetch_one(
            """SELECT 1 AS found FROM messages WHERE tenant_id = :tenant_id
                   AND external_id = :external_id AND direction = 'outbound'""",
            params,
        )
        return False if row else None


def _seq(message: MessageRecord) -> int:
    return message.seq or 0


async def _assign(session: Session, turn: TurnRecord, message_ids: Sequence[int]) -> None:
    if not message_ids:
        return
    names = ", ".join(f":m{i}" for i in range(len(message_ids)))
    params: dict[str, Any] = {f"m{i}": value for i, value in enumerate(message_ids)}
    await session.execute(
        f"""UPDATE messages SET pending = FALSE, turn_id = :turn_id
            WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id
                AND pending AND id IN ({names})""",
        {
            **params,
            "turn_id": turn.id,
            "tenant_id": turn.tenant_id,
            "conversation_id": turn.conversation_id,
        },
    )
