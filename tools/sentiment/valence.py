"""From tokens to one valence per token: phrases, modifiers, negation, contrast, questions.

Each sentiment word (or phrase, emoji, emoticon) starts from its lexicon valence and is
changed by the words before it (intensifiers, diminishers, negations within a few words),
by ALL CAPS and elongation, by a later "pero"/"but", and counts half in a question when
positive. Capitalised runs mid-sentence ("Bad Blood") are taken for names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tools.sentiment.lexicon import Lexicon
from tools.sentiment.rules import (
    BOOSTER_PHRASES,
    BOOSTERS,
    CAPS_BOOST,
    CLITICS,
    CONCESSIVE,
    CONTRAST,
    ELONGATION_BOOST,
    FALSE_FRIENDS,
    LAUGH_TOKEN,
    NEGATED_NEGATIVE_SCALAR,
    NEGATING_PAIRS,
    NEGATION_SCALAR,
    NEGATION_WINDOW,
    NEGATORS,
    NOT_A_NEGATION_AFTER,
    NUMBER_WORDS,
    ONLY_BEFORE_BUT,
    WANT_FORMS,
)
from tools.sentiment.text import Token

LAUGH_VALENCE = 1.0
DISMAY_VALENCE = -1.5
WINDOW_DECAY = (1.0, 0.95, 0.9)
QUESTION_DAMPING = 0.35
CONTRAST_BEFORE, CONTRAST_AFTER = 0.5, 1.5
DISCOURSE_MARKERS = frozenset({"bueno", "bien", "pues", "vale", "well", "ok", "okay"})
CONNECTIVES = frozenset(
    {"y", "pero", "pues", "ah", "oh", "eh", "ahm", "mm", "and", "but", "so", "um"}
)


@dataclass(frozen=True)
class Lexicons:
    """The message's language lexicon first, the other one for borrowed words."""

    primary: Lexicon
    secondary: Lexicon

    def base(self, word: str) -> float:
        """A word's own valence: its language first, the other for an exact borrowed word."""
        if word == LAUGH_TOKEN:
            return LAUGH_VALENCE
        value = self.primary.lookup(word)
        if value is None and word not in FALSE_FRIENDS:
            value = self.secondary.exact(word)
        return value or 0.0

    def negated(self, word: str) -> float | None:
        """The listed valence of a negated word ("no sirve"), if it has one."""
        value = self.primary.negated.get(word)
        return value if value is not None else self.secondary.negated.get(word)

    def phrase(self, tokens: list[Token], start: int) -> tuple[int, float] | None:
        """(length, valence) of the longest lexicon phrase starting at `start`, if any."""
        for lexicon in (self.primary, self.secondary):
            for words, valence in lexicon.phrases.get(tokens[start].norm, ()):
                if start + len(words) <= len(tokens) and all(
                    _matches(tokens[start + k], word) for k, word in enumerate(words)
                ):
                    return len(words), valence
        return None


def _matches(token: Token, word: str) -> bool:
    if token.kind != "word":
        return False
    return token.norm == word or (
        word == "#" and (token.norm[:1].isdigit() or token.norm in NUMBER_WORDS)
    )


def _negates(tokens: list[Token], j: int) -> bool:
    """Token `j` negates what follows: "no", "never", "n't" (not "no solo", "not only"), and
    "poco" except in "un poco" ("poco amable" is "not kind")."""
    word = tokens[j].norm
    if word == "poco":
        return not (j and tokens[j - 1].norm == "un")
    if word not in NEGATORS and not word.endswith("n't"):
        return False
    following = tokens[j + 1]
    return not (following.kind == "word" and following.norm in NOT_A_NEGATION_AFTER)


UNNEGATABLE = NEGATORS | {LAUGH_TOKEN}
"""Laughter, and phrases that carry their own negation ("not ok", "no sirve para nada"), keep
their valence after an earlier negation ("no, this is not ok")."""


def _wants_to(tokens: list[Token], i: int) -> bool:
    """ "te quiero" is love, but "te quiero decir" only wants to say something."""
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    return (
        tokens[i].norm in WANT_FORMS
        and following is not None
        and following.kind == "word"
        and following.norm.endswith(("ar", "er", "ir"))
    )


def _is_dismay(tokens: list[Token], i: int) -> bool:
    """A drawn-out "nooo" ending its clause ("nooo 😭", "NOOOO!!") voices dismay; not a reply
    going on ("Nooo, no la han eliminado")."""
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    return (
        tokens[i].norm == "no"
        and tokens[i].elongated
        and (following is None or following.kind == "emoji" or "!" in following.norm)
    )


def _opens_clause(tokens: list[Token], i: int) -> bool:
    """Token `i` opens a clause: first, after punctuation, or after a connective."""
    k = i - 1
    while k >= 0 and tokens[k].kind == "word" and tokens[k].norm in CONNECTIVES:
        k -= 1
    return k < 0 or tokens[k].kind == "punct"


def _only_modifies(tokens: list[Token], base: list[float], i: int) -> bool:
    """A valenced word that here only modifies: an intensifier before another sentiment word
    ("bien rico", "damn good"), or a discourse marker ("Bueno, ...", "y bueno", "pues bien")."""
    if i + 1 >= len(tokens):
        return False
    word = tokens[i].norm
    return (word in BOOSTERS and bool(base[i + 1])) or (
        word in DISCOURSE_MARKERS and _opens_clause(tokens, i)
    )


