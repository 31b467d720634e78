from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from evals.sentiment import format_table, main, run_sentiment_eval, score_predictions
from tools.sentiment import Sentiment


class ScriptedAnalyzer:
    """Answers from a table, so the metrics can be checked by hand."""

    def __init__(self, answers: dict[str, Sentiment]) -> None:
        self.answers = answers
        self.languages: list[str] = []

    async def analyze(self, text: str, language: str) -> Sentiment:
        self.languages.append(language)
        return self.answers[text]


def write(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows) + "\n", encoding="utf-8")
    return path


def test_metrics_on_a_known_confusion(tmp_path: Path) -> None:
    # gold:  neg neg neg neu neu pos pos
    # label: neg neg neu neg neu pos mixed(+) ; scores: -0.9 -0.3 0 -0.6 0 0.8 0.2
    answers = {
        "a": Sentiment(-0.9, "negative"),
        "b": Sentiment(-0.3, "negative"),
        "c": Sentiment(0.0, "neutral"),
        "d": Sentiment(-0.6, "negative"),
        "e": Sentiment(0.0, "neutral"),
        "f": Sentiment(0.8, "positive"),
        "g": Sentiment(0.2, "mixed"),
    }
    gold = ["negative"] * 3 + ["neutral"] * 2 + ["positive"] * 2
    rows = [{"text": t, "label": g, "lang": "es"} for t, g in zip("abcdefg", gold, strict=True)]
    analyzer = ScriptedAnalyzer(answers)
    result = run_sentiment_eval(write(tmp_path / "s.jsonl", rows), analyzer, threshold=-0.5)

    # negative: tp 2, predicted 3, gold 3 -> P = R = F1 = 2/3
    assert result["negative_precision"] == pytest.approx(2 / 3)
    assert result["negative_recall"] == pytest.approx(2 / 3)
    assert result["negative_f1"] == pytest.approx(2 / 3)
    # neutral: tp 1, predicted 2, gold 2 -> 1/2; positive ("mixed" with a positive score
    # counts as positive): tp 2, predicted 2, gold 2 -> 1
    assert result["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    # score < -0.5: "a" (negative) and "d" (neutral) -> precision 1/2, recall 1/3
    assert result["threshold_precision"] == pytest.approx(1 / 2)
    assert result["threshold_recall"] == pytest.approx(1 / 3)
    assert result["n"] == 7 and result["p50_ms"] >= 0
    assert analyzer.languages == ["es"] * 7


def test_language_is_detected_when_missing(tmp_path: Path) -> None:
    analyzer = ScriptedAnalyzer(
        {"where is my order": Sentiment(0.0, "neutral"), "¿y mi pedido?": Sentiment(0.0, "neutral")}
    )
    rows = [
        {"text": "where is my order", "label": "neutral"},
        {"text": "¿y mi pedido?", "label": "neutral"},
    ]
    run_sentiment_eval(write(tmp_path / "s.jsonl", rows), analyzer)
    assert analyzer.languages == ["en", "es"]


def test_default_analyzer_and_table(tmp_path: Path) -> None:
    rows = [
        {"text": "pésimo servicio, es una estafa 😡", "label": "negative", "lang": "es"},
        {"text": "excelente atención, muchas gracias", "label": "positive", "lang": "es"},
        {"text": "what are your opening hours?", "label": "neutral", "lang": "en"},
    ]
    result = run_sentiment_eval(write(tmp_path / "s.jsonl", rows))
    assert result["macro_f1"] == 1.0 and result["threshold_precision"] == 1.0
    table = format_table(result)
    assert "macro-F1" in table and "score < -0.5" in table


def test_cli_prints_a_table_then_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "s.jsonl", [{"text": "genial 😍", "label": "positive", "lang": "es"}])
    assert main(["--data", str(path), "--threshold", "-0.3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["n"] == 1 and figures["threshold"] == -0.3
    assert lines[0].startswith("examples")


def test_rejects_a_bad_label(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", [{"text": "hola", "label": "happy"}])
    with pytest.raises(ValueError, match=r"s\.jsonl:1"):
        run_sentiment_eval(path)


def test_empty_denominators_give_zero() -> None:
    figures = score_predictions(["neutral"], ["neutral"], [0.0], -0.5)
    assert figures["negative_precision"] == 0.0 and figures["threshold_recall"] == 0.0
