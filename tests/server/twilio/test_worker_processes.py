"""Server processes on one Postgres: claims across processes, SIGKILL and restart.

Real `atiende serve` subprocesses, a fresh Postgres database, the fake Twilio on loopback.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fakes.polling import wait_until
from fakes.twilio_server import FakeTwilio
from psycopg.rows import dict_row
from twilio_support import ADMIN_KEY, ServerProcess, form, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
HOOK = "/webhooks/whatsapp/demo"


def query(url: str, sql: str) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql).fetchall()


def settled(url: str) -> bool:
    rows = query(
        url,
        """SELECT (SELECT COUNT(*) FROM messages WHERE pending) AS pending,
                  (SELECT COUNT(*) FROM turns WHERE status <> 'done') AS open,
                  (SELECT COUNT(*) FROM turns) AS turns""",
    )
    return rows[0]["pending"] == 0 and rows[0]["open"] == 0 and rows[0]["turns"] > 0


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def test_two_worker_processes_never_interleave_on_one_conversation(
    fresh_postgres_url: str, twilio: FakeTwilio, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    env = server_env(
        fresh_postgres_url, twilio, DEBOUNCE_SECONDS="0.05", WEBHOOK_TENANT_CACHE_SECONDS="0"
    )
    twilio.delay = 0.05  # turns that take a while, so both workers see work at once
    for name in ("a", "b"):
        servers.append(ServerProcess(tmp_path / f"data-{name}", env).start())
    # Every turn must be answered here: no handoff may silence the later turns, whatever
    # the bursts' grouping makes of "pregunta N" (fallbacks in a row, a repeated question).
    never = {"max_fallbacks": 20, "loop_similarity": 1.0, "sentiment_threshold": -1.0}
    patched = httpx.patch(
        f"{servers[0].url}/admin/tenants/demo",
        json={"handoff": never},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=10,
    )
    assert patched.status_code == 200, patched.text
    for i in range(16):
        target = servers[i % 2]
        assert (
            target.post(HOOK, form(f"SMi{i}", f"pregunta {i}"), twilio.auth_token).status_code
            == 200
        )
        time.sleep(0.04 * (i % 4))
    wait_until(lambda: settled(fresh_postgres_url), timeout=60)
    turns = query(fresh_postgres_url, "SELECT * FROM turns ORDER BY created_at")
    assert len(turns) >= 2
    for earlier, later in itertools.pairwise(turns):
        assert later["created_at"] >= earlier["updated_at"], "two turns overlapped"
    inbound = query(fresh_postgres_url, "SELECT turn_id FROM messages WHERE direction = 'inbound'")
    assert len(inbound) == 16 and all(r["turn_id"] is not None for r in inbound)
    outbound = query(
        fresh_postgres_url,
        "SELECT turn_id, kind, external_id FROM messages WHERE direction = 'outbound'",
    )
    replies = [r["turn_id"] for r in outbound if r["kind"] == "reply"]
    assert sorted(replies) == sorted(t["id"] for t in turns)  # one reply per turn
    assert sorted(m.sid for m in twilio.messages) == sorted(r["external_id"] for r in outbound)


def test_killed_in_the_middle_of_a_burst_and_restarted_sends_one_reply(
    fresh_postgres_url: str, twilio: FakeTwilio, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    env = server_env(fresh_postgres_url, twilio, DEBOUNCE_SECONDS="2")
    data_dir = tmp_path / "data"
    first = ServerProcess(data_dir, env).start()
    servers.append(first)
    burst = ["hola", "tengo una duda", "¿cuál es", "el horario", "de atención?"]
    for i, text in enumerate(burst):
        assert first.post(HOOK, form(f"SMk{i}", text), twilio.auth_token).status_code == 200
    first.kill()  # within the quiet window: the burst is stored, not answered
    assert twilio.arrived == 0 and not settled(fresh_postgres_url)
    second = ServerProcess(data_dir, env)
    second.port, second.url = first.port, first.url
    servers.append(second.start())
    for i, text in enumerate(burst[2:], start=2):  # Twilio retrying deliveries: ignored
        assert second.post(HOOK, form(f"SMk{i}", text), twilio.auth_token).status_code == 200
    wait_until(lambda: settled(fresh_postgres_url), timeout=30)
    time.sleep(0.5)
    assert len(query(fresh_postgres_url, "SELECT id FROM turns")) == 1
    bodies = twilio.bodies()
    assert len(bodies) == 2 and "9:00" in bodies[1]


def test_killed_while_sending_and_restarted_sends_each_message_once(
    fresh_postgres_url: str, twilio: FakeTwilio, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    env = server_env(fresh_postgres_url, twilio, DEBOUNCE_SECONDS="0.05")
    data_dir = tmp_path / "data"
    first = ServerProcess(data_dir, env).start()
    servers.append(first)
    twilio.delay = 1.0
    first.post(HOOK, form("SMs1", "¿aceptan devoluciones?"), twilio.auth_token)
    wait_until(lambda: twilio.arrived >= 1, timeout=20)  # the welcome is on its way
    first.kill()
    twilio.wait_for(1)  # Twilio did take it, but the server never heard back
    twilio.delay = 0.0
    servers.append(ServerProcess(data_dir, env).start())
    wait_until(lambda: settled(fresh_postgres_url), timeout=30)
    bodies = twilio.bodies()
    assert len(bodies) == 2 and "Tienda Luna" in bodies[0] and "30 días" in bodies[1]
    outbound = query(
        fresh_postgres_url,
        "SELECT status, external_id FROM messages WHERE direction = 'outbound' ORDER BY seq",
    )
    assert [r["external_id"] for r in outbound] == [m.sid for m in twilio.messages]
    assert query(fresh_postgres_url, "SELECT attempts FROM turns")[0]["attempts"] == 1
