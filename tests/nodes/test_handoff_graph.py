"""Every handoff trigger through the compiled graph (offline, in-memory checkpointer), the
out-of-hours handoff message, the loop check after a handoff, a yes or no to the bot's offer
of a person, a question asked again unanswered, a greeting with a question, a tenant's own
keywords, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from checkpoints.records import TenantRecord
from graph.builder import build_graph
from graph.context import HandoffRules, TenantContext
from server.tenant_context import tenant_context
from tools import llm
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


# --- "yes" means yes: the customer's answer to the bot's offer of a person ------------------

UNKNOWN = "¿venden autos?"
"""Not in the demo shop's knowledge: the bot offers a person."""


async def offered(graph: Any, thread: str = "t") -> dict[str, Any]:
    result = await turn(graph, UNKNOWN, thread)
    assert result["reply_kind"] == "fallback" and "persona" in result["messages"][-1].text
    return result


@pytest.mark.parametrize(
    "answer",
    ["sí", "sí por favor", "va", "dale", "ok", "claro", "si", "claro que sí", "👍", "yes please"],
)
async def test_yes_to_the_offer_hands_over_at_once(answer: str) -> None:
    graph = compiled()
    await offered(graph)
    result = await turn(graph, answer)
    assert result["handoff"] is True and result["handoff_reasons"] == ["explicit"]
    assert result["messages"][-1].name == "handoff"


async def test_yes_after_a_failure_reply_hands_over(monkeypatch: pytest.MonkeyPatch) -> None:
    class Down(FakeListChatModel):
        async def _agenerate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise ConnectionError("provider down")

    monkeypatch.setattr(llm, "get_chat_model", lambda *args, **kwargs: Down(responses=["x"]))
    graph = compiled()
    failed = await turn(graph, "¿cuánto cuesta el envío express?")
    assert failed["reply_kind"] == "failure" and "persona" in failed["messages"][-1].text
    result = await turn(graph, "sí, por favor")
    assert result["handoff"] is True and result["handoff_reasons"] == ["explicit"]


@pytest.mark.parametrize("answer", ["no gracias", "no, está bien", "no thanks"])
async def test_no_to_the_offer_lets_the_bot_go_on(answer: str) -> None:
    graph = compiled()
    await offered(graph)
    declined = await turn(graph, answer)
    assert declined["handoff"] is False and declined["reply_kind"] == "small_talk"
    assert "no tengo información" not in declined["messages"][-1].text
    assert declined["fallback_count"] == 1  # a "no" neither adds nor forgives a fallback
    answered = await turn(graph, "¿cuánto cuesta el envío express?")
    assert answered["reply_kind"] == "answer" and "199" in answered["messages"][-1].text


async def test_yes_but_a_new_question_gets_an_answer() -> None:
    graph = compiled()
    await offered(graph)
    result = await turn(graph, "sí, pero ¿cuánto cuesta el envío express?")
    assert result["handoff"] is False and result["reply_kind"] == "answer"
    assert "199" in result["messages"][-1].text


async def test_yes_to_anything_but_the_offer_is_no_request() -> None:
    graph = compiled()
    await turn(graph, "¿cuánto cuesta el envío express?")
    ok = await turn(graph, "ok")
    assert ok["handoff"] is False and ok["reply_kind"] == "small_talk"
    vague = await turn(compiled(), "¿cuánto cuesta?", "vague")
    assert vague["reply_kind"] == "clarification"
    assert (await turn(compiled(), "sí", "vague"))["handoff"] is False


async def test_an_offer_answered_past_is_no_longer_open() -> None:
    graph = compiled()
    await offered(graph)
    await turn(graph, "¿cuánto cuesta el envío express?")
    assert (await turn(graph, "sí"))["handoff"] is False


# --- asking again is not a loop when the bot did not answer ----------------------------------


async def test_a_question_asked_again_unanswered_is_a_fallback_not_a_loop() -> None:
    graph = compiled()
    question = "¿tienen servicio de plomería a domicilio?"
    first = await turn(graph, question)
    assert first["reply_kind"] == "fallback" and first["fallback_count"] == 1
    again = await turn(graph, question)
    assert again["handoff"] is False and again["reply_kind"] == "fallback"
    assert again["fallback_count"] == 2
    third = await turn(graph, question)
    assert third["handoff"] is True and third["handoff_reasons"] == ["fallbacks"]


async def test_a_vague_question_asked_again_gets_the_offer_not_the_same_question() -> None:
    graph = compiled()
    first = await turn(graph, "hola, ¿cuánto cuesta?")
    assert first["reply_kind"] == "clarification"
    again = await turn(graph, "hola, ¿cuánto cuesta?")
    assert again["handoff"] is False and again["reply_kind"] == "fallback"
    assert again["fallback_count"] == 1 and "persona" in again["messages"][-1].text


# --- a greeting with a question ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["Buenas, ¿a qué hora abren?", "hola, ¿a qué hora abren?"])
async def test_a_greeting_with_a_question_gets_the_answer(text: str) -> None:
    result = await turn(compiled(), text)
    assert result["reply_kind"] == "answer" and "9:00" in result["messages"][-1].text


async def test_a_greeting_with_a_vague_question_gets_a_clarifying_question() -> None:
    result = await turn(compiled(), "hola, ¿dónde están?")
    assert result["reply_kind"] == "clarification"
    assert "Ubicación de la tienda" in result["messages"][-1].text


async def test_a_greeting_alone_is_small_talk() -> None:
    result = await turn(compiled(), "Hola, buenas tardes!")
    assert result["reply_kind"] == "small_talk" and "Tienda Luna" in result["messages"][-1].text


# --- a tenant's own keywords ------------------------------------------------------------------


async def test_a_tenants_keywords_are_exactly_what_counts() -> None:
    tenant = TenantRecord(
        id="shop",
        name="Shop",
        settings={"handoff": {"keywords": ["vendedor", "hablar con ventas"]}},
    )
    context = tenant_context(tenant)
    own = await turn(compiled(), "quiero hablar con un vendedor", context=context)
    assert own["handoff_reasons"] == ["explicit"]
    phrase = await turn(compiled(), "necesito hablar con ventas", context=context)
    assert phrase["handoff_reasons"] == ["explicit"]
    built_in = await turn(compiled(), "quiero hablar con un agente", context=context)
    assert built_in["handoff"] is False
    assert (await turn(compiled(), "quiero hablar con un agente"))["handoff"] is True
