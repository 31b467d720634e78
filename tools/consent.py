"""Is a short reply a yes or a no? Spanish and English, rules over words.

Read only where the bot has just asked a yes/no question ("¿Quieres que te comunique con una
persona?"). A reply is an answer when every word in it belongs to the answer vocabulary:
- yes: "sí", "si", "siii porfa", "sí, por favor 👍", "claro que sí", "va", "dale", "ok",
  "órale", "de acuerdo", "yes please", "sure", "yep", "please do", "go ahead", "👍";
- no: "no", "no gracias", "no, está bien", "nel", "ahorita no", "no thanks", "nope",
  "no, I'm fine", "not now", "👎" (any no-word or "I'm fine" makes the whole reply a no);
- neither: "no sé", "I'm not sure", "tal vez", "maybe".
Anything else in the reply ("sí, pero ¿cuánto cuesta el envío?", "no, ¿y el horario?") makes
it a new message, not an answer: None. Words with letters repeated ("siii", "yesss") and
without accents are read as meant; "gracias" or "thanks" alone answer nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

Answer = Literal["yes", "no"]

_FOLD = str.maketrans("áéíóúàèìòùâêîôûäëïöüñç’", "aeiouaeiouaeiouaeiounc'")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+")
_RUN = re.compile(r"(.)\1+")
MAX_WORDS = 8
"""A longer reply says more than yes or no."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


YES_WORDS = _words(
    """
    si sip simon claro va vale dale ok okay okey oki okis sale orale andale bueno bien perfecto
    adelante acuerdo supuesto porfa porfis porfavor favor xfa quiero quisiera gustaria
    encantaria comunicame comuniqueme pasame paseme conectame transfiereme hazlo
    yes yeah yea yep yup sure please pls plz alright right correct fine good great course
    absolutely definitely certainly agreed connect transfer
    """
)
"""Words that, with no no-word beside them, say yes ("por favor" alone is a yes too)."""

YES_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split())
    for phrase in (
        "like that",
        "love that",
        "would be great",
        "would be nice",
        "sounds good",
        "go ahead",
    )
)
"""Yes without a yes-word ("I'd like that", "go ahead")."""

NO_WORDS = _words(
    """
    no nop nope nel nah nada nunca tampoco despues luego
    not don't dont wouldn't wouldnt never later
    """
)
"""Words that make the reply a no ("no gracias", "ahorita no", "not now", "maybe later")."""

NO_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split())
    for phrase in (
        "i'm fine",
        "im fine",
        "i'm good",
        "im good",
        "i'm ok",
        "im ok",
        "i'm okay",
        "im okay",
        "estoy bien",
        "asi esta bien",
        "esta bien asi",
        "asi estoy bien",
    )
)
"""Refusals without a no-word ("I'm fine", "así está bien")."""

UNSURE_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split())
    for phrase in (
        "not sure",
        "no se",
        "no estoy seguro",
        "no estoy segura",
        "maybe",
        "quizas",
        "tal vez",
    )
)
"""Neither yes nor no ("I'm not sure", "tal vez"): not an answer."""

NEUTRAL_WORDS = _words(
    """
    gracias muchas mil que de por el la lo a con un una me te esta muy ahora ahorita todavia
    es necesario hace falta quizas tal vez estoy gusto y pues entonces mejor asi alguien persona
    agente humano ya se seguro segura
    thanks thank you thx ty i i'm im i'd id that do it go of all it's its is the to me with
    someone a person human agent now yet need maybe so much very sounds be would like love
    ahead oh think at really way
    """
)
"""Words an answer may carry that say neither yes nor no on their own."""

YES_SIGNS = frozenset("👍👌✅🙌🆗")
NO_SIGNS = frozenset("👎❌🙅🚫")


def _squeezed(word: str) -> str:
    return _RUN.sub(r"\1", word)


@lru_cache(maxsize=1)
def _squeezed_vocabulary() -> dict[str, str]:
    """Each vocabulary word by its form with repeated letters squeezed ("siii" -> "si")."""
    vocabulary: dict[str, str] = {}
    for word in sorted(YES_WORDS | NO_WORDS | NEUTRAL_WORDS):
        vocabulary.setdefault(_squeezed(word), word)
    return vocabulary


def _known(word: str) -> str | None:
    if word in YES_WORDS or word in NO_WORDS or word in NEUTRAL_WORDS:
        return word
    return _squeezed_vocabulary().get(_squeezed(word))


def _has_phrase(words: list[str], phrase: tuple[str, ...]) -> bool:
    return any(tuple(words[i : i + len(phrase)]) == phrase for i in range(len(words)))


def read_answer(text: str) -> Answer | None:
    """ "yes" or "no" when `text` is only an answer to a yes/no question; None otherwise."""
    folded = text.lower().translate(_FOLD)
    raw = _WORD.findall(folded)
    if len(raw) > MAX_WORDS:
        return None
    words = [_known(word) for word in raw]
    if any(word is None for word in words):
        return None  # says something else: a new question or a statement
    known = [word for word in words if word is not None]
    signs = set(text)
    if any(_has_phrase(known, phrase) for phrase in UNSURE_PHRASES):
        return None
    if NO_SIGNS & signs or any(w in NO_WORDS for w in known):
        return "no"
    if any(_has_phrase(known, phrase) for phrase in NO_PHRASES):
        return "no"
    if YES_SIGNS & signs or any(w in YES_WORDS for w in known):
        return "yes"
    if any(_has_phrase(known, phrase) for phrase in YES_PHRASES):
        return "yes"
    return None
