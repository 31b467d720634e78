"""`ServiceStore`: the service's own tables (tenants, conversations, messages)."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterable, Mapping
from typing import Any

from checkpoints.database import Database, IntegrityError, utc_now
from checkpoints.records import (
    CONVERSATION_STATUSES,
    MESSAGE_DIRECTIONS,
    ConversationRecord,
    ConversationStatus,
    MessageDirection,
    MessageRecord,
    TenantRecord,
)

TENANT_EDITABLE_FIELDS = frozenset(
    {
        "name",
        "company_name",
        "persona",
        "welcome_message",
        "default_language",
        "handoff_message",
        "settings",
        "enabled",
    }
)
CONVERSATION_ID_ALPHABET = string.ascii_lowercase + string.digits
CONVERSATION_ID_LENGTH = 12
_OPEN_ATTEMPTS = 5


class TenantExists(Exception):
    """A tenant with this id already exists."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"tenant {tenant_id!r} already exists")
        self.tenant_id = tenant_id


class ConversationNotFound(Exception):
    """No such conversation for this tenant."""

    def __init__(self, tenant_id: str, conversation_id: str) -> None:
        super().__init__(f"conversation {conversation_id!r} of tenant {tenant_id!r} not found")
        self.tenant_id = tenant_id
        self.conversation_id = conversation_id


