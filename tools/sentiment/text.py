"""Chat text to tokens: accent folding, emoji, emoticons, elongations, chat abbreviations."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tools.sentiment.rules import ABBREVIATIONS, EMOJI, EMOTICONS, LAUGH_TOKEN

TokenKind = Literal["word", "emoji", "punct"]

_FOLD = str.maketrans("áéíóúàèìòùâêîôûäëïöüñç’", "aeiouaeiouaeiouaeiounc'")
_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+|[\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
_EMOTICON = "|".join(re.escape(e) for e in sorted(EMOTICONS, key=len, reverse=True))
_TOKEN = re.compile(
    rf"(?P<emoticon>(?:(?<!\w)|(?<=[^\W\d_])(?=[:;=]))(?:{_EMOTICON})(?!\w))"  # also "can't:("
    r"|(?P<word>[^\W_]+(?:['’][^\W\d_]+)*)"
    r"|(?P<punct>[!?¡¿.,;:…]+|(?<!\S)[-–—]+(?!\S))"  # a dash standing alone, too
    r"|(?P<other>\S)",
    re.IGNORECASE,
)
_TRIPLE = re.compile(r"(.)\1{2,}")
_LAUGH = re.compile(
    r"^(?:a?(?:j+[aeious]+){2,}j*|a?(?:h+a+){2,}h*|(?:h+e+){2,}h*|jaa+|lo+l|lmf?a+o+|rofl|xd+)$"
)


def fold(text: str) -> str:
    """Lower case without accents (and ñ as n): how the lexicon is keyed."""
    return text.lower().translate(_FOLD)


@dataclass(frozen=True, slots=True)
class Token:
    """One unit of a message, normalised for lexicon lookup."""

    norm: str
    kind: TokenKind
    caps: bool = False
    title: bool = False
    """Capitalised ("Bad" in "Bad Blood"): with capitalised neighbours, likely part of a name."""
    elongated: bool = False
    valence: float = 0.0
    """Valence of an emoji or emoticon; words are looked up in the lexicon later."""


def _normalise_word(word: str, known: Callable[[str], bool]) -> tuple[str, bool]:
    """Fold, undo elongation ("graciassss" -> "gracias"), expand chat spelling ("xq")."""
    norm = fold(word)
    if _LAUGH.match(norm):
        return LAUGH_TOKEN, False
    elongated = bool(_TRIPLE.search(norm))
    if elongated:
        doubled = _TRIPLE.sub(r"\1\1", norm)  # "cooool" -> "cool"
        norm = doubled if known(doubled) else _TRIPLE.sub(r"\1", norm)  # "nooo" -> "no"
    return ABBREVIATIONS.get(norm, norm), elongated


def tokenize(text: str, known: Callable[[str], bool]) -> list[Token]:
    """Split a message into word, emoji/emoticon and punctuation tokens.

    URLs and @mentions are dropped, hashtags read as words; `known` says whether a folded
    word is in the vocabulary, to choose how to undo an elongation.
    """
    tokens: list[Token] = []
    for match in _TOKEN.finditer(_NOISE.sub(" ", text)):
        kind = match.lastgroup
        value = match.group()
        if kind == "word":
            norm, elongated = _normalise_word(value, known)
            caps = len(value) > 1 and value.isupper()
            title = len(value) > 1 and value[0].isupper() and value[1:].islower()
            tokens.append(Token(norm, "word", caps=caps, title=title, elongated=elongated))
        elif kind == "punct":
            tokens.append(Token(value, "punct"))
        elif kind == "emoticon":
            tokens.append(Token(value.lower(), "emoji", valence=EMOTICONS[value.lower()]))
        elif value in EMOJI:
            tokens.append(Token(value, "emoji", valence=EMOJI[value]))
    return tokens


def is_shouting(text: str) -> bool:
    """Mostly upper-case letters over a few words ("NO ME HA LLEGADO NADA")."""
    letters = [ch for ch in _NOISE.sub(" ", text) if ch.isalpha()]
    if len(letters) < 8:
        return False
    upper = sum(1 for ch in letters if ch.isupper())
    return upper / len(letters) >= 0.8
