"""Sentiment eval: 3-class macro-F1 and how well a score threshold finds negative messages.

Reads JSONL lines `{"text", "label": "negative"|"neutral"|"positive", "lang"?}` (see
`evals.converters.sentiment`). The analyzer's `mixed` label counts for its dominant side
(the sign of the score), as 3-class annotators do. The threshold
figures answer the handoff question: of the messages scored below `threshold` (the tenant's
sentiment trigger), how many were negative (precision), and how many negatives it catches.

    python -m evals.sentiment /tmp/umsab-es.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.language import detect_language
from tools.sentiment import OfflineSentimentAnalyzer, SentimentAnalyzer

CLASSES = ("negative", "neutral", "positive")


def three_class(label: str, score: float) -> str:
    """The analyzer's label on the eval's 3-class scale: `mixed` goes to its dominant side."""
    if label != "mixed":
        return label
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"


def read_examples(path: Path) -> list[dict[str, Any]]:
    """The JSONL examples of `path` (blank lines skipped)."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    for number, row in enumerate(rows, 1):
        if row.get("label") not in CLASSES or not isinstance(row.get("text"), str):
            raise ValueError(f"{path}:{number}: need a text and a label in {CLASSES}")
    return rows


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score_predictions(
    gold: Sequence[str], predicted: Sequence[str], scores: Sequence[float], threshold: float
) -> dict[str, float]:
    """Macro-F1 over the three classes, negative-class P/R/F1, and threshold P/R."""
    per_class: dict[str, float] = {}
    negative: tuple[float, float, float] = (0.0, 0.0, 0.0)
    for label in CLASSES:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        precision = _ratio(tp, sum(1 for p in predicted if p == label))
        recall = _ratio(tp, sum(1 for g in gold if g == label))
        per_class[label] = _f1(precision, recall)
        if label == "negative":
            negative = (precision, recall, per_class[label])
    flagged = [g for g, s in zip(gold, scores, strict=True) if s < threshold]
    caught = sum(1 for g in flagged if g == "negative")
    return {
        "macro_f1": sum(per_class.values()) / len(CLASSES),
        "negative_precision": negative[0],
        "negative_recall": negative[1],
        "negative_f1": negative[2],
        "threshold_precision": _ratio(caught, len(flagged)),
        "threshold_recall": _ratio(caught, sum(1 for g in gold if g == "negative")),
    }


async def evaluate_sentiment(
    path: Path, analyzer: SentimentAnalyzer | None = None, threshold: float = -0.5
) -> dict[str, Any]:
    """Run `analyzer` (the offline one by default) over the file at `path`."""
    analyzer = analyzer or OfflineSentimentAnalyzer()
    rows = read_examples(path)
    gold: list[str] = []
    predicted: list[str] = []
    scores: list[float] = []
    timings: list[float] = []
    for row in rows:
        text = row["text"]
        language = row.get("lang") or detect_language(text)
        started = time.perf_counter()
        result = await analyzer.analyze(text, language)
        timings.append((time.perf_counter() - started) * 1000)
        gold.append(row["label"])
        predicted.append(three_class(result.label, result.score))
        scores.append(result.score)
    metrics: dict[str, Any] = score_predictions(gold, predicted, scores, threshold)
    metrics["threshold"] = threshold
    metrics["p50_ms"] = statistics.median(timings) if timings else 0.0
    metrics["n"] = len(rows)
    return metrics


def run_sentiment_eval(
    path: Path, analyzer: SentimentAnalyzer | None = None, threshold: float = -0.5
) -> dict[str, Any]:
    """Synchronous entry point (for the CLI): see `evaluate_sentiment`."""
    return asyncio.run(evaluate_sentiment(path, analyzer, threshold))


def format_table(result: dict[str, Any]) -> str:
    """A human-readable table of the figures."""
    threshold = result.get("threshold", -0.5)
    rows = [
        ("examples", f"{result['n']}"),
        ("macro-F1 (3 classes)", f"{result['macro_f1']:.3f}"),
        ("negative precision", f"{result['negative_precision']:.3f}"),
        ("negative recall", f"{result['negative_recall']:.3f}"),
        ("negative F1", f"{result['negative_f1']:.3f}"),
        (f"score < {threshold:g}: precision", f"{result['threshold_precision']:.3f}"),
        (f"score < {threshold:g}: recall", f"{result['threshold_recall']:.3f}"),
        ("p50 latency (ms)", f"{result['p50_ms']:.3f}"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>8}" for name, value in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: print the table, then the figures as JSON on the last line."""
    parser = argparse.ArgumentParser(
        prog="python -m evals.sentiment", description="Sentiment eval."
    )
    parser.add_argument(
        "--data", dest="path", type=Path, required=True, help="JSONL file of {text, label, lang?}"
    )
    parser.add_argument("--threshold", type=float, default=-0.5, help="handoff score threshold")
    args = parser.parse_args(argv)
    result = run_sentiment_eval(args.path, threshold=args.threshold)
    print(format_table(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
