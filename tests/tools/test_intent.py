from __future__ import annotations

import pytest

from tools.intent import asks_for_human

REQUESTS = [
    # Spanish
    "quiero hablar con un agente",
    "Quiero hablar con una persona",
    "pásame con un asesor por favor",
    "comunícame con alguien",
    "necesito un humano",
    "agente",
    "Humano!",
    "un asesor porfa",
    "me puedes comunicar con un ejecutivo?",
    "hablar con alguien",
    "¿Puedo hablar con un operador?",
    "quiero que me atienda una persona real",
    "transfiéreme con un agente",
    "ya no quiero hablar con un bot, quiero un humano",
    "no entiendo nada, quiero hablar con alguien",
    "¿hay algún asesor disponible?",
    "necesito hablar con una persona de verdad",
    "No, quiero hablar con un asesor",
    "un humano que me atienda",
    "que me llame un asesor",
    "me pasas con alguien?",
    "QUIERO HABLAR CON UN HUMANOOO",
    # English
    "Can I speak to a representative?",
    "I want to talk to a human",
    "real person please",
    "operator",
    "REPRESENTATIVE",
    "let me talk to someone",
    "transfer me to an agent",
    "put me through to a real person",
    "get me a human",
    "I need a live agent",
    "is there a human I can talk to?",
    "can I speak to your supervisor",
    "Just stop and let me talk to a real person",
    "I demand a refund, put me through with a real person!",
    "I don't know how to talk to a person",
    "i cant reach an agent",
    "can someone call me back?",
    "I don't want to talk to a bot, I want a human",
    "can I get a human",
    "is there anyone I can speak to?",
    "put me through to reception",
    "can I talk to someone at the front desk",
    "I'd rather talk to a person",
    "alguien con quien hablar?",
    # misspelt
    "I don't know what I have to do to contact somneone",
    "i need assistance speakign to a human agent",
    "can I talkk to someone?",
]

NOT_REQUESTS = [
    # negated
    "no necesito un agente",
    "no quiero hablar con nadie",
    "no me pases con un agente",
    "no hace falta que me pases con un asesor",
    "I don't want a human",
    "I don't need to speak to anyone",
    "thanks, no need for a human",
    # other senses of the nouns
    "soy agente de viajes",
    "una persona me dijo que ya había llegado",
    "una persona muy amable me atendió ayer",
    "el asesor me dijo que ya estaba",
    "the agent who delivered my package was rude",
    "human error",
    "human resources phone number",
    "derechos humanos",
    "cuánto cuesta por persona",
    "can I pay in person?",
    "my travel agent booked it",
    "what does a real estate agent do",
    "el agente de tránsito me multó",
    "someone stole my card",
    "alguien usó mi tarjeta",
    "people call me brad",
    "the receptionist was rude",
    "does anyone speak spanish?",
    "I can get a person to pick it up",
    # past contacts and questions about the bot
    "hablé con un asesor ayer",
    "I spoke to an agent yesterday and they said it shipped",
    "I talked to someone already",
    "¿estoy hablando con una persona?",
    "am I talking to a real person?",
    "are you a human?",
    "eres humano?",
    "Do I need to speak to a representative to change my pin?",
    # ordinary support messages
    "where is my order",
    "quiero cancelar mi pedido",
    "transfer money to my savings account",
    "can you call my mom",
    "nadie me contesta",
    "nobody answers",
    "talk to you later",
    "",
]


@pytest.mark.parametrize("text", REQUESTS)
def test_requests_for_a_person(text: str) -> None:
    assert asks_for_human(text)


@pytest.mark.parametrize("text", NOT_REQUESTS)
def test_not_requests(text: str) -> None:
    assert not asks_for_human(text)


def test_a_tenants_keywords_are_exactly_what_counts() -> None:
    assert not asks_for_human("quiero hablar con un vendedor")
    assert asks_for_human("quiero hablar con un vendedor", keywords=["vendedor"])
    assert asks_for_human("vendedor por favor", keywords=["vendedor"])
    assert not asks_for_human("no quiero hablar con un vendedor", keywords=["vendedor"])
    # the built-in persons are not added to the tenant's own
    assert asks_for_human("quiero hablar con un agente")
    assert not asks_for_human("quiero hablar con un agente", keywords=["vendedor"])
    assert not asks_for_human("necesito una persona real", keywords=["vendedor"])
    assert not asks_for_human("can I speak to a representative?", keywords=["vendedor"])


def test_no_keywords_means_no_words_ask_for_a_person() -> None:
    assert not asks_for_human("quiero hablar con un agente", keywords=[])
    assert not asks_for_human("humano!!", keywords=())


def test_several_word_keywords_are_request_phrases() -> None:
    assert not asks_for_human("necesito hablar con ventas")
    assert asks_for_human("necesito hablar con ventas", keywords=["hablar con ventas"])
    assert not asks_for_human("no quiero hablar con ventas", keywords=["hablar con ventas"])


def test_a_tenant_may_keep_built_in_words_with_their_senses() -> None:
    keywords = ["asesor", "persona"]
    assert asks_for_human("pásame con un asesor", keywords)
    assert not asks_for_human("una persona me dijo que ya había llegado", keywords)
    assert not asks_for_human("quiero un agente", keywords)


def test_long_text_is_read_whole() -> None:
    text = "el pedido llegó tarde y nadie me dice nada. " * 450
    assert not asks_for_human(text)
    assert asks_for_human(text + " Quiero hablar con un asesor.")
