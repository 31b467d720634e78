"""The faults of issue 11 (item 10), each played against a real `atiende serve` process on
the throwaway cluster: customers write, the fault strikes at the moment it hurts, what was
broken comes back, the server is left to finish, and the outcome is counted."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fakes.openai_server import FakeOpenAIServer, Hang, write_litellm_config
from fakes.qdrant_server import FakeQdrant
from fakes.twilio_server import FakeTwilio
from fault_record import FaultRow
from fault_rig import fault_rig
from throwaway_postgres import ThrowawayCluster

from tools.embeddings import LOCAL_EMBEDDING_DIM

Play = Callable[[ThrowawayCluster, Path, str], FaultRow]


def happens(condition: Callable[[], bool], timeout: float) -> bool:
    """Wait for `condition` (the moment to strike); False when it never came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def postgres_killed_mid_burst(cluster: ThrowawayCluster, workdir: Path, label: str) -> FaultRow:
    """50 customers at once; when about half the replies are out (each customer gets a
    welcome and a reply), SIGKILL the postmaster and its backends, restart it 3 s later."""
    with FakeTwilio() as twilio, fault_rig(cluster, workdir, "postgres", twilio) as rig:
        twilio.delay = 0.05  # sends that take a moment: turns are mid-way when it dies
        began = time.monotonic()
        rig.burst(50)
        happens(lambda: twilio.arrived >= 50, timeout=180)
        struck_at = twilio.arrived
        cluster.kill()
        time.sleep(3)
        cluster.start()
        settled = rig.settle(timeout=180)
        row = rig.count(label, settled, time.monotonic() - began)
        row.details["struck_after_twilio_creates"] = struck_at
        return row


def twilio_times_out_after_accepting(
    cluster: ThrowawayCluster, workdir: Path, label: str
) -> FaultRow:
    """Twilio takes the first 6 messages but answers none of them within the sender's
    1 s timeout (it hangs 3 s, then closes the connection)."""
    with (
        FakeTwilio() as twilio,
        fault_rig(cluster, workdir, "timeout", twilio, TWILIO_TIMEOUT_SECONDS="1") as rig,
    ):
        twilio.hang_seconds = 3.0
        twilio.accept_then(*["hang"] * 6)
        began = time.monotonic()
        rig.burst(10)
        settled = rig.settle(timeout=120)
        return rig.count(label, settled, time.monotonic() - began)


def twilio_drops_or_fails_after_accepting(
    cluster: ThrowawayCluster, workdir: Path, label: str
) -> FaultRow:
    """Twilio takes the first 6 messages, then drops the connection or answers 502."""
    with FakeTwilio() as twilio, fault_rig(cluster, workdir, "dropped", twilio) as rig:
        twilio.accept_then("drop", 502, "drop", 502, "drop", 502)
        began = time.monotonic()
        rig.burst(10)
        settled = rig.settle(timeout=120)
        return rig.count(label, settled, time.monotonic() - began)


def twilio_down_for_a_minute(cluster: ThrowawayCluster, workdir: Path, label: str) -> FaultRow:
    """Twilio's API refuses every connection for 60 s while 10 customers write."""
    with FakeTwilio() as twilio, fault_rig(cluster, workdir, "outage", twilio) as rig:
        began = time.monotonic()
        twilio.go_down(60)
        rig.burst(10)
        happens(lambda: not twilio.is_down, timeout=90)
        settled = rig.settle(timeout=180)
        return rig.count(label, settled, time.monotonic() - began)


def knowledge_engine_raising(cluster: ThrowawayCluster, workdir: Path, label: str) -> FaultRow:
    """The server's Qdrant answers every search with HTTP 500 (the retriever raises)."""
    with (
        FakeTwilio() as twilio,
        FakeQdrant(LOCAL_EMBEDDING_DIM, failing=True) as qdrant,
        fault_rig(cluster, workdir, "knowledge", twilio, QDRANT_URL=qdrant.url) as rig,
    ):
        began = time.monotonic()
        rig.burst(10)
        settled = rig.settle(timeout=120)
        row = rig.count(label, settled, time.monotonic() - began)
        row.details["searches_failed"] = qdrant.failed
        return row


