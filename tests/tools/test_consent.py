"""Reading a short reply as yes or no (to "shall I pass you to a person?"), es and en."""

from __future__ import annotations

import pytest

from tools.consent import read_answer

YES = [
    "sí",
    "si",
    "Sí.",
    "sí por favor",
    "Sí, por favor 👍",
    "siii porfa",
    "SIIIII",
    "va",
    "dale",
    "ok",
    "okey",
    "claro",
    "claro que sí",
    "Claro!!",
    "órale, sí",
    "sale pues",
    "de acuerdo",
    "por favor",
    "me gustaría",
    "está bien",
    "sí, comunícame con alguien",
    "👍",
    "yes",
    "Yes!",
    "yes please",
    "YESSS",
    "yep",
    "yeah sure",
    "sure",
    "please do",
    "ok thanks",
    "of course",
    "go ahead",
    "I'd like that",
    "sounds good",
]
NO = [
    "no",
    "No.",
    "nooo",
    "no gracias",
    "no, gracias",
    "no, está bien",
    "No, así está bien",
    "así está bien",
    "nel, gracias",
    "ahorita no",
    "mejor no",
    "no es necesario",
    "estoy bien, gracias",
    "no thanks",
    "No thank you!",
    "nope",
    "nah",
    "no, I'm fine",
    "i'm good thanks",
    "not now",
    "not really",
    "no way",
    "i don't think so",
    "👎",
]
NEITHER = [
    "sí, pero ¿cuánto cuesta el envío?",
    "yes, but how much does express shipping cost?",
    "no, ¿y el horario?",
    "¿cuánto cuesta el envío?",
    "si me pueden ayudar con mi pedido",
    "no sé",
    "I don't know",
    "gracias",
    "thanks",
    "hola",
    "maybe",
    "maybe later",
    "I'm not sure",
    "no estoy seguro",
    "tal vez",
    "why not",
    "i would like to thank you",
    "thank ya!",
    "🙂",
    "",
    "   ",
    "sí sí sí sí sí sí sí sí sí",  # too long to be just an answer
    "1",
]


@pytest.mark.parametrize("text", YES)
def test_yes(text: str) -> None:
    assert read_answer(text) == "yes"


@pytest.mark.parametrize("text", NO)
def test_no(text: str) -> None:
    assert read_answer(text) == "no"


@pytest.mark.parametrize("text", NEITHER)
def test_anything_more_is_not_an_answer(text: str) -> None:
    assert read_answer(text) is None
