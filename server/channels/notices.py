"""What the channel itself tells a customer (not the bot's answers), in Spanish and English."""

from __future__ import annotations

from datetime import datetime

from tools.business_hours import BusinessHours, when_someone_answers

NOTICES: dict[str, dict[str, str]] = {
    "es": {
        "media_notice": (
            "Por ahora solo puedo leer mensajes de texto. ¿Me escribes tu consulta, por favor?"
        ),
        "throttle_notice": (
            "Recibí muchos mensajes seguidos. Dame un momento y te respondo; "
            "mientras tanto sigo guardando lo que me escribes."
        ),
        "failure_notice": (
            "Perdón, tengo un problema técnico en este momento. "
            "Una persona de nuestro equipo revisará tu mensaje."
        ),
    },
    "en": {
        "media_notice": "For now I can only read text messages. Could you type your question?",
        "throttle_notice": (
            "I got a lot of messages in a row. Give me a moment and I'll answer; "
            "I'm still saving what you write."
        ),
        "failure_notice": (
            "Sorry, I'm having a technical problem right now. "
            "A person on our team will look at your message."
        ),
    },
}


def notice(kind: str, language: str) -> str:
    """The notice of `kind` (`media_notice`, `throttle_notice`, `failure_notice`) in `language` (default es)."""
    return NOTICES.get(language, NOTICES["es"])[kind]


def failure_notice(language: str, hours: BusinessHours, now: datetime) -> str:
    """The notice of a turn that failed for good: a person will look at it (and, out of
    business hours, when)."""
    text = notice("failure_notice", language)
    when = when_someone_answers(hours, now, language)
    return f"{text} {when}" if when else text
