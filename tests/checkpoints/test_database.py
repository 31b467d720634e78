"""`Database` on both backends: placeholders, rows as dicts, transactions, timestamps, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from checkpoints.database import Database, IntegrityError, to_psycopg
from checkpoints.persistence import Persistence


def test_placeholders_become_psycopg_named_params() -> None:
    sql = "SELECT :a, x::text, '%' || :b_2 FROM t WHERE y = :a"
    assert to_psycopg(sql) == "SELECT %(a)s, x::text, '%%' || %(b_2)s FROM t WHERE y = %(a)s"


@pytest.fixture
def db(persistence: Persistence) -> Database:
    return persistence.db


async def _make_table(db: Database) -> None:
    await db.execute(
        "CREATE TABLE sample (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE, at TIMESTAMPTZ)"
    )


async def test_execute_returns_rowcount_and_fetch_returns_dicts(db: Database) -> None:
    await _make_table(db)
    for i in range(3):
        assert (
            await db.execute(
                "INSERT INTO sample (id, label) VALUES (:id, :label)", {"id": i, "label": f"l{i}"}
            )
            == 1
        )
    assert await db.execute("UPDATE sample SET label = label || '!' WHERE id > :n", {"n": 0}) == 2
    assert await db.fetch_all("SELECT id, label FROM sample ORDER BY id") == [
        {"id": 0, "label": "l0"},
        {"id": 1, "label": "l1!"},
        {"id": 2, "label": "l2!"},
    ]
    assert await db.fetch_one("SELECT label FROM sample WHERE id = :id", {"id": 2}) == {
        "label": "l2!"
    }
    assert await db.fetch_one("SELECT label FROM sample WHERE id = :id", {"id": 9}) is None


async def test_timestamps_round_trip_as_aware_utc(db: Database) -> None:
    await _make_table(db)
    mexico = timezone(timedelta(hours=-6))
    local = datetime(2025, 3, 1, 9, 30, 0, tzinfo=mexico)
    await db.execute("INSERT INTO sample VALUES (1, 'a', :at)", {"at": local})
    await db.execute(
        "INSERT INTO sample VALUES (2, 'b', :at)", {"at": local + timedelta(seconds=1)}
    )
    row = await db.fetch_one("SELECT at FROM sample WHERE id = 1")
    assert row is not None
    assert row["at"] == local
    assert row["at"].utcoffset() == timedelta(0)
    later = await db.fetch_all(
        "SELECT id FROM sample WHERE at > :cut", {"cut": datetime(2025, 3, 1, 15, 30, tzinfo=UTC)}
    )
    assert later == [{"id": 2}]


async def test_transaction_commits_or_rolls_back(db: Database) -> None:
    await _make_table(db)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO sample (id, label) VALUES (1, 'kept')")
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO sample (id, label) VALUES (2, 'lost')")
            assert await tx.fetch_one("SELECT COUNT(*) AS n FROM sample") == {"n": 2}
            raise RuntimeError("boom")
    assert await db.fetch_all("SELECT label FROM sample") == [{"label": "kept"}]


async def test_constraint_violations_raise_integrity_error(db: Database) -> None:
    await _make_table(db)
    await db.execute("INSERT INTO sample (id, label) VALUES (1, 'x')")
    with pytest.raises(IntegrityError):
        await db.execute("INSERT INTO sample (id, label) VALUES (2, 'x')")
    with pytest.raises(IntegrityError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO sample (id, label) VALUES (3, 'y')")
            await tx.execute("INSERT INTO sample (id, label) VALUES (4, 'y')")
    assert await db.fetch_all("SELECT id FROM sample") == [{"id": 1}]
    # the database is still usable after the failed transaction
    assert await db.execute("INSERT INTO sample (id, label) VALUES (5, 'z')") == 1


async def test_dialect_matches_backend(persistence: Persistence) -> None:
    assert persistence.db.dialect == persistence.backend
