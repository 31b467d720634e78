"""`ComprehendSentimentAnalyzer`: AWS Comprehend `DetectSentiment`, the offline analyzer as fallback.

boto3 is blocking, so each call runs in a worker thread. Comprehend takes at most 5,000
bytes of UTF-8: longer text is cut on a character boundary. A failing call (throttling,
timeout, bad credentials, an unsupported language) is logged and answered by the fallback,
so a provider outage never stops a turn.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tools.language import detect_language
from tools.sentiment.offline import OfflineSentimentAnalyzer
from tools.sentiment.types import Sentiment, SentimentAnalyzer, SentimentLabel

MAX_TEXT_BYTES = 5000
LANGUAGES = ("es", "en")
DEFAULT_TIMEOUT_SECONDS = 2.0
LABELS: dict[str, SentimentLabel] = {
    "POSITIVE": "positive",
    "NEGATIVE": "negative",
    "NEUTRAL": "neutral",
    "MIXED": "mixed",
}

log = logging.getLogger(__name__)


def cut_utf8(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, never inside a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def client_config(timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> Config:
    """Short timeouts and one retry: a slow provider must not hold up a customer's turn."""
    return Config(
        connect_timeout=timeout_seconds,
        read_timeout=timeout_seconds,
        retries={"total_max_attempts": 2, "mode": "standard"},
    )


class ComprehendSentimentAnalyzer:
    """Scores with Comprehend: score = Positive - Negative, label = the dominant sentiment."""

    def __init__(
        self,
        client: Any = None,
        *,
        region: str = "us-east-1",
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        credentials: dict[str, str] | None = None,
        fallback: SentimentAnalyzer | None = None,
    ) -> None:
        """`client`: a boto3 Comprehend client (made on first use from region/credentials)."""
        self._client = client
        self._region = region
        self._timeout = timeout_seconds
        self._credentials = credentials or {}
        self._client_lock = threading.Lock()
        self.fallback: SentimentAnalyzer = fallback or OfflineSentimentAnalyzer()

    async def analyze(self, text: str, language: str) -> Sentiment:
        """Comprehend's reading of `text`; the fallback's when the call fails."""
        if language not in LANGUAGES:
            language = detect_language(text)
        if not text.strip():
            return Sentiment(score=0.0, label="neutral")  # Comprehend refuses empty text
        try:
            response = await asyncio.to_thread(self._detect, cut_utf8(text), language)
            return self.from_response(response)
        except (BotoCoreError, ClientError, KeyError, TypeError) as error:
            log.warning(
                "comprehend_failed",
                extra={"error": type(error).__name__, "code": _error_code(error)},
            )
            return await self.fallback.analyze(text, language)

    @staticmethod
    def from_response(response: dict[str, Any]) -> Sentiment:
        """A `Sentiment` from a `DetectSentiment` response."""
        scores = response["SentimentScore"]
        score = max(-1.0, min(1.0, float(scores["Positive"]) - float(scores["Negative"])))
        return Sentiment(score=round(score, 4), label=LABELS[response["Sentiment"]])

    def _detect(self, text: str, language: str) -> dict[str, Any]:
        result: dict[str, Any] = self._comprehend().detect_sentiment(
            Text=text, LanguageCode=language
        )
        return result

    def _comprehend(self) -> Any:
        """The client, made once (in a worker thread: it reads botocore's data files)."""
        with self._client_lock:
            if self._client is None:
                import boto3

                self._client = boto3.client(
                    "comprehend",
                    region_name=self._region,
                    config=client_config(self._timeout),
                    **self._credentials,
                )
            return self._client


def _error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""
