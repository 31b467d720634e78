"""Sentiment eval sets from the original public files: umsab, emoevent, airline tweets.

Output lines are `{"text", "label": "negative"|"neutral"|"positive", "lang"}`, what
`evals.sentiment.run_sentiment_eval` reads. The data stay outside the repository
(research-only / non-commercial licences): convert to a scratch file, measure, don't commit.

    python -m evals.converters.sentiment --source umsab-es --split dev --out /tmp/umsab-es.jsonl
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal, TypedDict

from evals.converters.jsonl import write_jsonl

Label = Literal["negative", "neutral", "positive"]
Split = Literal["dev", "train", "val", "test"]

SOURCES = ("umsab-es", "umsab-en", "emoevent-es", "emoevent-en", "airline")
SPLITS: tuple[Split, ...] = ("dev", "train", "val", "test")
DEFAULT_DATA_DIR = Path("../shared/data")

UMSAB_LABELS: dict[str, Label] = {"0": "negative", "1": "neutral", "2": "positive"}
UMSAB_FOLDERS = {"es": "spanish", "en": "english"}
UMSAB_FILES: dict[Split, tuple[str, ...]] = {
    "dev": ("train", "val"),
    "train": ("train",),
    "val": ("val",),
    "test": ("test",),
}
# EmoEvent has emotions, not polarity: joy is positive, the four unpleasant emotions are
# negative, "others" (no emotion) is neutral; "surprise" can go either way and is left out.
EMOEVENT_LABELS: dict[str, Label] = {
    "joy": "positive",
    "anger": "negative",
    "disgust": "negative",
    "fear": "negative",
    "sadness": "negative",
    "others": "neutral",
}
EMOEVENT_FILES: dict[Split, tuple[str, ...]] = {
    "dev": ("train", "dev"),
    "train": ("train",),
    "val": ("dev",),
    "test": ("test",),
}
AIRLINE_LABELS: dict[str, Label] = {
    "negative": "negative",
    "neutral": "neutral",
    "positive": "positive",
}


class SentimentExample(TypedDict):
    """One line of a sentiment eval file."""

    text: str
    label: Label
    lang: str


def umsab_examples(
    data_dir: Path, language: str, split: Split = "dev"
) -> Iterator[SentimentExample]:
    """UMSAB (XLM-T) tweets: aligned `{split}_text.txt` / `{split}_labels.txt`, 0/1/2 labels."""
    folder = data_dir / "umsab-xlmt-sentiment" / UMSAB_FOLDERS[language]
    for name in UMSAB_FILES[split]:
        texts = (folder / f"{name}_text.txt").read_text(encoding="utf-8").splitlines()
        labels = (folder / f"{name}_labels.txt").read_text(encoding="utf-8").split()
        if len(texts) != len(labels):
            raise ValueError(f"{folder / name}: {len(texts)} texts but {len(labels)} labels")
        for text, label in zip(texts, labels, strict=True):
            yield {"text": text, "label": UMSAB_LABELS[label], "lang": language}


def emoevent_examples(
    data_dir: Path, language: str, split: Split = "dev"
) -> Iterator[SentimentExample]:
    """EmoEvent tweets (TSV, no quoting) with the emotion mapped to a polarity."""
    for name in EMOEVENT_FILES[split]:
        path = data_dir / "emoevent" / language / f"{name}.tsv"
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                label = EMOEVENT_LABELS.get((row.get("emotion") or "").strip())
                text = (row.get("tweet") or "").strip()
                if label and text:
                    yield {"text": text, "label": label, "lang": language}


def airline_examples(data_dir: Path, min_confidence: float = 0.0) -> Iterator[SentimentExample]:
    """Twitter US Airline Sentiment (`Tweets.csv`); optionally only confidently labelled tweets."""
    path = data_dir / "twitter-us-airline-sentiment" / "Tweets.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            label = AIRLINE_LABELS.get(row.get("airline_sentiment", ""))
            confidence = float(row.get("airline_sentiment_confidence") or 0.0)
            text = (row.get("text") or "").strip()
            if label and text and confidence >= min_confidence:
                yield {"text": text, "label": label, "lang": "en"}


def examples(
    source: str, data_dir: Path, split: Split = "dev", min_confidence: float = 0.0
) -> Iterator[SentimentExample]:
    """Examples of one source; the airline set has no official split and is read whole."""
    if source.startswith("umsab-"):
        return umsab_examples(data_dir, source.removeprefix("umsab-"), split)
    if source.startswith("emoevent-"):
        return emoevent_examples(data_dir, source.removeprefix("emoevent-"), split)
    if source == "airline":
        return airline_examples(data_dir, min_confidence)
    raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: convert one source to a JSONL file."""
    parser = argparse.ArgumentParser(
        prog="python -m evals.converters.sentiment", description="Sentiment eval sets to JSONL."
    )
    parser.add_argument("--source", required=True, choices=SOURCES)
    parser.add_argument("--out", required=True, type=Path, help="JSONL file to write")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="folder of the data sets"
    )
    parser.add_argument("--split", choices=SPLITS, default="dev", help="dev = train + validation")
    parser.add_argument(
        "--min-confidence", type=float, default=0.0, help="airline: drop less sure labels"
    )
    args = parser.parse_args(argv)
    count = write_jsonl(
        examples(args.source, args.data_dir, args.split, args.min_confidence), args.out
    )
    print(f"{count} examples -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
