"""Conversation claims: one queued turn at a time per conversation, across processes.

- Postgres: a session-level advisory lock per conversation, held on a connection of a
  small dedicated pool for as long as the turn runs. Postgres drops it when the holder's
  connection ends, however the process ends, so a crashed worker never blocks a
  conversation: the next claimant resumes its unfinished turn.
- SQLite: one process owns the data folder (`DataDirLock`), so an in-process set is enough.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import psycopg
from psycopg_pool import AsyncConnectionPool

from checkpoints.database import IdleCheck

log = logging.getLogger(__name__)

# First key of the two-key advisory lock space: "turn" (the second is hashtext(id)).
CLAIM_NAMESPACE = 0x7475726E


class ConversationClaims(Protocol):
    """Try-lock per conversation id."""

    def hold(self, conversation_id: str) -> AbstractAsyncContextManager[bool]:
        """Yields True while this process holds the conversation, False when another does."""
        ...

    async def close(self) -> None: ...


class LocalClaims:
    """Claims within one process (the embedded SQLite deployment)."""

    def __init__(self) -> None:
        self._held: set[str] = set()

    @asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[bool]:
        if conversation_id in self._held:
            yield False
            return
        self._held.add(conversation_id)
        try:
            yield True
        finally:
            self._held.discard(conversation_id)

    async def close(self) -> None:
        self._held.clear()


class PostgresClaims:
    """Advisory-lock claims; `size` connections bound how many turns run at once."""

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[tuple[object, ...]]]):
        self._pool = pool

    @classmethod
    async def open(cls, url: str, size: int) -> PostgresClaims:
        pool: AsyncConnectionPool[psycopg.AsyncConnection[tuple[object, ...]]] = (
            AsyncConnectionPool(
                url,
                min_size=1,
                max_size=size,
                kwargs={"autocommit": True, "prepare_threshold": 0},
                check=IdleCheck.check,
                reset=IdleCheck.returned,
                name="atiende-claims",
                open=False,
            )
        )
        await pool.open(wait=True, timeout=10.0)
        return cls(pool)

    @asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[bool]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT pg_try_advisory_lock(%s::int, hashtext(%s))",
                (CLAIM_NAMESPACE, conversation_id),
            )
            row = await cursor.fetchone()
            if not (row and row[0]):
                yield False
                return
            try:
                yield True
            finally:
                await _unlock(conn, conversation_id)

    async def close(self) -> None:
        await self._pool.close()


async def _unlock(conn: psycopg.AsyncConnection[tuple[object, ...]], conversation_id: str) -> None:
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
