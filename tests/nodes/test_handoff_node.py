from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime

from graph.context import HandoffRules, TenantContext
from graph.state import ConversationState
from nodes.handoff import hand_over, handoff_router, route_after_responder, route_after_router


def state_for(*texts: str, **fields: object) -> ConversationState:
    messages: list = []
    for text in texts:
        messages += [HumanMessage(text), AIMessage("respuesta")]
    return ConversationState(messages=messages[:-1], **fields)  # type: ignore[arg-type]


async def test_no_trigger_goes_to_the_retriever(runtime: Runtime[TenantContext]) -> None:
    update = await handoff_router(state_for("¿cuánto cuesta el envío?"), runtime)
    assert update == {"handoff": False, "handoff_reasons": []}
    assert route_after_router(ConversationState(**update)) == "retriever"


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (state_for("hola", sentiment_score=-0.8), "sentiment"),
        (state_for("quiero hablar con un humano"), "explicit"),
        (state_for("¿y el envío?", fallback_count=3), "fallbacks"),
        (state_for("¿cuándo llega mi pedido 123?", "¿cuándo llega mi pedido 123?"), "loop"),
    ],
)
async def test_each_trigger(
    state: ConversationState, reason: str, runtime: Runtime[TenantContext]
) -> None:
    update = await handoff_router(state, runtime)
    assert update["handoff"] is True
    assert update["handoff_reasons"] == [reason]
    assert route_after_router(ConversationState(**update)) == "hand_over"


async def test_all_reasons_that_fire_are_recorded(runtime: Runtime[TenantContext]) -> None:
    state = state_for("pásame con un agente ya", "pásame con un agente ya", sentiment_score=-0.9)
    update = await handoff_router(state, runtime)
    assert update["handoff_reasons"] == ["sentiment", "explicit", "loop"]


async def test_tenant_rules_are_applied() -> None:
    strict = Runtime(
        context=TenantContext(handoff=HandoffRules(sentiment_threshold=-0.95, max_fallbacks=5))
    )
    update = await handoff_router(state_for("hola", sentiment_score=-0.8, fallback_count=3), strict)
    assert update["handoff"] is False


async def test_negated_request_and_other_senses_do_not_fire(
    runtime: Runtime[TenantContext],
) -> None:
    for text in ("no necesito un agente, gracias", "soy agente de viajes y quiero cotizar"):
        assert (await handoff_router(state_for(text), runtime))["handoff"] is False


async def test_hand_over_tells_the_customer_in_their_language(
    runtime: Runtime[TenantContext],
) -> None:
    update = await hand_over(
        ConversationState(language="en", handoff_reasons=["explicit"]), runtime
    )
    assert update["handoff"] is True and update["handoff_reasons"] == ["explicit"]
    assert "person" in update["messages"][0].content
    custom = Runtime(context=TenantContext(handoff_message="Un asesor te atiende pronto."))
    update = await hand_over(ConversationState(fallback_count=3), custom)
    assert update["messages"][0].content == "Un asesor te atiende pronto."
    assert update["handoff_reasons"] == ["fallbacks"] and update["fallback_count"] == 0


def test_route_after_responder(runtime: Runtime[TenantContext]) -> None:
    assert route_after_responder(ConversationState(fallback_count=2), runtime) == "summarizer"
    assert route_after_responder(ConversationState(fallback_count=3), runtime) == "hand_over"
