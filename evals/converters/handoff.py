"""Handoff (asks-for-a-human) eval sets from the original public files.

Output lines are `{"text", "handoff": bool}`, what `evals.handoff.run_handoff_eval` reads.
- bitext: `contact_human_agent` utterances are positives, the other support intents negatives,
  except `contact_customer_service` ("what hours can I call customer service", "I'd like to
  speak to customer service"), which mixes both senses and is left out.
- clinc150, banking77: ordinary assistant / banking requests, all negatives.
- nlupp: utterances whose intents include `handoff` are positives, the rest negatives.

    python -m evals.converters.handoff --source bitext --source clinc150 --out /tmp/handoff.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal, TypedDict

from evals.converters.jsonl import write_jsonl

Split = Literal["dev", "test"]

SOURCES = ("bitext", "clinc150", "banking77", "nlupp")
DEFAULT_DATA_DIR = Path("../shared/data")

BITEXT_POSITIVE = "contact_human_agent"
BITEXT_AMBIGUOUS = frozenset({"contact_customer_service"})
BITEXT_FILES: dict[Split, tuple[str, ...]] = {
    "dev": ("Training", "Validation"),
    "test": ("Testing",),
}
CLINC_KEYS: dict[Split, tuple[str, ...]] = {
    "dev": ("train", "val", "oos_train", "oos_val"),
    "test": ("test", "oos_test"),
}
BANKING_FILES: dict[Split, str] = {"dev": "train.csv", "test": "test.csv"}


class HandoffExample(TypedDict):
    """One line of a handoff eval file."""

    text: str
    handoff: bool


def bitext_examples(data_dir: Path, split: Split = "dev") -> Iterator[HandoffExample]:
    """Bitext customer-service intents: `contact_human_agent` against the other intents."""
    folder = data_dir / "bitext-customer-support-intents"
    for name in BITEXT_FILES[split]:
        path = folder / f"Bitext_Sample_Customer_Service_{name}_Dataset.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                intent, text = row["intent"], row["utterance"].strip()
                if text and intent not in BITEXT_AMBIGUOUS:
                    yield {"text": text, "handoff": intent == BITEXT_POSITIVE}


def clinc150_examples(data_dir: Path, split: Split = "dev") -> Iterator[HandoffExample]:
    """CLINC150 utterances (every `data_*.json` in the folder, the split's keys), all negatives."""
    seen: set[str] = set()
    for path in sorted((data_dir / "clinc150").glob("data_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in CLINC_KEYS[split]:
            for utterance, _intent in data.get(key, []):
                text = str(utterance).strip()
                if text and text not in seen:
                    seen.add(text)
                    yield {"text": text, "handoff": False}


def banking77_examples(data_dir: Path, split: Split = "dev") -> Iterator[HandoffExample]:
    """BANKING77 customer queries, all negatives (the set has no human-agent intent)."""
    path = data_dir / "banking77" / BANKING_FILES[split]
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = row["text"].strip()
            if text:
                yield {"text": text, "handoff": False}


def nlupp_examples(data_dir: Path) -> Iterator[HandoffExample]:
    """NLU++ banking and hotels folds: the multi-label `handoff` intent against the rest."""
    for path in sorted((data_dir / "nlupp").glob("*/fold*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")):
            text = str(item.get("text", "")).strip()
            if text:
                yield {"text": text, "handoff": "handoff" in (item.get("intents") or [])}


def examples(source: str, data_dir: Path, split: Split = "dev") -> Iterator[HandoffExample]:
    """Examples of one source (NLU++ has no split: all of it is read)."""
    if source == "bitext":
        return bitext_examples(data_dir, split)
    if source == "clinc150":
        return clinc150_examples(data_dir, split)
    if source == "banking77":
        return banking77_examples(data_dir, split)
    if source == "nlupp":
        return nlupp_examples(data_dir)
    raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: convert one or more sources into a single JSONL file."""
    parser = argparse.ArgumentParser(
        prog="python -m evals.converters.handoff", description="Handoff eval sets to JSONL."
    )
    parser.add_argument("--source", required=True, action="append", choices=SOURCES)
    parser.add_argument("--out", required=True, type=Path, help="JSONL file to write")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="folder of the data sets"
    )
    parser.add_argument(
        "--split", choices=("dev", "test"), default="dev", help="dev = train + validation"
    )
    args = parser.parse_args(argv)
    rows = (row for source in args.source for row in examples(source, args.data_dir, args.split))
    count = write_jsonl(rows, args.out)
    print(f"{count} examples -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
