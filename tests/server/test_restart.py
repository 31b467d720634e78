"""A conversation continues after the process restarts (SQLite, and Postgres in CI)."""

from __future__ import annotations

from langchain_core.messages import HumanMessage

from config.settings import Settings
from server.services import open_services
from server.turns import run_turn


async def test_conversation_continues_after_restart(settings: Settings) -> None:
    async with open_services(settings) as services:
        tenant = await services.store.get_tenant("demo")
        assert tenant is not None
        first = await run_turn(services, tenant, "cli", "ana", "¿hacen envíos a Monterrey?")
    async with open_services(settings) as services:
        second = await run_turn(services, tenant, "cli", "ana", "¿y aceptan Mercado Pago?")
        state = await services.graph.aget_state(
            {"configurable": {"thread_id": second.conversation_id}}
        )
    assert second.conversation_id == first.conversation_id
    asked = [m.text for m in state.values["messages"] if isinstance(m, HumanMessage)]
    assert asked == ["¿hacen envíos a Monterrey?", "¿y aceptan Mercado Pago?"]
    assert state.values["turns"] == 2 and second.sources == ["pagos"]
