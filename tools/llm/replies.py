"""The responder's fixed replies, in Spanish and English (unknown languages get Spanish)."""

from __future__ import annotations

from collections.abc import Sequence

TEXTS: dict[str, dict[str, str]] = {
    "es": {
        "fallback": (
            "Lo siento, no tengo información sobre eso. ¿Quieres que te comunique con una "
            "persona de nuestro equipo?"
        ),
        "failure": (
            "Perdón, tengo un problema técnico en este momento. ¿Quieres que te comunique con "
            "una persona de nuestro equipo?"
        ),
        "refusal": (
            "Solo puedo ayudarte con preguntas sobre {company}: productos, pedidos, envíos, "
            "pagos y horarios. ¿En qué te puedo ayudar?"
        ),
        "clarify": "Para ayudarte mejor: ¿tu pregunta es sobre {topics}?",
        "clarify_open": "Para ayudarte mejor: ¿me das un poco más de detalle sobre lo que necesitas?",
        "thanks": "¡Con gusto! ¿Hay algo más en lo que pueda ayudarte?",
        "declined": "De acuerdo, sigo aquí para ayudarte. ¿Tienes alguna otra pregunta?",
        "no_words": "¿En qué puedo ayudarte? Escríbeme tu pregunta.",
        "greeting": "¡Hola! Soy el asistente virtual de {company}. ¿En qué puedo ayudarte?",
        "or": "o",
    },
    "en": {
        "fallback": (
            "Sorry, I don't have information about that. Would you like me to connect you "
            "with a person on our team?"
        ),
        "failure": (
            "Sorry, I'm having a technical problem right now. Would you like me to connect "
            "you with a person on our team?"
        ),
        "refusal": (
            "I can only help with questions about {company}: products, orders, shipping, "
            "payments and opening hours. How can I help you?"
        ),
        "clarify": "To help you better: is your question about {topics}?",
        "clarify_open": "To help you better: could you tell me a bit more about what you need?",
        "thanks": "You're welcome! Is there anything else I can help you with?",
        "declined": "All right, I'm still here to help. Do you have any other question?",
        "no_words": "How can I help you? Send me your question.",
        "greeting": "Hi! I'm the virtual assistant of {company}. How can I help you?",
        "or": "or",
    },
}


def reply_text(key: str, language: str, **fields: str) -> str:
    """The fixed reply `key` in `language`, with `{company}`-style fields filled in."""
    texts = TEXTS.get(language, TEXTS["es"])
    return texts[key].format(**fields) if fields else texts[key]


def clarifying_question(topics: Sequence[str], language: str) -> str:
    """One question asking which of `topics` (knowledge titles, best first) is meant."""
    names = list(dict.fromkeys(t.strip() for t in topics if t.strip()))[:3]
    if not names:
        return reply_text("clarify_open", language)
    joined = names[0]
    if len(names) > 1:
        joined = f"{', '.join(names[:-1])} {reply_text('or', language)} {names[-1]}"
    return reply_text("clarify", language, topics=joined)
