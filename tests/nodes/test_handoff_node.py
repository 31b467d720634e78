from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime

from graph.context import HandoffRules, TenantContext
from graph.state import ConversationState
from nodes.handoff import hand_over, handoff_router, route_after_responder, route_after_router
from nodes.turn import bot_reply


def state_for(*texts: str, **fields: object) -> ConversationState:
    messages: list = []
    for text in texts:
        messages += [HumanMessage(text), AIMessage("respuesta")]
    return ConversationState(messages=messages[:-1], **fields)  # type: ignore[arg-type]


async def test_no_trigger_goes_to_the_retriever(runtime: Runtime[TenantContext]) -> None:
    update = await handoff_router(state_for("¿cuánto cuesta el envío?"), runtime)
    assert update == {"handoff": False, "handoff_reasons": [], "asked_again": False}
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


def answering(kind: str, answer: str, reply: AIMessage | None = None) -> ConversationState:
    """The bot's last reply (of `kind`, or `reply` itself), then the customer's `answer`."""
    said = reply or bot_reply("¿Quieres que te comunique con una persona?", kind)
    return ConversationState(messages=[HumanMessage("¿venden autos?"), said, HumanMessage(answer)])


@pytest.mark.parametrize("kind", ["fallback", "failure"])
async def test_yes_to_the_offer_of_a_person_is_an_explicit_request(
    kind: str, runtime: Runtime[TenantContext]
) -> None:
    update = await handoff_router(answering(kind, "sí, por favor"), runtime)
    assert update["handoff"] is True and update["handoff_reasons"] == ["explicit"]


@pytest.mark.parametrize(
    "state",
    [
        answering("fallback", "no gracias"),
        answering("fallback", "sí, pero ¿cuánto cuesta el envío?"),
        answering("answer", "sí"),
        answering("clarification", "sí"),
        answering("small_talk", "ok"),
        # a message after the offer that is not the bot's reply: the offer is not the last word
        answering("", "sí", AIMessage("Soy Laura, ¿en qué te ayudo?", name="Laura")),
        answering("", "sí", AIMessage("¿Quieres que te comunique con una persona?")),
    ],
)
async def test_no_yes_or_no_offer_is_no_request(
    state: ConversationState, runtime: Runtime[TenantContext]
) -> None:
    assert (await handoff_router(state, runtime))["handoff"] is False


async def test_asked_again_after_no_answer_is_noted_not_a_loop(
    runtime: Runtime[TenantContext],
) -> None:
    question = "¿cuándo llega mi pedido 123?"
    unanswered = bot_reply("Lo siento, no tengo información sobre eso.", "fallback")
    state = ConversationState(messages=[HumanMessage(question), unanswered, HumanMessage(question)])
    update = await handoff_router(state, runtime)
    assert update == {"handoff": False, "handoff_reasons": [], "asked_again": True}
    answered = bot_reply("Tu pedido llega el martes.", "answer")
    state = ConversationState(messages=[HumanMessage(question), answered, HumanMessage(question)])
    update = await handoff_router(state, runtime)
    assert update["handoff_reasons"] == ["loop"] and update["asked_again"] is False
