"""Both paths through the compiled graph, offline, with an in-memory checkpointer."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from graph.builder import build_graph, graph
from graph.context import TenantContext

pytestmark = pytest.mark.usefixtures("knowledge", "offline")
CONTEXT = TenantContext(tenant_id="shop", company_name="Tienda Luna")


def test_module_graph_has_no_checkpointer_and_all_nodes() -> None:
    assert graph.checkpointer is None
    assert {
        "sentiment",
        "handoff_router",
        "retriever",
        "responder",
        "hand_over",
        "summarizer",
    } <= set(graph.get_graph().nodes)


async def turn(compiled, text: str, thread: str = "t1") -> dict:  # type: ignore[no-untyped-def]
    config = {"configurable": {"thread_id": thread}}
    return await compiled.ainvoke(
        {"messages": [HumanMessage(text)]}, config=config, context=CONTEXT
    )


async def test_answer_path_then_handoff_path() -> None:
    compiled = build_graph().compile(checkpointer=InMemorySaver())
    answered = await turn(compiled, "¿aceptan pagos con tarjeta?")
    assert answered["handoff"] is False and answered["sources"] == ["pagos"]
    assert "Visa" in answered["messages"][-1].content
    handed = await turn(compiled, "quiero hablar con un asesor por favor")
    assert handed["handoff"] is True and handed["handoff_reasons"] == ["explicit"]
    assert handed["summary"] and len(handed["messages"]) == 4
    assert handed["turns"] == 2


async def test_three_fallbacks_hand_over_on_the_third() -> None:
    compiled = build_graph().compile(checkpointer=InMemorySaver())
    first = await turn(compiled, "¿venden refacciones de autos?")
    second = await turn(compiled, "¿tienen servicio de plomería a domicilio?")
    assert (first["fallback_count"], second["fallback_count"]) == (1, 2)
    assert not second["handoff"]
    third = await turn(compiled, "¿reparan computadoras portátiles?")
    assert third["handoff"] is True and third["handoff_reasons"] == ["fallbacks"]
    assert "persona" in third["messages"][-1].content


async def test_angry_customer_is_handed_over() -> None:
    compiled = build_graph().compile(checkpointer=InMemorySaver())
    result = await turn(
        compiled, "¡¡Es una estafa!! Pésimo servicio, me tienen harto, nunca llegó nada 😡"
    )
    assert result["handoff"] is True and "sentiment" in result["handoff_reasons"]
