"""Speed of the per-message text rules: the offline sentiment analyzer, p50/p95 per message,
with and without detecting the language first (what the sentiment node does), and the
handoff router's word rules (a request for a person, a yes/no to the bot's offer).

    atiende bench sentiment                       # built-in chat messages, es and en
    atiende bench sentiment --data FILE.jsonl     # lines {"text", "lang"?} (e.g. converted tweets)

Prints a table, then the figures as JSON on the last line (`p50_ms`: the analyzer alone).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.consent import read_answer
from tools.intent import asks_for_human
from tools.language import detect_language
from tools.sentiment import OfflineSentimentAnalyzer

SAMPLE_MESSAGES: tuple[str, ...] = (
    "hola, buenas tardes",
    "¿a qué hora abren mañana?",
    "pésimo servicio, ya van 3 veces y nadie me responde 😡",
    "muchas gracias!! todo llegó perfecto 😍",
    "no me llegó el pedido y ya pasó una semana, qué onda??",
    "está bien, gracias",
    "NO ME HAN DEVUELTO MI DINERO, SON UNOS ESTAFADORES",
    "el producto es bueno pero el envío tardó muchísimo",
    "hi, where is my order #4411?",
    "this is the worst customer service ever, I want a refund now",
    "thanks a lot, you guys are awesome :)",
    "not bad, but the app keeps crashing when I pay",
    "ok",
    "👍",
    "q onda, me pueden ayudar xfa? no puedo entrar a mi cuenta desde ayer y necesito "
    "hacer un pago urgente antes de que me cobren recargos, ya intenté cambiar la contraseña "
    "dos veces y nada, sigue diciendo que el usuario no existe",
)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def read_messages(path: Path) -> list[tuple[str, str]]:
    """(text, language) pairs of a JSONL file (`lang` detected when missing)."""
    pairs = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                text = str(row["text"])
                pairs.append((text, str(row.get("lang") or detect_language(text))))
    return pairs


def run_bench(messages: Sequence[tuple[str, str]], repeat: int = 20) -> dict[str, Any]:
    """Time every message `repeat` times (after one warm-up pass)."""
    analyzer = OfflineSentimentAnalyzer()
    for text, language in messages:
        analyzer.score(text, language)
    alone: list[float] = []
    with_detection: list[float] = []
    intent: list[float] = []
    for _ in range(repeat):
        for text, language in messages:
            started = time.perf_counter_ns()
            analyzer.score(text, language)
            alone.append((time.perf_counter_ns() - started) / 1e6)
            started = time.perf_counter_ns()
            analyzer.score(text, detect_language(text, default=language))
            with_detection.append((time.perf_counter_ns() - started) / 1e6)
            started = time.perf_counter_ns()
            asks_for_human(text)
            read_answer(text)
            intent.append((time.perf_counter_ns() - started) / 1e6)
    total_seconds = sum(alone) / 1000
    return {
        "p50_ms": statistics.median(alone) if alone else 0.0,
        "p95_ms": percentile(alone, 0.95),
        "max_ms": max(alone, default=0.0),
        "with_language_p50_ms": statistics.median(with_detection) if with_detection else 0.0,
        "with_language_p95_ms": percentile(with_detection, 0.95),
        "intent_p50_ms": statistics.median(intent) if intent else 0.0,
        "intent_p95_ms": percentile(intent, 0.95),
        "messages_per_second": len(alone) / total_seconds if total_seconds else 0.0,
        "n": len(messages),
        "repeat": repeat,
    }


def format_table(result: dict[str, Any]) -> str:
    rows = [
        ("messages x repeat", f"{result['n']} x {result['repeat']}"),
        ("analyzer p50 (ms)", f"{result['p50_ms']:.4f}"),
        ("analyzer p95 (ms)", f"{result['p95_ms']:.4f}"),
        ("analyzer max (ms)", f"{result['max_ms']:.4f}"),
        ("+ language p50 (ms)", f"{result['with_language_p50_ms']:.4f}"),
        ("+ language p95 (ms)", f"{result['with_language_p95_ms']:.4f}"),
        ("handoff words p50 (ms)", f"{result['intent_p50_ms']:.4f}"),
        ("handoff words p95 (ms)", f"{result['intent_p95_ms']:.4f}"),
        ("messages / second", f"{result['messages_per_second']:.0f}"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>12}" for name, value in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: print the table, then the figures as JSON on the last line."""
    parser = argparse.ArgumentParser(
        prog="atiende bench sentiment", description="Offline sentiment analyzer speed."
    )
    parser.add_argument("--data", type=Path, help="JSONL of {text, lang?} (default: built-in)")
    parser.add_argument("--repeat", type=int, default=20, help="passes over the messages")
    parser.add_argument("--limit", type=int, default=5000, help="at most this many messages")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.limit < 1:
        parser.error("--repeat and --limit must be positive")
    if args.data:
        messages = read_messages(args.data)[: args.limit]
    else:
        messages = [(text, detect_language(text)) for text in SAMPLE_MESSAGES]
    if not messages:
        parser.error("no messages to time")
    result = run_bench(messages, args.repeat)
    print(format_table(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
