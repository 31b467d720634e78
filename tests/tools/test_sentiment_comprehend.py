"""AWS Comprehend provider through botocore's Stubber: scores, labels, failures, oversize text."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from config.settings import get_settings
from tools.sentiment import (
    ComprehendSentimentAnalyzer,
    OfflineSentimentAnalyzer,
    get_sentiment_analyzer,
)
from tools.sentiment.comprehend import MAX_TEXT_BYTES, client_config, cut_utf8


def detect_response(label: str, positive: float, negative: float, mixed: float = 0.0) -> dict:
    neutral = max(0.0, 1.0 - positive - negative - mixed)
    return {
        "Sentiment": label,
        "SentimentScore": {
            "Positive": positive,
            "Negative": negative,
            "Neutral": neutral,
            "Mixed": mixed,
        },
    }


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "comprehend",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=client_config(1.0),
    )


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def analyzer(client: Any) -> ComprehendSentimentAnalyzer:
    return ComprehendSentimentAnalyzer(client)


async def test_positive(stubber: Stubber, analyzer: ComprehendSentimentAnalyzer) -> None:
    stubber.add_response(
        "detect_sentiment",
        detect_response("POSITIVE", 0.97, 0.01),
        {"Text": "¡Muchas gracias, todo llegó perfecto!", "LanguageCode": "es"},
    )
    mood = await analyzer.analyze("¡Muchas gracias, todo llegó perfecto!", "es")
    assert mood.label == "positive" and mood.score == pytest.approx(0.96)


async def test_negative_is_below_the_handoff_threshold(
    stubber: Stubber, analyzer: ComprehendSentimentAnalyzer
) -> None:
    stubber.add_response(
        "detect_sentiment",
        detect_response("NEGATIVE", 0.02, 0.95),
        {"Text": "This is the worst service ever", "LanguageCode": "en"},
    )
    mood = await analyzer.analyze("This is the worst service ever", "en")
    assert mood.label == "negative" and mood.score == pytest.approx(-0.93) and mood.score < -0.5


async def test_mixed(stubber: Stubber, analyzer: ComprehendSentimentAnalyzer) -> None:
    text = "The product is great but delivery was awful"
    stubber.add_response(
        "detect_sentiment",
        detect_response("MIXED", 0.40, 0.35, mixed=0.2),
        {"Text": text, "LanguageCode": "en"},
    )
    mood = await analyzer.analyze(text, "en")
    assert mood.label == "mixed" and mood.score == pytest.approx(0.05)


async def test_throttling_falls_back_to_the_offline_analyzer(
    stubber: Stubber, analyzer: ComprehendSentimentAnalyzer
) -> None:
    text = "pésimo servicio, ya van 3 veces y nadie me responde 😡"
    stubber.add_client_error(
        "detect_sentiment",
        service_error_code="ThrottlingException",
        service_message="Rate exceeded",
        http_status_code=400,
    )
    mood = await analyzer.analyze(text, "es")
    assert mood == OfflineSentimentAnalyzer().score(text, "es")
    assert mood.score < -0.5


async def test_other_errors_fall_back_too(
    stubber: Stubber, analyzer: ComprehendSentimentAnalyzer
) -> None:
    stubber.add_client_error("detect_sentiment", service_error_code="UnsupportedLanguageException")
    stubber.add_response("detect_sentiment", {"Sentiment": "NEUTRAL"})  # malformed: no scores
    assert (await analyzer.analyze("hola", "es")).label == "neutral"
    assert (await analyzer.analyze("gracias, excelente", "es")).label == "positive"


async def test_oversize_text_is_cut_on_a_character_boundary(
    stubber: Stubber, analyzer: ComprehendSentimentAnalyzer
) -> None:
    text = "ñandú 😡 " * 3000  # ~36 KB of UTF-8 with 2- and 4-byte characters
    sent: list[str] = []

    def check(params: dict[str, Any], **_: Any) -> None:
        sent.append(params["Text"])

    analyzer._client.meta.events.register("provide-client-params.comprehend.*", check)
    stubber.add_response(
        "detect_sentiment",
        detect_response("NEGATIVE", 0.1, 0.7),
        {"Text": ANY, "LanguageCode": "es"},
    )
    mood = await analyzer.analyze(text, "es")
    assert mood.label == "negative"
    [cut] = sent
    assert len(cut.encode("utf-8")) <= MAX_TEXT_BYTES
    assert len(cut.encode("utf-8")) > MAX_TEXT_BYTES - 4
    assert text.startswith(cut)


def test_cut_utf8() -> None:
    assert cut_utf8("hola") == "hola"
    assert cut_utf8("ñ" * 3, 5) == "ññ"
    assert cut_utf8("a😡", 4) == "a"
    assert cut_utf8("😡" * 2000).encode() == ("😡" * 1250).encode()


async def test_empty_text_is_neutral_without_a_call(
    stubber: Stubber, analyzer: ComprehendSentimentAnalyzer
) -> None:
    assert (await analyzer.analyze("", "es")).label == "neutral"
    assert (await analyzer.analyze("   \n", "en")).score == 0.0


async def test_only_emoji_and_unknown_language_are_detected(
    stubber: Stubber, analyzer: ComprehendSentimentAnalyzer
) -> None:
    stubber.add_response(
        "detect_sentiment",
        detect_response("POSITIVE", 0.8, 0.0),
        {"Text": "👍👍🙂", "LanguageCode": ANY},
    )
    stubber.add_response(
        "detect_sentiment",
        detect_response("NEGATIVE", 0.0, 0.8),
        {"Text": "the order never llegó, qué mal", "LanguageCode": ANY},
    )
    assert (await analyzer.analyze("👍👍🙂", "")).label == "positive"
    assert (await analyzer.analyze("the order never llegó, qué mal", "pt")).label == "negative"


async def test_the_call_runs_off_the_event_loop(
    stubber: Stubber, analyzer: ComprehendSentimentAnalyzer
) -> None:
    threads: list[int] = []
    analyzer._client.meta.events.register(
        "before-parameter-build.comprehend.DetectSentiment",
        lambda **_: threads.append(threading.get_ident()),
    )
    stubber.add_response("detect_sentiment", detect_response("NEUTRAL", 0.1, 0.1))
    await analyzer.analyze("¿a qué hora abren?", "es")
    assert threads and threads[0] != threading.get_ident()


def test_provider_is_chosen_by_settings_or_by_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    get_sentiment_analyzer.cache_clear()
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("SENTIMENT_PROVIDER", "comprehend")
        monkeypatch.setenv("AWS_REGION", "eu-west-1")
        get_settings.cache_clear()
        configured = get_sentiment_analyzer()
        assert isinstance(configured, ComprehendSentimentAnalyzer)
        assert configured._region == "eu-west-1"
        assert isinstance(configured.fallback, OfflineSentimentAnalyzer)
        assert isinstance(get_sentiment_analyzer("offline"), OfflineSentimentAnalyzer)
        assert get_sentiment_analyzer("comprehend") is get_sentiment_analyzer("comprehend")
        with pytest.raises(ValueError, match="unknown sentiment provider"):
            get_sentiment_analyzer("vader")
    finally:
        get_sentiment_analyzer.cache_clear()
        get_settings.cache_clear()
