"""`OfflineSentimentAnalyzer`: a VADER-style lexicon-and-rules scorer for Spanish and English.

The valences of a message (see `tools.sentiment.valence`) are summed, emphasised by
exclamation marks and shouting, and squashed to `s / sqrt(s^2 + alpha + tempering)`. With the
default calibration a mild problem ("no me llegó el pedido", "where is my order?") scores about
-0.2, one very strong word ("pésimo", "estafa", "scam") about -0.52, and an angry complaint
("pésimo servicio, ya van 3 veces y nadie me responde 😡") below -0.8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tools.language import detect_language
from tools.sentiment.lexicon import load_lexicon
from tools.sentiment.rules import (
    ABBREVIATIONS,
    BOOSTERS,
    CAPS_BOOST,
    EXCLAMATION_BOOST,
    MAX_EXCLAMATIONS,
    NEGATORS,
)
from tools.sentiment.text import is_shouting, tokenize
from tools.sentiment.types import Sentiment, SentimentLabel
from tools.sentiment.valence import Lexicons, valences

LANGUAGES = ("es", "en")
SPANISH, ENGLISH = load_lexicon("es"), load_lexicon("en")
"""Read at import, so that making an analyzer inside a running event loop reads no files."""


@dataclass(frozen=True)
class Calibration:
    """How a valence sum becomes a score and a label (tuned on public tweet sets)."""

    alpha: float = 34.0
    """Squashing constant of `s / sqrt(s^2 + alpha)` (VADER uses 15; higher is more
    conservative: a single "terrible" stays above -0.5, so a -0.5 handoff needs more)."""

    mixed_tempering: float = 1.0
    """The weaker side's squared valence adds to alpha: praise in the same message tempers a
    complaint's score ("me encanta, pero tardó"), and the other way round."""

    positive_threshold: float = 0.22
    """A score at or above this is `positive` (one mild word, e.g. "gracias", is not)."""

    negative_threshold: float = -0.04
    """A score at or below this is `negative`."""

    mixed_minimum: float = 2.0
    """Positive and negative valence both at least this make the label `mixed`..."""

    mixed_balance: float = 0.6
    """...when the weaker side is at least this fraction of the stronger one."""


class OfflineSentimentAnalyzer:
    """Lexicon + rules in pure Python, tens of microseconds per message, no I/O after loading."""

    def __init__(self, calibration: Calibration | None = None) -> None:
        self.calibration = calibration or Calibration()
        self._lexicons = {"es": Lexicons(SPANISH, ENGLISH), "en": Lexicons(ENGLISH, SPANISH)}

    async def analyze(self, text: str, language: str) -> Sentiment:
        """Score `text`; cheap enough to run inline on the event loop."""
        return self.score(text, language)

    def score(self, text: str, language: str) -> Sentiment:
        """Score `text` written in `language` ("es"/"en"; any other value is detected)."""
        if language not in LANGUAGES:
            language = detect_language(text)
        tokens = tokenize(text, self._knows)
        shouting = is_shouting(text)
        values = valences(tokens, self._lexicons[language], shouting)
        total = sum(values)
        if total:
            exclamations = sum(t.norm.count("!") for t in tokens if t.kind == "punct")
            emphasis = min(exclamations, MAX_EXCLAMATIONS) * EXCLAMATION_BOOST
            emphasis += CAPS_BOOST if shouting else 0.0
            total += math.copysign(emphasis, total)
        positive = sum(v for v in values if v > 0)
        negative = -sum(v for v in values if v < 0)
        tempering = self.calibration.mixed_tempering * min(positive, negative) ** 2
        score = total / math.sqrt(total * total + self.calibration.alpha + tempering)
        return Sentiment(score=round(score, 4), label=self._label(score, positive, negative))

    def _label(self, score: float, positive: float, negative: float) -> SentimentLabel:
        calibration = self.calibration
        weaker, stronger = sorted((positive, negative))
        if (
            weaker >= calibration.mixed_minimum
            and weaker >= calibration.mixed_balance * stronger
            and abs(score) < 0.5
        ):
            return "mixed"
        if score >= calibration.positive_threshold:
            return "positive"
        if score <= calibration.negative_threshold:
            return "negative"
        return "neutral"

    def _knows(self, word: str) -> bool:
        """Whether a folded word is in the vocabulary (to undo elongations: "nooo" -> "no")."""
        return (
            word in NEGATORS
            or word in BOOSTERS
            or word in ABBREVIATIONS
            or any(lexicons.primary.knows(word) for lexicons in self._lexicons.values())
        )
