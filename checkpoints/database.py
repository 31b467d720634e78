"""`Database`: one tiny async SQL interface over SQLite (aiosqlite) or Postgres (a psycopg pool).

SQL is written once with `:name` placeholders (no `:word` inside string literals, please);
for psycopg it is translated to `%(name)s`. Rows come back as dicts; `TIMESTAMPTZ` columns
come back as timezone-aware UTC datetimes on both backends, and datetime parameters are
accepted on both (SQLite stores them as fixed-width ISO-8601 text, so they sort correctly).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeAlias

import aiosqlite
import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

Dialect = Literal["sqlite", "postgres"]
Params: TypeAlias = Mapping[str, Any] | None
Row: TypeAlias = dict[str, Any]
PgPool: TypeAlias = AsyncConnectionPool[psycopg.AsyncConnection[DictRow]]

SQLITE_BUSY_TIMEOUT_SECONDS = 10.0
_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class IntegrityError(Exception):
    """A constraint (unique, foreign key, check, not null) rejected a write."""


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _sqlite_timestamp(value: bytes) -> datetime:
    parsed = datetime.fromisoformat(value.decode())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# Only connections opened with detect_types (ours) use converters; the name is ours alone.
sqlite3.register_converter("TIMESTAMPTZ", _sqlite_timestamp)


def _sqlite_param(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    return value


@lru_cache(maxsize=512)
def to_psycopg(sql: str) -> str:
    """Translate `:name` placeholders to psycopg's `%(name)s` (escaping literal `%`)."""
    return _PLACEHOLDER.sub(r"%(\1)s", sql.replace("%", "%%"))


async def _configure_postgres(connection: psycopg.AsyncConnection[DictRow]) -> None:
    """Every connection talks UTC."""
    await connection.execute("SET TIME ZONE 'UTC'")


class _IdleCheck:
    """Check a pooled connection before use only when it sat idle for a while.

    A check is one round trip; doing it on every checkout doubled the cost of each
    statement. A connection used within IDLE_SECONDS is known to be alive.
    """

    IDLE_SECONDS = 5.0
    _returned_at: ClassVar[dict[int, float]] = {}

    @classmethod
    async def returned(cls, connection: psycopg.AsyncConnection[Any]) -> None:
        cls._returned_at[id(connection)] = time.monotonic()

    @classmethod
    async def check(cls, connection: psycopg.AsyncConnection[Any]) -> None:
        at = cls._returned_at.pop(id(connection), None)
        if at is None or time.monotonic() - at > cls.IDLE_SECONDS:
            await AsyncConnectionPool.check_connection(connection)


