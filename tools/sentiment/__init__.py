"""Customer mood: the `SentimentAnalyzer` interface, the offline analyzer, the configured one."""

from __future__ import annotations

from functools import cache

from config.settings import get_settings
from tools.sentiment.offline import Calibration, OfflineSentimentAnalyzer
from tools.sentiment.types import Sentiment, SentimentAnalyzer, SentimentLabel

__all__ = [
    "Calibration",
    "OfflineSentimentAnalyzer",
    "Sentiment",
    "SentimentAnalyzer",
    "SentimentLabel",
    "get_sentiment_analyzer",
]


@cache
def get_sentiment_analyzer() -> SentimentAnalyzer:
    """The process-wide analyzer chosen by `SENTIMENT_PROVIDER` (only `offline` exists so far)."""
    provider = get_settings().sentiment_provider
    if provider != "offline":
        raise ValueError(f"SENTIMENT_PROVIDER={provider!r} is not available yet; use 'offline'")
    return OfflineSentimentAnalyzer()
