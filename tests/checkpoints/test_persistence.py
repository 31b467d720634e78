"""`open_persistence`: LangGraph saver and store on both backends, surviving a restart."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph

from checkpoints.persistence import open_persistence, sqlite_path
from checkpoints.records import TenantRecord
from config.settings import Settings


@dataclass
class EchoState:
    messages: Annotated[list[AnyMessage], add_messages] = field(default_factory=list)
    turns: int = 0


async def echo(state: EchoState) -> dict[str, object]:
    return {
        "messages": [AIMessage(content=f"turn {state.turns + 1}: {state.messages[-1].content}")],
        "turns": state.turns + 1,
    }


def echo_graph() -> StateGraph[EchoState]:
    builder = StateGraph(EchoState)
    builder.add_node("echo", echo)
    builder.add_edge(START, "echo")
    builder.add_edge("echo", END)
    return builder


async def say(app: CompiledStateGraph[Any], thread: str, text: str) -> dict[str, Any]:
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    result: dict[str, Any] = await app.ainvoke({"messages": [HumanMessage(content=text)]}, config)
    return result


async def test_conversation_continues_after_restart(backend_settings: Settings) -> None:
    async with open_persistence(backend_settings) as persistence:
        app = echo_graph().compile(checkpointer=persistence.checkpointer)
        await say(app, "conv-1", "hola")
        second = await say(app, "conv-1", "¿horario?")
        assert second["turns"] == 2
        assert len(second["messages"]) == 4
        other = await say(app, "conv-2", "hi")
        assert other["turns"] == 1

    async with open_persistence(backend_settings) as reopened:
        app = echo_graph().compile(checkpointer=reopened.checkpointer)
        snapshot = await app.aget_state({"configurable": {"thread_id": "conv-1"}})
        assert snapshot.values["turns"] == 2
        third = await say(app, "conv-1", "gracias")
        assert third["turns"] == 3
        contents = [m.content for m in third["messages"]]
        assert contents == [
            "hola",
            "turn 1: hola",
            "¿horario?",
            "turn 2: ¿horario?",
            "gracias",
            "turn 3: gracias",
        ]
        assert isinstance(third["messages"][0], HumanMessage)


async def test_long_term_store_survives_restart(backend_settings: Settings) -> None:
    namespace = ("acme", "whatsapp", "+5215512345678")
    async with open_persistence(backend_settings) as persistence:
        await persistence.store.aput(namespace, "profile", {"name": "Ana", "lang": "es"})
    async with open_persistence(backend_settings) as reopened:
        item = await reopened.store.aget(namespace, "profile")
        assert item is not None and item.value == {"name": "Ana", "lang": "es"}
        found = await reopened.store.asearch(("acme",))
        assert [i.key for i in found] == ["profile"]


async def test_service_tables_survive_restart_and_ping(backend_settings: Settings) -> None:
    async with open_persistence(backend_settings) as persistence:
        assert persistence.backend == ("postgres" if backend_settings.uses_postgres else "sqlite")
        assert await persistence.ping() is True
        await persistence.service.create_tenant(TenantRecord(id="acme", name="Acme"))
    async with open_persistence(backend_settings) as reopened:
        assert [t.id for t in await reopened.service.list_tenants()] == ["acme"]
    assert await reopened.ping() is False  # closed


@pytest.mark.postgres
async def test_replicas_starting_together_on_a_fresh_database(
    fresh_postgres_url: str, tmp_path: Path, make_settings: Callable[[Path, str | None], Settings]
) -> None:
    settings = make_settings(tmp_path, fresh_postgres_url)

    async def start_and_write(n: int) -> int:
        async with open_persistence(settings, pool_max_size=3) as persistence:
            app = echo_graph().compile(checkpointer=persistence.checkpointer)
            result = await say(app, f"t{n}", "hola")
            await persistence.store.aput(("replica",), str(n), {"n": n})
            return int(result["turns"])

    assert await asyncio.gather(*(start_and_write(n) for n in range(3))) == [1, 1, 1]


def test_sqlite_location(
    tmp_path: Path, make_settings: Callable[[Path, str | None], Settings]
) -> None:
    assert sqlite_path(make_settings(tmp_path, None)) == tmp_path / "atiende.sqlite"
    assert sqlite_path(make_settings(tmp_path, "sqlite:///x/y.db")) == Path("x/y.db")
    with pytest.raises(ValueError, match="DATABASE_URL"):
        sqlite_path(make_settings(tmp_path, "mysql://nope"))


async def test_sqlite_file_is_created_under_data_dir(
    tmp_path: Path, make_settings: Callable[[Path, str | None], Settings]
) -> None:
    data_dir = tmp_path / "nested" / "data"
    async with open_persistence(make_settings(data_dir, None)) as persistence:
        assert persistence.backend == "sqlite"
    assert (data_dir / "atiende.sqlite").is_file()


STRICT_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from langchain_core.messages import AIMessage, HumanMessage
    from langgraph.checkpoint.serde import _msgpack
    from langgraph.graph import END, START, StateGraph
    from checkpoints.persistence import open_persistence
    from config.settings import Settings
    from graph.state import ConversationState

    assert _msgpack.STRICT_MSGPACK_ENABLED

    async def reply(state: ConversationState) -> dict:
        return {"messages": [AIMessage(content="ok")], "turns": state.turns + 1,
                "passages": [{"document_id": "d1", "text": "t", "score": 0.5}]}

    async def main() -> None:
        builder = StateGraph(ConversationState)
        builder.add_node("reply", reply)
        builder.add_edge(START, "reply")
        builder.add_edge("reply", END)
        settings = Settings(_env_file=None, app_env="test", data_dir=Path(sys.argv[1]))
        config = {"configurable": {"thread_id": "t"}}
        for expected in (1, 2):
            async with open_persistence(settings) as p:
                app = builder.compile(checkpointer=p.checkpointer)
                out = await app.ainvoke({"messages": [HumanMessage(content="hola")]}, config)
                assert out["turns"] == expected, out
                assert isinstance(out["messages"][0], HumanMessage)
        print("OK")

    asyncio.run(main())
    """
)


def test_conversation_state_round_trips_under_strict_msgpack(tmp_path: Path) -> None:
    """LANGGRAPH_STRICT_MSGPACK=true (a real langgraph setting) does not break our state."""
    env = {**os.environ, "LANGGRAPH_STRICT_MSGPACK": "true"}
    done = subprocess.run(
        [sys.executable, "-c", STRICT_SCRIPT, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "OK"
    assert "unregistered type" not in done.stderr
