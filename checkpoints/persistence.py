"""`open_persistence`: everything the service stores, on SQLite (embedded) or Postgres.

- SQLite (default): the file `<data_dir>/atiende.sqlite`, or the path of a
  `DATABASE_URL=sqlite:///path`. The service tables, the LangGraph checkpointer and the
  LangGraph store each get their own connection to it (each has its own lock and
  transaction handling, so sharing one connection would let their transactions mix).
- Postgres (`DATABASE_URL=postgresql://...`): one pool shared by the service tables, the
  checkpointer and the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.store.base import BaseStore
from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.sqlite.aio import AsyncSqliteStore
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from checkpoints.database import SQLITE_BUSY_TIMEOUT_SECONDS, Database, PgPool
from checkpoints.migrations import migrate
from checkpoints.postgres_saver import InlinePostgresSaver
from checkpoints.service import ServiceStore
from config.settings import Settings

Backend = Literal["sqlite", "postgres"]
SQLITE_FILENAME = "atiende.sqlite"
# Session-level advisory lock around LangGraph's own (unlocked) setup() migrations.
LANGGRAPH_SETUP_LOCK_KEY = 0x61_74_69_65_6E_64_65_02
LANGGRAPH_SETUP_TIMEOUT_SECONDS = 300.0

logger = logging.getLogger(__name__)


@dataclass
class Persistence:
    """The open persistence layer: hand `checkpointer` and `store` to `graph.compile()`."""

    backend: Backend
    db: Database
    service: ServiceStore
    checkpointer: BaseCheckpointSaver[str]
    store: BaseStore

    async def ping(self, within_seconds: float = 2.0) -> bool:
        """Whether the database answers a trivial query within `within_seconds`."""
        try:
            row = await asyncio.wait_for(self.db.fetch_one("SELECT 1 AS ok"), within_seconds)
        except Exception:
            logger.warning("database_ping_failed", exc_info=True)
            return False
        return row is not None and row["ok"] == 1


def sqlite_path(settings: Settings) -> Path:
    """The SQLite file used when `database_url` is not a Postgres URL."""
    url = settings.database_url
    if url and url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    if url and not settings.uses_postgres:
        raise ValueError("DATABASE_URL must be postgresql://... or sqlite:///path")
    return Path(settings.data_dir) / SQLITE_FILENAME


@asynccontextmanager
async def open_persistence(
    settings: Settings, *, pool_max_size: int = 10
) -> AsyncIterator[Persistence]:
    """Open the database, apply migrations, set up the saver and store; close all on exit."""
    if settings.uses_postgres:
        assert settings.database_url is not None
        opener = _open_postgres(settings.database_url, max(2, pool_max_size))
    else:
        opener = _open_sqlite(sqlite_path(settings))
    async with opener as persistence:
        yield persistence


@asynccontextmanager
async def _open_sqlite(path: Path) -> AsyncIterator[Persistence]:
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        db = await Database.connect_sqlite(path)
        stack.push_async_callback(db.close)
        await migrate(db)
        saver_conn = await stack.enter_async_context(
            aiosqlite.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
        )
        checkpointer = AsyncSqliteSaver(saver_conn)
        await checkpointer.setup()
        store_conn = await stack.enter_async_context(
            aiosqlite.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS, isolation_level=None)
        )
        store = await stack.enter_async_context(AsyncSqliteStore(store_conn))
        await store.setup()
        logger.info("persistence_open", extra={"backend": "sqlite", "path": str(path)})
        yield Persistence("sqlite", db, ServiceStore(db), checkpointer, store)


@asynccontextmanager
async def _open_postgres(url: str, max_size: int) -> AsyncIterator[Persistence]:
    db = await Database.connect_postgres(url, max_size=max_size)
    try:
        await migrate(db)
        checkpointer = InlinePostgresSaver(conn=db.pool)
        store = AsyncPostgresStore(conn=db.pool)
        await _setup_langgraph(db.pool, checkpointer, store)
        async with store:
            logger.info("persistence_open", extra={"backend": "postgres"})
            yield Persistence("postgres", db, ServiceStore(db), checkpointer, store)
    finally:
        await db.close()


async def _setup_langgraph(
    pool: PgPool, checkpointer: AsyncPostgresSaver, store: AsyncPostgresStore
) -> None:
    """Run LangGraph's setup() under an advisory lock so replicas starting together don't race.

    The lock is polled with pg_try_advisory_lock, not waited for: the saver's migrations run
    CREATE INDEX CONCURRENTLY, which waits for every older snapshot in the database, and a
    session blocked in pg_advisory_lock holds one (a deadlock Postgres cannot see).
    """
    deadline = asyncio.get_running_loop().time() + LANGGRAPH_SETUP_TIMEOUT_SECONDS
    async with pool.connection() as conn:
        while not await _try_lock(conn):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("another replica is still setting up the LangGraph tables")
            await asyncio.sleep(0.1)
        try:
            await checkpointer.setup()
            await store.setup()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (LANGGRAPH_SETUP_LOCK_KEY,))


async def _try_lock(conn: AsyncConnection[DictRow]) -> bool:
    cursor = await conn.execute(
        "SELECT pg_try_advisory_lock(%s) AS locked", (LANGGRAPH_SETUP_LOCK_KEY,)
    )
    row = await cursor.fetchone()
    return bool(row and row["locked"])