def _name_parts(tokens: list[Token]) -> list[int]:
    """Capitalised words mid-sentence next to other capitalised words ("Bad Blood", "Final
    Destination") are names or titles; not when the writer capitalises most words anyway."""
    words = [t for t in tokens if t.kind == "word"]
    if not words or sum(t.title for t in words) * 2 > len(words):
        return []
    found: list[int] = []
    for i, token in enumerate(tokens):
        if not token.title or i == 0 or tokens[i - 1].kind != "word":
            continue  # the first word of a sentence is capitalised anyway
        neighbours = [tokens[i - 1]] + ([tokens[i + 1]] if i + 1 < len(tokens) else [])
        if any(n.kind == "word" and (n.title or n.caps) for n in neighbours):
            found.append(i)
    return found


def _context(
    tokens: list[Token], base: list[float], consumed: list[bool], i: int
) -> tuple[float, bool]:
    """(intensification, negated) reaching token `i` from the words before it."""
    boost = 0.0
    negated = False
    counted = 0
    j = i - 1
    while j >= 0 and counted < NEGATION_WINDOW and tokens[j].kind == "word":
        word = tokens[j].norm
        if word not in CLITICS:
            decay = WINDOW_DECAY[counted]
            counted += 1
            pair = (tokens[j - 1].norm if j else "", word)
            if pair in BOOSTER_PHRASES:
                boost += BOOSTER_PHRASES[pair] * decay
            elif _negates(tokens, j) or pair in NEGATING_PAIRS:
                negated = True  # also inside a phrase: "ya no" + "te quiero"
            elif word in BOOSTERS and not base[j] and not consumed[j]:
                boost += BOOSTERS[word] * decay
        j -= 1
    return boost, negated


def _apply_contrast(tokens: list[Token], values: list[float]) -> None:
    """VADER's "but" rule; "aunque"/"although" weakens its own clause instead."""
    pivots = [
        i
        for i, t in enumerate(tokens)
        if t.norm in CONTRAST
        and t.norm not in CONCESSIVE
        and not (i and tokens[i - 1].norm in ONLY_BEFORE_BUT)
    ]
    if pivots:
        for i in range(len(values)):
            values[i] *= CONTRAST_BEFORE if i < pivots[-1] else CONTRAST_AFTER
    for i, token in enumerate(tokens):
        if token.norm in CONCESSIVE:
            k = i + 1
            while k < len(tokens) and tokens[k].kind != "punct":
                values[k] *= CONTRAST_BEFORE
                k += 1


def _damp_questions(tokens: list[Token], values: list[float]) -> None:
    """A question asks rather than praises: its positive words count half ("¿es bueno?");
    complaints asked as questions keep their weight ("¿por qué nadie me responde?")."""
    start = 0
    for end, token in enumerate(tokens):
        if token.kind == "punct" and any(ch in token.norm for ch in ".!?…"):
            if "?" in token.norm:
                for i in range(start, end):
                    if values[i] > 0:
                        values[i] *= QUESTION_DAMPING
            start = end + 1


def valences(tokens: list[Token], lexicons: Lexicons, shouting: bool) -> list[float]:
    """One valence per token (0 for most), after every rule."""
    count = len(tokens)
    base = [0.0] * count
    consumed = [False] * count  # inside a phrase whose first token carries its valence
    negatable = [False] * count  # neutral, but negative when negated ("no llegó")
    i = 0
    while i < count:
        token = tokens[i]
        if token.kind == "emoji":
            base[i] = token.valence
        elif token.kind == "word":
            phrase = lexicons.phrase(tokens, i)
            if phrase:
                length, base[i] = phrase
                if _wants_to(tokens, i + length - 1):
                    base[i] = 0.0
                consumed[i + 1 : i + length] = [True] * (length - 1)
                i += length
                continue
            if token.norm not in NEGATORS:
                base[i] = lexicons.base(token.norm)
                negatable[i] = lexicons.negated(token.norm) is not None
            elif _is_dismay(tokens, i):
                base[i] = DISMAY_VALENCE
        i += 1
    for i in range(count):
        if base[i] and not consumed[i] and _only_modifies(tokens, base, i):
            base[i] = 0.0
    for i in _name_parts(tokens):
        base[i] = 0.0

    values = [0.0] * count
    for i, token in enumerate(tokens):
        if consumed[i] or not (base[i] or negatable[i]):
            continue
        value = base[i]
        boost, negated = _context(tokens, base, consumed, i)
        if value:
            boost += CAPS_BOOST if token.caps and not shouting else 0.0
            boost += ELONGATION_BOOST if token.elongated else 0.0
            value = math.copysign(max(abs(value) + boost, 0.1), value)
        if negated and token.kind == "word" and token.norm not in UNNEGATABLE:
            listed = lexicons.negated(token.norm)
            if listed is not None:
                value = listed
            else:
                value *= NEGATION_SCALAR if value > 0 else NEGATED_NEGATIVE_SCALAR
        values[i] = value
    _apply_contrast(tokens, values)
    _damp_questions(tokens, values)
    return values
