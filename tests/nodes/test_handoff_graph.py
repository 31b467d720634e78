"""Every handoff trigger through the compiled graph (offline, in-memory checkpointer), the
out-of-hours handoff message, the loop check after a handoff, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from graph.builder import build_graph
from graph.context import HandoffRules, TenantContext
from tools.business_hours import BusinessHours, when_someone_answers

pytestmark = pytest.mark.usefixtures("knowledge", "offline")
CONTEXT = TenantContext(tenant_id="shop", company_name="Tienda Luna")


def compiled() -> Any:
    return build_graph().compile(checkpointer=InMemorySaver())


async def turn(
    graph: Any, text: str, thread: str = "t", context: TenantContext = CONTEXT
) -> dict[str, Any]:
    config = {"configurable": {"thread_id": thread}}
    return await graph.ainvoke({"messages": [HumanMessage(text)]}, config=config, context=context)


async def test_sentiment_trigger() -> None:
    result = await turn(compiled(), "¡Pésimo servicio! Es una estafa, nadie me responde 😡😡")
    assert result["sentiment_score"] < -0.5
    assert result["handoff"] is True and "sentiment" in result["handoff_reasons"]
    assert result["messages"][-1].name == "handoff"


async def test_sentiment_threshold_is_per_tenant() -> None:
    lenient = TenantContext(tenant_id="shop", handoff=HandoffRules(sentiment_threshold=-0.99))
    result = await turn(compiled(), "¡Pésimo servicio! Es una estafa 😡", context=lenient)
    assert result["handoff"] is False


@pytest.mark.parametrize(
    "text",
    ["quiero hablar con un asesor", "can I speak to a representative please?", "humano!!"],
)
async def test_explicit_trigger(text: str) -> None:
    result = await turn(compiled(), text)
    assert result["handoff"] is True and result["handoff_reasons"] == ["explicit"]


@pytest.mark.parametrize(
    "text", ["no necesito un agente, solo el horario", "soy agente de viajes, ¿hacen envíos?"]
)
async def test_negated_or_other_sense_is_not_a_request(text: str) -> None:
    assert (await turn(compiled(), text))["handoff"] is False


async def test_fallbacks_trigger() -> None:
    graph = compiled()
    await turn(graph, "¿venden refacciones de autos?")
    await turn(graph, "¿tienen servicio de plomería a domicilio?")
    third = await turn(graph, "¿reparan computadoras portátiles?")
    assert third["handoff"] is True and third["handoff_reasons"] == ["fallbacks"]


async def test_loop_trigger() -> None:
    graph = compiled()
    first = await turn(graph, "¿cuánto cuesta el envío a Monterrey?")
    assert first["handoff"] is False
    again = await turn(graph, "¿cuánto cuesta el envío a Monterrey?")
    assert again["handoff"] is True and again["handoff_reasons"] == ["loop"]


async def test_several_reasons_are_all_recorded() -> None:
    graph = compiled()
    await turn(graph, "¿dónde está mi pedido 4411? ya pasó una semana")
    result = await turn(graph, "¿dónde está mi pedido 4411? ya pasó una semana 😡😡🤬")
    assert result["handoff_reasons"] == ["sentiment", "loop"]


async def test_questions_from_before_a_handoff_are_no_loop_after_it() -> None:
    graph = compiled()
    config = {"configurable": {"thread_id": "t"}}
    await turn(graph, "¿cuánto cuesta el envío a Monterrey?")
    handed = await turn(graph, "quiero hablar con un humano")
    assert handed["handoff"] is True
    agent = AIMessage("Hola, soy Laura: el envío a Monterrey cuesta $99.", name="Laura")
    await graph.aupdate_state(config, {"messages": [agent]}, as_node="summarizer")
    after = await turn(graph, "¿cuánto cuesta el envío a Monterrey?")
    assert after["handoff"] is False
    texts = [m.text for m in after["messages"]]
    assert agent.text in texts  # the bot's run had the agent's reply in its thread


async def test_out_of_hours_handoff_says_when_someone_answers() -> None:
    zone = "America/Mexico_City"
    now = datetime.now(UTC)
    today = now.astimezone(BusinessHours(zone).zone).date()
    hours = BusinessHours(zone, ("mon-sun 09:00-18:00",), (today.isoformat(),))
    closed = TenantContext(tenant_id="shop", business_hours=hours)
    result = await turn(compiled(), "quiero hablar con un humano", context=closed)
    text = result["messages"][-1].content
    assert text.startswith("Te comunico con una persona")
    assert "fuera de horario" in text and "mañana a partir de las 9:00" in text
    assert when_someone_answers(hours, now, "es") in text

    custom = TenantContext(
        tenant_id="shop", business_hours=hours, handoff_message="Un asesor te escribirá."
    )
    english = await turn(compiled(), "I want to talk to a human", "en", context=custom)
    said = english["messages"][-1].content
    assert said.startswith("Un asesor te escribirá.")
    assert "someone will answer you tomorrow from 9:00 AM" in said


async def test_in_hours_handoff_has_no_schedule_sentence() -> None:
    everyday = BusinessHours("UTC", ("mon-sun 00:00-24:00",))
    context = TenantContext(tenant_id="shop", business_hours=everyday)
    result = await turn(compiled(), "quiero hablar con un humano", context=context)
    assert "fuera de horario" not in result["messages"][-1].content
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert everyday.is_open(tomorrow)


@pytest.mark.parametrize(
    ("text", "handoff"),
    [
        ("", False),
        ("👍👍🙂", False),
        ("😡😡😡🤬", True),
        ("hola, my order never llegó y nadie responde, quiero un agente", True),
        ("precio " * 3500, False),  # ~25 KB
    ],
)
async def test_bad_input_gives_a_sensible_turn(text: str, handoff: bool) -> None:
    result = await turn(compiled(), text)
    assert result["handoff"] is handoff
    assert result["messages"][-1].content  # the customer always gets something
