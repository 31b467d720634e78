"""What a sentiment analyzer returns, and the interface every provider implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

SentimentLabel = Literal["positive", "neutral", "negative", "mixed"]


@dataclass(frozen=True)
class Sentiment:
    """The mood of one customer message."""

    score: float
    """In [-1, 1]: positive minus negative (Comprehend: Positive - Negative probability)."""

    label: SentimentLabel
    """The dominant mood; `mixed` when clearly positive and clearly negative at once."""


class SentimentAnalyzer(Protocol):
    """A sentiment provider: the offline analyzer or AWS Comprehend."""

    async def analyze(self, text: str, language: str) -> Sentiment:
        """Score `text`, written in `language` (`"es"` or `"en"`)."""
        ...