def _dict_factory(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class Session:
    """Runs statements on one connection: what `Database.transaction()` yields."""

    def __init__(
        self, dialect: Dialect, connection: aiosqlite.Connection | psycopg.AsyncConnection[DictRow]
    ) -> None:
        self.dialect: Dialect = dialect
        self._connection = connection

    async def execute(self, sql: str, params: Params = None) -> int:
        """Run one statement; the number of rows it changed."""
        try:
            if isinstance(self._connection, aiosqlite.Connection):
                async with self._connection.execute(sql, self._sqlite(params)) as lite:
                    return lite.rowcount
            pg = await self._connection.execute(*self._psycopg(sql, params))
            return pg.rowcount
        except (sqlite3.IntegrityError, psycopg.errors.IntegrityError) as exc:
            raise IntegrityError(str(exc)) from exc

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        """Every row of a query (or of a statement with RETURNING)."""
        try:
            if isinstance(self._connection, aiosqlite.Connection):
                async with self._connection.execute(sql, self._sqlite(params)) as lite:
                    return list(await lite.fetchall())  # type: ignore[arg-type]
            pg = await self._connection.execute(*self._psycopg(sql, params))
            return await pg.fetchall() if pg.description else []
        except (sqlite3.IntegrityError, psycopg.errors.IntegrityError) as exc:
            raise IntegrityError(str(exc)) from exc

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        """The first row, or None."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    @staticmethod
    def _sqlite(params: Params) -> dict[str, Any]:
        return {key: _sqlite_param(value) for key, value in (params or {}).items()}

    @staticmethod
    def _psycopg(sql: str, params: Params) -> tuple[Any, Any]:
        if params is None:
            return sql, None
        return to_psycopg(sql), dict(params)


async def open_pool(
    url: str, *, name: str, min_size: int = 1, max_size: int = 10, connect_seconds: float = 10.0
) -> PgPool:
    """Open a Postgres pool (autocommit, dict rows, no prepared statements, UTC, idle
    connections checked before use), waiting up to `connect_seconds` for one connection."""
    pool: PgPool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"autocommit": True, "row_factory": dict_row, "prepare_threshold": 0},
        configure=_configure_postgres,
        check=_IdleCheck.check,
        reset=_IdleCheck.returned,
        name=name,
        open=False,
    )
    try:
        await pool.open(wait=True, timeout=connect_seconds)
    except BaseException:
        await pool.close()
        raise
    return pool


class Database:
    """One SQLite connection (serialised by a lock) or one Postgres connection pool."""

    def __init__(
        self,
        dialect: Dialect,
        *,
        sqlite: aiosqlite.Connection | None = None,
        pool: PgPool | None = None,
    ) -> None:
        self.dialect: Dialect = dialect
        self._sqlite = sqlite
        self._pool = pool
        self._connection: psycopg.AsyncConnection[DictRow] | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def on_connection(cls, connection: psycopg.AsyncConnection[DictRow]) -> Database:
        """Statements on one Postgres connection the caller holds (and closes), one at a time."""
        db = cls("postgres")
        db._connection = connection
        return db

    @classmethod
    async def connect_sqlite(cls, path: Path | str) -> Database:
        """Open the SQLite file (WAL, foreign keys on, busy timeout), autocommit mode."""
        connection = await aiosqlite.connect(
            path,
            isolation_level=None,
            timeout=SQLITE_BUSY_TIMEOUT_SECONDS,
            detect_types=sqlite3.PARSE_DECLTYPES,
        )
        connection.row_factory = _dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA foreign_keys=ON")
        await connection.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
        return cls("sqlite", sqlite=connection)

    @classmethod
    async def connect_postgres(
        cls, url: str, *, min_size: int = 1, max_size: int = 10, connect_seconds: float = 10.0
    ) -> Database:
        """Open the service's pool (see `open_pool`)."""
        pool = await open_pool(
            url,
            name="atiende",
            min_size=min_size,
            max_size=max_size,
            connect_seconds=connect_seconds,
        )
        return cls("postgres", pool=pool)

    @property
    def pool(self) -> PgPool:
        """The Postgres pool (shared with the LangGraph saver and store)."""
        if self._pool is None:
            raise RuntimeError("not a Postgres database")
        return self._pool

    async def execute(self, sql: str, params: Params = None) -> int:
        """Run one statement in its own transaction; the number of rows it changed."""
        async with self._session() as session:
            return await session.execute(sql, params)

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        """Every row of a query."""
        async with self._session() as session:
            return await session.fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        """The first row of a query, or None."""
        async with self._session() as session:
            return await session.fetch_one(sql, params)

    async def fetch_batch(self, statements: Sequence[tuple[str, Params]]) -> list[list[Row]]:
        """The rows of several queries, in one round trip (a Postgres pipeline: one implicit
        transaction, so one snapshot)."""
        if self.dialect == "sqlite":
            async with self._session() as session:
                return [await session.fetch_all(sql, params) for sql, params in statements]
        async with self._postgres() as pg:
            async with pg.pipeline():
                cursors = [await pg.execute(*Session._psycopg(sql, p)) for sql, p in statements]
            return [await cursor.fetchall() for cursor in cursors]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """A transaction: commits on exit, rolls back on an exception.

        Run its statements on the yielded session, not on the database. On SQLite it is
        `BEGIN IMMEDIATE` (takes the write lock up front, so it never fails half-way with
        SQLITE_BUSY) and excludes every other statement of this `Database` until it ends.
        """
        if self.dialect == "postgres":
            async with self._postgres() as pg, pg.transaction():
                yield Session("postgres", pg)
            return
        lite = self._require_sqlite()
        async with self._lock:
            await lite.execute("BEGIN IMMEDIATE")
            try:
                yield Session("sqlite", lite)
            except BaseException:
                await lite.execute("ROLLBACK")
                raise
            await lite.execute("COMMIT")

    async def close(self) -> None:
        """Close the connection or the pool."""
        if self._pool is not None:
            await self._pool.close()
        if self._sqlite is not None:
            await self._sqlite.close()

    @asynccontextmanager
    async def _postgres(self) -> AsyncIterator[psycopg.AsyncConnection[DictRow]]:
        if self._connection is not None:
            yield self._connection
            return
        async with self.pool.connection() as pg:
            yield pg

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[Session]:
        if self.dialect == "postgres":
            async with self._postgres() as pg:
                yield Session("postgres", pg)
            return
        async with self._lock:
            yield Session("sqlite", self._require_sqlite())

    def _require_sqlite(self) -> aiosqlite.Connection:
        if self._sqlite is None:
            raise RuntimeError("database has no connection")
        return self._sqlite
