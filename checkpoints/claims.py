"""Conversation claims: one queued turn at a time per conversation, across processes.

- Postgres: a session-level advisory lock per conversation, held on a connection of a
  small dedicated pool for as long as the turn runs. Postgres drops it when the holder's
  connection ends, however the process ends, so a crashed worker never blocks a
  conversation: the next claimant resumes its unfinished turn. The holder may run its own
  statements on that connection (`Claim.db`), and its first reads go in the same round
  trip as the lock.
- SQLite: one process owns the data folder (`DataDirLock`), so an in-process set is enough.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

import psycopg
from psycopg.rows import DictRow

from checkpoints.database import Database, Params, PgPool, Row, open_pool

log = logging.getLogger(__name__)

# First key of the two-key advisory lock space: "turn" (the second is hashtext(id)).
CLAIM_NAMESPACE = 0x7475726E
_LOCK = "SELECT pg_try_advisory_lock(:namespace::int, hashtext(:id)) AS held"


@dataclass(frozen=True)
class Claim:
    """Truthy while this process holds the conversation."""

    held: bool
    rows: list[list[Row]] = field(default_factory=list)
    """What the `reads` given to `hold` returned, read once the conversation was held
    (empty when the claims did not run them: read them yourself)."""
    db: Database | None = None
    """The holder's connection, for statements of the claimed turn (None: use your own)."""

    def __bool__(self) -> bool:
        return self.held


class ConversationClaims(Protocol):
    """Try-lock per conversation id."""

    def hold(
        self, conversation_id: str, reads: Sequence[tuple[str, Params]] = ()
    ) -> AbstractAsyncContextManager[Claim]:
        """A true `Claim` while this process holds the conversation, false when another does."""
        ...

    async def close(self) -> None: ...


class LocalClaims:
    """Claims within one process (the embedded SQLite deployment)."""

    def __init__(self) -> None:
        self._held: set[str] = set()

    @asynccontextmanager
    async def hold(
        self, conversation_id: str, reads: Sequence[tuple[str, Params]] = ()
    ) -> AsyncIterator[Claim]:
        if conversation_id in self._held:
            yield Claim(False)
            return
        self._held.add(conversation_id)
        try:
            yield Claim(True)
        finally:
            self._held.discard(conversation_id)

    async def close(self) -> None:
        self._held.clear()


class PostgresClaims:
    """Advisory-lock claims; `size` connections bound how many turns run at once."""

    def __init__(self, pool: PgPool):
        self._pool = pool

    @classmethod
    async def open(cls, url: str, size: int) -> PostgresClaims:
        pool = await open_pool(url, name="atiende-claims", max_size=size)
        return cls(pool)

    @asynccontextmanager
    async def hold(
        self, conversation_id: str, reads: Sequence[tuple[str, Params]] = ()
    ) -> AsyncIterator[Claim]:
        async with self._pool.connection() as conn:
            db = Database.on_connection(conn)
            # one round trip: the lock, then the reads (which only count when it was taken)
            lock = {"namespace": CLAIM_NAMESPACE, "id": conversation_id}
            found = await db.fetch_batch([(_LOCK, lock), *reads])
            if not (found[0] and found[0][0]["held"]):
                yield Claim(False)
                return
            try:
                yield Claim(True, found[1:], db)
            finally:
                await _unlock(conn, conversation_id)

    async def close(self) -> None:
        await self._pool.close()


async def _unlock(conn: psycopg.AsyncConnection[DictRow], conversation_id: str) -> None:
    try:
        await conn.execute(
            "SELECT pg_advisory_unlock(%s::int, hashtext(%s))", (CLAIM_NAMESPACE, conversation_id)
        )
    except psycopg.Error:  # the connection is gone, and the lock with it
        log.warning("claim_unlock_failed", extra={"conversation_id": conversation_id})


@asynccontextmanager
async def open_claims(url: str | None, size: int) -> AsyncIterator[ConversationClaims]:
    """Open claims for the database at `url` (None: SQLite, in-process)."""
    claims: ConversationClaims
    claims = await PostgresClaims.open(url, size) if url else LocalClaims()
    try:
        yield claims
    finally:
        await claims.close()
