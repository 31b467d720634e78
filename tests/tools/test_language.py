from __future__ import annotations

import pytest

from tools.language import detect_language


@pytest.mark.parametrize(
    "text",
    [
        "¿Dónde está mi pedido?",
        "hola, quiero saber el precio",
        "no me llegó nada todavía",
        "q onda con mi pedido",
        "Necesito ayuda con mi cuenta",
    ],
)
def test_spanish(text: str) -> None:
    assert detect_language(text, default="en") == "es"


@pytest.mark.parametrize(
    "text",
    [
        "Where is my order?",
        "I don't want this anymore",
        "hi, I need help with my account",
        "WHERE IS MY REFUND",
        "thanks, that was quick",
    ],
)
def test_english(text: str) -> None:
    assert detect_language(text, default="es") == "en"


@pytest.mark.parametrize("text", ["", "   ", "😡😡", "👍", "ok", "12345", "?"])
def test_no_signal_gives_the_default(text: str) -> None:
    assert detect_language(text, default="es") == "es"
    assert detect_language(text, default="en") == "en"


def test_spanish_marks_decide_a_short_message() -> None:
    assert detect_language("¿sí?", default="en") == "es"
    assert detect_language("mañana", default="en") == "es"


def test_mixed_message_follows_the_majority() -> None:
    assert detect_language("my order no me ha llegado todavía y ya pagué", default="en") == "es"
    assert detect_language("hola, I still have not received my order", default="es") == "en"
