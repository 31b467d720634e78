"""Customer mood: the `SentimentAnalyzer` interface, its two providers, the configured one."""

from __future__ import annotations

from functools import cache

from config.settings import get_settings
from tools.sentiment.comprehend import ComprehendSentimentAnalyzer
from tools.sentiment.offline import Calibration, OfflineSentimentAnalyzer
from tools.sentiment.types import Sentiment, SentimentAnalyzer, SentimentLabel

PROVIDERS = ("offline", "comprehend")

__all__ = [
    "PROVIDERS",
    "Calibration",
    "ComprehendSentimentAnalyzer",
    "OfflineSentimentAnalyzer",
    "Sentiment",
    "SentimentAnalyzer",
    "SentimentLabel",
    "get_sentiment_analyzer",
]


@cache
def get_sentiment_analyzer(provider: str | None = None) -> SentimentAnalyzer:
    """The process-wide analyzer of `provider` (a tenant's choice), else `SENTIMENT_PROVIDER`.

    `offline` is the project's lexicon analyzer; `comprehend` is AWS Comprehend (region and
    credentials from the settings, or boto3's usual chain), falling back to the offline one.
    """
    settings = get_settings()
    chosen = provider or settings.sentiment_provider
    if chosen == "offline":
        return _offline()
    if chosen == "comprehend":
        credentials: dict[str, str] = {}
        if settings.aws_access_key_id and settings.aws_secret_access_key:
            credentials = {
                "aws_access_key_id": settings.aws_access_key_id,
                "aws_secret_access_key": settings.aws_secret_access_key.get_secret_value(),
            }
        return ComprehendSentimentAnalyzer(
            region=settings.aws_region, credentials=credentials, fallback=_offline()
        )
    raise ValueError(f"unknown sentiment provider {chosen!r}; use one of {', '.join(PROVIDERS)}")


@cache
def _offline() -> OfflineSentimentAnalyzer:
    return OfflineSentimentAnalyzer()
