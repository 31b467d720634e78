"""Flat checkpoint storage: the thread keeps the whole conversation, each turn stores ~constant
bytes (the `messages` DeltaChannel), on the real SQLite and Postgres savers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from checkpoints.persistence import Persistence, open_persistence
from config.settings import Settings
from evals.bench_checkpoints import (
    CONTEXT,
    TARGET_BYTES_PER_TURN,
    per_turn_at,
    run_conversation,
    thread_bytes,
)
from graph.builder import build_graph
from server.demo import DEMO_DOCUMENTS
from tools.knowledge import open_knowledge_base
from tools.knowledge.shared import use_knowledge_base

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def persistence(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Persistence]:
    url = None if request.param == "sqlite" else request.getfixturevalue("fresh_postgres_url")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        app_env="test",
        data_dir=tmp_path / "data",
        database_url=url,
        llm_mode="extractive",
        qdrant_url=None,
        qdrant_host=None,
    )
    knowledge = open_knowledge_base(settings)
    knowledge.upsert(CONTEXT.tenant_id, DEMO_DOCUMENTS)
    use_knowledge_base(knowledge)
    try:
        async with open_persistence(settings) as opened:
            yield opened
    finally:
        use_knowledge_base(None)
        knowledge.close()


async def test_storage_per_turn_stays_flat(persistence: Persistence, offline: None) -> None:
    figures, kept = await run_conversation(persistence, 40, "exit", "growing")
    assert kept == 80  # the thread keeps every message
    early, late = per_turn_at(figures, 10), per_turn_at(figures, 40)
    assert early is not None and late is not None
    assert late <= 1.15 * early, (early, late)
    assert late <= TARGET_BYTES_PER_TURN
    assert max(f.bytes_turn for f in figures[1:]) <= 1.3 * early


async def test_state_reads_updates_and_deletes_work(
    persistence: Persistence, offline: None
) -> None:
    graph = build_graph().compile(checkpointer=persistence.checkpointer, store=persistence.store)
    config: RunnableConfig = {"configurable": {"thread_id": "t-1"}}
    first = await graph.ainvoke(
        {"messages": [HumanMessage("¿cuál es el horario?", id="in-1")], "customer": "cli:ana"},
        config,
        context=CONTEXT,
        durability="exit",
    )
    assert [m.type for m in first["messages"]] == ["human", "ai"]
    # While a human owns it, messages are only recorded (as the server does).
    await graph.aupdate_state(
        config, {"messages": [HumanMessage("¿hola?", id="in-2")]}, as_node="summarizer"
    )
    await graph.aupdate_state(
        config, {"messages": [AIMessage("Soy Luis, te ayudo.", name="Luis")]}, as_node="summarizer"
    )
    # A retried write of the same message (same id) is not duplicated.
    await graph.aupdate_state(
        config, {"messages": [HumanMessage("¿hola?", id="in-2")]}, as_node="summarizer"
    )
    second = await graph.ainvoke(
        {"messages": [HumanMessage("¿aceptan devoluciones?", id="in-3")]},
        config,
        context=CONTEXT,
        durability="exit",
    )
    texts = [m.text for m in second["messages"]]
    assert texts[:4] == [
        "¿cuál es el horario?",
        first["messages"][1].text,
        "¿hola?",
        "Soy Luis, te ayudo.",
    ]
    assert texts[4] == "¿aceptan devoluciones?" and len(texts) == 6
    state = await graph.aget_state(config)
    assert [m.text for m in state.values["messages"]] == texts
    assert state.values["customer"] == "cli:ana" and state.values["turns"] == 2
    assert await thread_bytes(persistence, "t-1") > 0
    await persistence.checkpointer.adelete_thread("t-1")
    assert await thread_bytes(persistence, "t-1") == 0
    assert (await graph.aget_state(config)).values == {}


@pytest.mark.slow
def test_bench_under_strict_msgpack(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "LANGGRAPH_STRICT_MSGPACK": "true",
        "PYTHONWARNINGS": "always",
    }
    run = subprocess.run(
        [sys.executable, "-m", "evals.bench_checkpoints", "--turns", "12"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert (
        result["messages_in_thread"] == 24
        and result["bytes_per_turn_at_10"] < TARGET_BYTES_PER_TURN
    )
    assert "blocked" not in run.stderr.lower() and "unregistered" not in run.stderr.lower()
