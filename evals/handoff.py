"""Handoff eval: how well `asks_for_human` finds explicit requests for a person.

Reads JSONL lines `{"text", "handoff": bool}` (see `evals.converters.handoff`).

    python -m evals.handoff /tmp/handoff.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tools.intent import asks_for_human

Detector = Callable[[str], bool]


def read_examples(path: Path) -> list[dict[str, Any]]:
    """The JSONL examples of `path` (blank lines skipped)."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    for number, row in enumerate(rows, 1):
        if not isinstance(row.get("handoff"), bool) or not isinstance(row.get("text"), str):
            raise ValueError(f"{path}:{number}: need a text and a boolean handoff")
    return rows


def score_detections(gold: Sequence[bool], predicted: Sequence[bool]) -> dict[str, Any]:
    """Precision, recall, F1 and false-positive rate of the positive (handoff) class."""
    tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g and p)
    fp = sum(1 for g, p in zip(gold, predicted, strict=True) if not g and p)
    fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g and not p)
    tn = len(gold) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_positive_rate": fp / (fp + tn) if fp + tn else 0.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "n": len(gold),
    }


def run_handoff_eval(path: Path, detector: Detector | None = None) -> dict[str, Any]:
    """Run `detector` (`asks_for_human` with the built-in vocabulary by default) over `path`."""
    detect = detector or asks_for_human
    rows = read_examples(path)
    return score_detections([row["handoff"] for row in rows], [detect(row["text"]) for row in rows])


def format_table(result: dict[str, Any]) -> str:
    """A human-readable table of the figures."""
    rows = [
        ("examples", f"{result['n']}"),
        ("requests (positives)", f"{result['tp'] + result['fn']}"),
        ("precision", f"{result['precision']:.3f}"),
        ("recall", f"{result['recall']:.3f}"),
        ("F1", f"{result['f1']:.3f}"),
        ("false-positive rate", f"{result['false_positive_rate']:.4f}"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>8}" for name, value in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: print the table, then the figures as JSON on the last line."""
    parser = argparse.ArgumentParser(prog="python -m evals.handoff", description="Handoff eval.")
    parser.add_argument(
        "--data", dest="path", type=Path, required=True, help="JSONL file of {text, handoff}"
    )
    args = parser.parse_args(argv)
    result = run_handoff_eval(args.path)
    print(format_table(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