def llm_hanging(cluster: ThrowawayCluster, workdir: Path, label: str) -> FaultRow:
    """Every LLM deployment (responder, its fallback, summarizer) accepts the request and
    never answers; the provider timeouts (60 s) are longer than the turn budget (3 s)."""
    with FakeTwilio() as twilio, FakeOpenAIServer() as llm:
        for route in ("primary", "fallback", "premium"):
            llm.always(route, Hang(120))
        config = write_litellm_config(
            llm, workdir / "litellm-hang.yaml", primary_timeout=60, fallback_timeout=60
        )
        env = {"LLM_MODE": "llm", "LITELLM_CONFIG": str(config), "TURN_BUDGET_SECONDS": "3"}
        with fault_rig(cluster, workdir, "llm", twilio, **env) as rig:
            began = time.monotonic()
            rig.burst(10)
            settled = rig.settle(timeout=120)
            row = rig.count(label, settled, time.monotonic() - began)
            row.details["llm_requests"] = len(llm.requests())
            return row


def server_killed_mid_turn(cluster: ThrowawayCluster, workdir: Path, label: str) -> FaultRow:
    """10 customers write; once their turns are sending (Twilio takes 1 s a message), 10 more
    write, and the server is SIGKILLed at once: turns die mid-send, in the graph and in the
    quiet window. It starts again on the same port and data folder."""
    with FakeTwilio() as twilio, fault_rig(cluster, workdir, "sigkill", twilio) as rig:
        twilio.delay = 1.0
        began = time.monotonic()
        rig.burst(10)
        happens(lambda: twilio.arrived >= 5, timeout=120)
        rig.burst(10)
        struck_at = twilio.arrived
        rig.server.kill()
        twilio.delay = 0.0
        rig.server.start(timeout=180)
        settled = rig.settle(timeout=120)
        row = rig.count(label, settled, time.monotonic() - began)
        row.details["struck_after_twilio_creates"] = struck_at
        return row


Schedule = Literal["alone", "beside", "in_turn"]


@dataclass(frozen=True)
class Fault:
    name: str
    label: str
    play: Play
    schedule: Schedule = "in_turn"
    """`alone`: it kills the shared cluster, so nothing runs beside it; `beside`: it mostly
    waits (an outage), so the `in_turn` faults run one after the other beside it."""

    def run(self, cluster: ThrowawayCluster, workdir: Path) -> FaultRow:
        """Play the fault; a fault that could not be played is a row saying why."""
        try:
            return self.play(cluster, workdir, self.label)
        except Exception as error:
            return FaultRow(self.label, details={"crashed": f"{type(error).__name__}: {error}"})


FAULTS = (
    Fault(
        "postgres",
        "Postgres killed + restarted mid-burst (50)",
        postgres_killed_mid_burst,
        "alone",
    ),
    Fault("timeout", "Twilio times out after accepting", twilio_times_out_after_accepting),
    Fault("dropped", "Twilio drops / 502 after accepting", twilio_drops_or_fails_after_accepting),
    Fault("outage", "Twilio down for 60 s", twilio_down_for_a_minute, "beside"),
    Fault("knowledge", "knowledge engine raising", knowledge_engine_raising),
    Fault("llm", "LLM hanging", llm_hanging),
    Fault("sigkill", "server SIGKILLed mid-turn", server_killed_mid_turn),
)


def play(faults: Sequence[Fault], cluster: ThrowawayCluster, workdir: Path) -> list[FaultRow]:
    """Play `faults` on `cluster` (each on its own database and server), by their schedule;
    their rows in the order given."""
    rows: dict[str, FaultRow] = {}
    for fault in faults:
        if fault.schedule == "alone":
            rows[fault.name] = fault.run(cluster, workdir)
    beside = [fault for fault in faults if fault.schedule == "beside"]
    with ThreadPoolExecutor(max_workers=max(1, len(beside))) as pool:
        waiting = {fault.name: pool.submit(fault.run, cluster, workdir) for fault in beside}
        for fault in faults:
            if fault.schedule == "in_turn":
                rows[fault.name] = fault.run(cluster, workdir)
        rows.update({name: future.result() for name, future in waiting.items()})
    return [rows[fault.name] for fault in faults]
