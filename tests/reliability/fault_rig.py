"""One fault's world: a database on the throwaway cluster, the fake Twilio, an `atiende serve`
process on them, the customers' webhooks, the wait until the server is done, the count."""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from fakes.server_process import ServerProcess, form, server_env
from fakes.twilio_server import FakeTwilio
from fault_record import AdminRecord, FaultRow, Inbound, count_fault
from psycopg.rows import dict_row
from throwaway_postgres import ThrowawayCluster

from server.demo import DEMO_TENANT

HOOK = "/webhooks/whatsapp/demo"
QUESTIONS = (
    "¿Cuál es su horario de atención el sábado? Soy el cliente {n}.",
    "¿En cuántos días llega el envío estándar a Puebla? Pedido {n}.",
    "¿Aceptan devoluciones de un producto sin usar? Compra {n}.",
    "¿Puedo pagar en OXXO mi pedido {n}?",
    "¿Dónde está su tienda física? Quiero recoger el pedido {n}.",
    "¿Cuánto cuesta el envío express para el pedido {n}?",
)
"""Questions the demo shop's knowledge answers; `{n}` makes every customer's text unique."""
QUICK_SERVER = {
    "DEBOUNCE_SECONDS": "0.2",
    "WORKER_POLL_SECONDS": "0.05",
    "TWILIO_TIMEOUT_SECONDS": "5",
    "TWILIO_SEND_ATTEMPTS": "3",
    "TWILIO_RETRY_BASE_SECONDS": "0.2",
    "TURN_BUDGET_SECONDS": "10",
    "WEBHOOK_TENANT_CACHE_SECONDS": "0",
}
"""Short quiet windows, timeouts and retries, so that every fault plays out in seconds."""
UNSENT = ("pending", "submitting")
SETTLED_FOR = 3.0
"""Seconds the record must stay unchanged, with nothing left to do, to count as settled."""
LOST_QUIET = 15.0
"""The same while some message is neither answered nor handed over."""


def still_working(database_url: str) -> dict[str, int] | None:
    """What the server has left to do (messages waiting for a turn, unfinished turns,
    outbound messages not sent yet, outbox retries), or None when the database can't say."""
    try:
        with psycopg.connect(database_url, row_factory=dict_row, connect_timeout=3) as conn:
            row = conn.execute(
                """SELECT (SELECT COUNT(*) FROM messages WHERE pending) AS waiting,
                          (SELECT COUNT(*) FROM turns WHERE status <> 'done') AS unfinished,
                          (SELECT COUNT(*) FROM messages WHERE direction = 'outbound'
                              AND (status = ANY(%s) OR status LIKE '%%retry%%')) AS unsent""",
                (list(UNSENT),),
            ).fetchone()
    except psycopg.Error:
        return None
    assert row is not None
    return {name: int(value) for name, value in row.items()}


class FaultRig:
    """The server of one fault on its own database; `burst()` posts customers' messages,
    `settle()` waits until the server is done, `count()` makes the table's row."""

    def __init__(
        self,
        cluster: ThrowawayCluster,
        workdir: Path,
        name: str,
        twilio: FakeTwilio,
        **env: str,
    ) -> None:
        self.name = name
        self.twilio = twilio
        self.database_url = cluster.create_database(f"faults_{name}")
        folder = workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        self.server = ServerProcess(
            folder / "data", server_env(self.database_url, twilio, **{**QUICK_SERVER, **env})
        )
        self.sent: list[Inbound] = []
        self.record = AdminRecord(self.server.url)

    def burst(self, count: int, parallel: int = 8) -> list[Inbound]:
        """One message from each of `count` new customers, posted at once (signed webhooks)."""
        first = len(self.sent)
        numbers = range(first, first + count)
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            posted = list(pool.map(self._post, numbers))
        self.sent += posted
        return posted

    def _post(self, n: int) -> Inbound:
        customer = f"+52155{n:08d}"
        body = QUESTIONS[n % len(QUESTIONS)].format(n=1000 + n)
        params = form(f"SM{self.name[:8]}{n:024d}", body, sender=f"whatsapp:{customer}")
        accepted = False
        with contextlib.suppress(httpx.HTTPError):
            response = self.server.post(HOOK, params, self.twilio.auth_token)
            accepted = response.status_code == 200
        return Inbound(customer, body, accepted)

    def settle(self, timeout: float = 120.0) -> bool:
        """Wait until nothing is left to do and the record stays the same for SETTLED_FOR
        seconds, or LOST_QUIET seconds while some message is still lost (a retry may be
        due later). False when `timeout` ran out first: the count shows what is missing."""
        deadline = time.monotonic() + timeout
        last: Any = None
        since = time.monotonic()
        covered: bool | None = None  # every message answered or handed over, for `last`
        while time.monotonic() < deadline:
            work = still_working(self.database_url)
            snapshot = (work, len(self.twilio.messages), self._record_snapshot())
            if snapshot != last:
                last, since, covered = snapshot, time.monotonic(), None
            elif work is not None and not any(work.values()):
                quiet = time.monotonic() - since
                if quiet >= SETTLED_FOR and covered is None:
                    with contextlib.suppress(httpx.HTTPError):
                        row = self.count("", True, 0.0)
                        covered = row.answered + row.handed_over == row.sent
                if quiet >= LOST_QUIET or (quiet >= SETTLED_FOR and covered):
                    return True
            time.sleep(0.5)
        return False

    def _record_snapshot(self) -> Any:
        with contextlib.suppress(httpx.HTTPError):
            conversations = self.record.get("/conversations", limit=200)["conversations"]
            return tuple((c["id"], c["status"], c["updated_at"]) for c in conversations)
        return None

    def count(self, fault: str, settled: bool, seconds: float) -> FaultRow:
        row = count_fault(
            fault,
            self.sent,
            self.record.conversations(),
            self.record.queue(),
            list(self.twilio.messages),
            DEMO_TENANT.welcome_message,
        )
        row.details.update(
            settled=settled,
            seconds=round(seconds, 1),
            twilio_creates=self.twilio.arrived,
            twilio_unanswered=self.twilio.dropped,
            server_warnings=self.log_warnings(),
        )
        return row

    def log_warnings(self) -> dict[str, int]:
        """How often the server logged each warning or error event (the log has no bodies)."""
        events: Counter[str] = Counter()
        with contextlib.suppress(OSError):
            for line in self.server.log_path.read_text(errors="replace").splitlines():
                with contextlib.suppress(ValueError, AttributeError):
                    entry = json.loads(line)
                    if entry.get("level") in ("warning", "error", "critical"):
                        events[str(entry.get("event"))[:80]] += 1
        return dict(events.most_common(12))


@contextmanager
def fault_rig(
    cluster: ThrowawayCluster, workdir: Path, name: str, twilio: FakeTwilio, **env: str
) -> Iterator[FaultRig]:
    """A started FaultRig, stopped on exit."""
    rig = FaultRig(cluster, workdir, name, twilio, **env)
    try:
        rig.server.start(timeout=180)
        yield rig
    finally:
        rig.server.stop()
