"""Migrations: applied once, idempotent, safe when several processes start together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from checkpoints.database import Database
from checkpoints.migrations import MIGRATIONS, Migration, migrate, schema_version
from checkpoints.persistence import sqlite_path
from config.settings import Settings

LATEST = max(m.version for m in MIGRATIONS)


async def _connect(settings: Settings) -> Database:
    if settings.uses_postgres:
        assert settings.database_url
        return await Database.connect_postgres(settings.database_url, max_size=2)
    path = sqlite_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return await Database.connect_sqlite(path)


@pytest.fixture
async def fresh_db(backend_settings: Settings) -> AsyncIterator[Database]:
    db = await _connect(backend_settings)
    yield db
    await db.close()


async def _tables(db: Database) -> set[str]:
    if db.dialect == "sqlite":
        rows = await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = await db.fetch_all(
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema()"
        )
    return {row["name"] for row in rows}


async def test_migrate_creates_tables_once(fresh_db: Database) -> None:
    assert await migrate(fresh_db) == [m.version for m in MIGRATIONS]
    assert {"tenants", "conversations", "messages", "schema_migrations"} <= await _tables(fresh_db)
    assert await migrate(fresh_db) == []
    assert await schema_version(fresh_db) == LATEST
    rows = await fresh_db.fetch_all("SELECT version FROM schema_migrations")
    assert [row["version"] for row in rows] == [m.version for m in MIGRATIONS]


async def test_a_new_migration_is_applied_on_top(fresh_db: Database) -> None:
    await migrate(fresh_db)
    extra = Migration(LATEST + 1, "notes", ("CREATE TABLE notes (id {serial_pk}, body TEXT)",))
    assert await migrate(fresh_db, (*MIGRATIONS, extra)) == [LATEST + 1]
    await fresh_db.execute("INSERT INTO notes (body) VALUES ('a')")
    await fresh_db.execute("INSERT INTO notes (body) VALUES ('b')")
    assert await fresh_db.fetch_all("SELECT id, body FROM notes ORDER BY id") == [
        {"id": 1, "body": "a"},
        {"id": 2, "body": "b"},
    ]


async def test_a_failing_migration_leaves_nothing_behind(fresh_db: Database) -> None:
    await migrate(fresh_db)
    broken = Migration(LATEST + 1, "broken", ("CREATE TABLE half (id INTEGER)", "NOT SQL"))
    with pytest.raises(Exception):  # noqa: B017 - the driver's syntax error
        await migrate(fresh_db, (*MIGRATIONS, broken))
    assert "half" not in await _tables(fresh_db)
    assert await schema_version(fresh_db) == LATEST


async def test_concurrent_migrations_apply_each_version_once(backend_settings: Settings) -> None:
    starters = [await _connect(backend_settings) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(db) for db in starters))
    finally:
        for db in starters:
            await db.close()
    applied = sorted(v for result in results for v in result)
    assert applied == [m.version for m in MIGRATIONS]
    check = await _connect(backend_settings)
    try:
        assert await schema_version(check) == LATEST
    finally:
        await check.close()