class TenantNotFound(Exception):
    """No such tenant."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"tenant {tenant_id!r} not found")
        self.tenant_id = tenant_id


class OpenConversationExists(Exception):
    """Re-opening a closed conversation while its customer already has an open one."""


class _Replay(Exception):
    """Internal: rolls back `add_message` when the external id was already recorded."""


def new_conversation_id() -> str:
    """A short random id (12 chars of [a-z0-9], ~62 bits)."""
    return "".join(secrets.choice(CONVERSATION_ID_ALPHABET) for _ in range(CONVERSATION_ID_LENGTH))


class ServiceStore:
    """Reads and writes the service tables; every method is scoped by tenant."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # tenants

    async def create_tenant(self, tenant: TenantRecord) -> TenantRecord:
        """Insert a tenant (its timestamps are set here); raises `TenantExists`."""
        now = utc_now()
        inserted = await self.db.execute(
            """INSERT INTO tenants (id, name, company_name, persona, welcome_message,
                   default_language, handoff_message, settings, enabled, created_at, updated_at)
               VALUES (:id, :name, :company_name, :persona, :welcome_message,
                   :default_language, :handoff_message, :settings, :enabled, :now, :now)
               ON CONFLICT (id) DO NOTHING""",
            {
                "id": tenant.id,
                "name": tenant.name,
                "company_name": tenant.company_name,
                "persona": tenant.persona,
                "welcome_message": tenant.welcome_message,
                "default_language": tenant.default_language,
                "handoff_message": tenant.handoff_message,
                "settings": json.dumps(tenant.settings),
                "enabled": tenant.enabled,
                "now": now,
            },
        )
        if inserted == 0:
            raise TenantExists(tenant.id)
        created = await self.get_tenant(tenant.id)
        assert created is not None
        return created

    async def get_tenant(self, tenant_id: str) -> TenantRecord | None:
        row = await self.db.fetch_one("SELECT * FROM tenants WHERE id = :id", {"id": tenant_id})
        return TenantRecord.from_row(row) if row else None

    async def list_tenants(self) -> list[TenantRecord]:
        """Every tenant, by id."""
        rows = await self.db.fetch_all("SELECT * FROM tenants ORDER BY id")
        return [TenantRecord.from_row(row) for row in rows]

    async def update_tenant(
        self, tenant_id: str, changes: Mapping[str, Any]
    ) -> TenantRecord | None:
        """Set the given fields (`settings` is replaced whole); None when there is no such tenant.

        Raises `ValueError` for a field that is not editable (id, timestamps, unknown names).
        """
        unknown = set(changes) - TENANT_EDITABLE_FIELDS
        if unknown:
            raise ValueError(f"not editable tenant fields: {', '.join(sorted(unknown))}")
        if "settings" in changes and not isinstance(changes["settings"], dict):
            raise ValueError("tenant settings must be a JSON object")
        params: dict[str, Any] = {"id": tenant_id, "updated_at": utc_now()}
        assignments = ["updated_at = :updated_at"]
        for name in sorted(changes):  # names come from the allow-list above, never from input
            value = changes[name]
            params[name] = json.dumps(value) if name == "settings" else value
            assignments.append(f"{name} = :{name}")
        updated = await self.db.execute(
            f"UPDATE tenants SET {', '.join(assignments)} WHERE id = :id", params
        )
        return await self.get_tenant(tenant_id) if updated else None

    async def delete_tenant(self, tenant_id: str) -> bool:
        """Delete a tenant with its conversations and messages; False when there was none."""
        return await self.db.execute("DELETE FROM tenants WHERE id = :id", {"id": tenant_id}) > 0

    async def conversation_ids(self, tenant_id: str) -> list[str]:
        """Every conversation id of the tenant (the ids of its LangGraph threads)."""
        rows = await self.db.fetch_all(
            "SELECT id FROM conversations WHERE tenant_id = :id", {"id": tenant_id}
        )
        return [row["id"] for row in rows]

    # conversations

    async def open_conversation(
        self, tenant_id: str, channel: str, address: str
    ) -> ConversationRecord:
        """The customer's open (non-closed) conversation, created (status `bot`) when none.

        Race-safe: concurrent callers for one customer all get the same conversation.
        Raises `TenantNotFound`.
        """
        key = {"tenant_id": tenant_id, "channel": channel, "address": address}
        for _ in range(_OPEN_ATTEMPTS):
            row = await self.db.fetch_one(
                """SELECT * FROM conversations WHERE tenant_id = :tenant_id
                   AND channel = :channel AND address = :address AND status <> 'closed'""",
                key,
            )
            if row:
                return ConversationRecord.from_row(row)
            try:
                row = await self.db.fetch_one(
                    """INSERT INTO conversations (id, tenant_id, channel, address, status,
                           handoff_reasons, created_at, updated_at)
                       VALUES (:id, :tenant_id, :channel, :address, 'bot', '[]', :now, :now)
                       ON CONFLICT DO NOTHING RETURNING *""",
                    {**key, "id": new_conversation_id(), "now": utc_now()},
                )
            except IntegrityError as exc:  # the only constraint left: the tenant foreign key
                raise TenantNotFound(tenant_id) from exc
            if row:
                return ConversationRecord.from_row(row)
        raise RuntimeError(f"could not open a conversation for {channel}:{address}")

    async def get_conversation(
        self, tenant_id: str, conversation_id: str
    ) -> ConversationRecord | None:
        row = await self.db.fetch_one(
            "SELECT * FROM conversations WHERE tenant_id = :tenant_id AND id = :id",
            {"tenant_id": tenant_id, "id": conversation_id},
        )
        return ConversationRecord.from_row(row) if row else None

    async def list_conversations(
        self,
        tenant_id: str,
        status: ConversationStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ConversationRecord]:
        """The tenant's conversations, most recently active first."""
        if status is not None:
            _check_status(status)
        rows = await self.db.fetch_all(
            f"""SELECT * FROM conversations WHERE tenant_id = :tenant_id
                {"AND status = :status" if status else ""}
                ORDER BY updated_at DESC, id DESC LIMIT :limit OFFSET :offset""",
            {"tenant_id": tenant_id, "status": status, "limit": limit, "offset": offset},
        )
        return [ConversationRecord.from_row(row) for row in rows]

    async def set_conversation_status(
        self,
        tenant_id: str,
        conversation_id: str,
        status: ConversationStatus,
        reasons: Iterable[str] | None = None,
    ) -> ConversationRecord | None:
        """Set the status (and the handoff reasons, when given; None keeps them).

        None when there is no such conversation; raises `OpenConversationExists` when
        re-opening a closed conversation whose customer already has another open one.
        """
        _check_status(status)
        params: dict[str, Any] = {
            "tenant_id": tenant_id,
            "id": conversation_id,
            "status": status,
            "now": utc_now(),
        }
        extra = ""
        if reasons is not None:
            params["reasons"] = json.dumps(list(reasons))
            extra = ", handoff_reasons = :reasons"
        try:
            updated = await self.db.execute(
                f"""UPDATE conversations SET status = :status, updated_at = :now{extra}
                    WHERE tenant_id = :tenant_id AND id = :id""",
                params,
            )
        except IntegrityError as exc:
            raise OpenConversationExists(
                f"customer of conversation {conversation_id!r} already has an open one"
            ) from exc
        return await self.get_conversation(tenant_id, conversation_id) if updated else None

    # messages

    async def add_message(
        self,
        tenant_id: str,
        conversation_id: str,
        *,
        direction: MessageDirection,
        author: str,
        body: str,
        status: str | None = None,
        sources: Iterable[str] = (),
        external_id: str | None = None,
    ) -> MessageRecord | None:
        """Record a message and mark the conversation active.

        `status` defaults to `received` (inbound) or `queued` (outbound). Idempotent on
        `(tenant_id, external_id)`: a replay (e.g. Twilio retrying a webhook) returns None
        and changes nothing; fetch the original with `get_message_by_external_id`.
        Raises `ConversationNotFound`.
        """
        if direction not in MESSAGE_DIRECTIONS:
            raise ValueError(f"unknown message direction {direction!r}")
        now = utc_now()
        params = {
            "tenant_id": tenant_id,
            "conversation_id": conversation_id,
            "direction": direction,
            "author": author,
            "body": body,
            "status": status or ("received" if direction == "inbound" else "queued"),
            "sources": json.dumps(list(sources)),
            "external_id": external_id,
            "now": now,
        }
        try:
            async with self.db.transaction() as session:
                touched = await session.execute(
                    """UPDATE conversations SET updated_at = :now
                       WHERE tenant_id = :tenant_id AND id = :conversation_id""",
                    params,
                )
                if not touched:
                    raise ConversationNotFound(tenant_id, conversation_id)
                row = await session.fetch_one(
                    """INSERT INTO messages (tenant_id, conversation_id, direction, author,
                           body, status, sources, external_id, created_at)
                       VALUES (:tenant_id, :conversation_id, :direction, :author,
                           :body, :status, :sources, :external_id, :now)
                       ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL
                       DO NOTHING RETURNING *""",
                    params,
                )
                if row is None:
                    raise _Replay
        except _Replay:
            return None
        return MessageRecord.from_row(row)

    async def get_message_by_external_id(
        self, tenant_id: str, external_id: str
    ) -> MessageRecord | None:
        row = await self.db.fetch_one(
            "SELECT * FROM messages WHERE tenant_id = :tenant_id AND external_id = :external_id",
            {"tenant_id": tenant_id, "external_id": external_id},
        )
        return MessageRecord.from_row(row) if row else None

    async def update_message(
        self,
        tenant_id: str,
        message_id: int,
        *,
        status: str | None = None,
        external_id: str | None = None,
    ) -> MessageRecord | None:
        """Set a message's status and/or external id (after sending); None when not found."""
        params: dict[str, Any] = {"tenant_id": tenant_id, "id": message_id}
        assignments = []
        if status is not None:
            params["status"] = status
            assignments.append("status = :status")
        if external_id is not None:
            params["external_id"] = external_id
            assignments.append("external_id = :external_id")
        if assignments:
            await self.db.execute(
                f"""UPDATE messages SET {", ".join(assignments)}
                    WHERE tenant_id = :tenant_id AND id = :id""",
                params,
            )
        row = await self.db.fetch_one(
            "SELECT * FROM messages WHERE tenant_id = :tenant_id AND id = :id", params
        )
        return MessageRecord.from_row(row) if row else None

    async def set_message_status_by_external_id(
        self, tenant_id: str, external_id: str, status: str
    ) -> bool:
        """Record a delivery status reported by the channel; False when the id is unknown."""
        changed = await self.db.execute(
            """UPDATE messages SET status = :status
               WHERE tenant_id = :tenant_id AND external_id = :external_id""",
            {"tenant_id": tenant_id, "external_id": external_id, "status": status},
        )
        return changed > 0

    async def list_messages(
        self,
        tenant_id: str,
        conversation_id: str,
        *,
        after_id: int = 0,
        limit: int | None = None,
    ) -> list[MessageRecord]:
        """The conversation's messages in order (oldest first), those after `after_id` only."""
        rows = await self.db.fetch_all(
            f"""SELECT * FROM messages WHERE tenant_id = :tenant_id
                AND conversation_id = :conversation_id AND id > :after_id
                ORDER BY id {"LIMIT :limit" if limit is not None else ""}""",
            {
                "tenant_id": tenant_id,
                "conversation_id": conversation_id,
                "after_id": after_id,
                "limit": limit,
            },
        )
        return [MessageRecord.from_row(row) for row in rows]

    async def count_messages(
        self,
        tenant_id: str,
        conversation_id: str | None = None,
        *,
        direction: MessageDirection | None = None,
    ) -> int:
        """How many messages the tenant (or one conversation of it) has, optionally one way."""
        clauses = ["tenant_id = :tenant_id"]
        params: dict[str, Any] = {"tenant_id": tenant_id}
        if conversation_id is not None:
            clauses.append("conversation_id = :conversation_id")
            params["conversation_id"] = conversation_id
        if direction is not None:
            clauses.append("direction = :direction")
            params["direction"] = direction
        row = await self.db.fetch_one(
            f"SELECT COUNT(*) AS n FROM messages WHERE {' AND '.join(clauses)}", params
        )
        return int(row["n"]) if row else 0


def _check_status(status: str) -> None:
    if status not in CONVERSATION_STATUSES:
        raise ValueError(f"unknown conversation status {status!r}")
