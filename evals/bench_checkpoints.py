"""`atiende bench checkpoints`: checkpoint storage per turn as one conversation grows.

Runs one conversation of `--turns` customer turns through the real graph (offline answers
from the demo knowledge base) on the real saver: SQLite in a temporary folder by default,
Postgres when DATABASE_URL (or `--database-url`) names one (only the bench's own thread is
measured, and it is deleted afterwards). After every turn it sums the bytes of the thread's
rows in the saver's tables. `bytes_per_turn_at_N` is the mean over the 10 turns ending at
turn N. Prints a table, then JSON as the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from checkpoints.memory import CustomerMemory
from checkpoints.persistence import Persistence, open_persistence
from config.settings import Settings
from graph.builder import build_graph
from graph.context import HandoffRules, TenantContext
from graph.state import MESSAGES_SNAPSHOT_EVERY
from tools.knowledge import open_knowledge_base
from tools.knowledge.shared import use_knowledge_base
from tools.knowledge.types import Document

Durability = Literal["exit", "async", "sync"]
WINDOW = 10
TENANT = "bench"
TARGET_BYTES_PER_TURN = 10 * 1024
QUESTIONS = (
    "¿cuál es el horario de atención?",
    "¿aceptan devoluciones de productos usados?",
    "¿cuánto cuesta el envío a Monterrey?",
    "¿aceptan pagos con tarjeta de crédito?",
    "Hola, soy Ana y mi pedido 4411 no ha llegado, ¿cuánto tarda el envío?",
    "what are your opening hours on saturday?",
    "¿puedo cambiar un producto por otro color?",
    "¿hacen factura?",
)
# A tenant that keeps answering: no handoff on repeats or unanswered questions.
CONTEXT = TenantContext(
    tenant_id=TENANT,
    company_name="Tienda Luna",
    handoff=HandoffRules(
        sentiment_threshold=-2.0, keywords=(), max_fallbacks=10**6, loop_similarity=2.0
    ),
)
DOCUMENTS: list[Document] = [
    {
        "id": "horarios",
        "title": "Horario de atención",
        "text": "Nuestro horario de atención es de lunes a viernes de 9:00 a 18:00 y los sábados "
        "de 10:00 a 14:00 (hora de Ciudad de México). Los domingos y días festivos la tienda "
        "permanece cerrada. Por WhatsApp puedes escribirnos a cualquier hora.",
    },
    {
        "id": "devoluciones",
        "title": "Devoluciones y cambios",
        "text": "Aceptamos devoluciones dentro de los 30 días posteriores a la entrega. El producto "
        "debe estar sin usar y en su empaque original, con el comprobante de compra. El reembolso "
        "se hace al mismo medio de pago en 5 a 10 días hábiles. Los cambios de color no tienen costo.",
    },
    {
        "id": "envios",
        "title": "Envíos",
        "text": "Hacemos envíos a todo México. El envío estándar tarda de 3 a 5 días hábiles y "
        "cuesta 99 pesos; es gratis en compras mayores a 999 pesos. El envío express llega en 1 a "
        "2 días hábiles y cuesta 199 pesos. Al despachar tu pedido te enviamos el número de guía.",
    },
    {
        "id": "pagos",
        "title": "Formas de pago y facturas",
        "text": "Aceptamos tarjetas de crédito y débito Visa, Mastercard y American Express, "
        "transferencia bancaria y pago en efectivo en OXXO. Emitimos factura electrónica: "
        "envíanos tu RFC dentro del mes de la compra.",
    },
]
_SQLITE_BYTES = """SELECT
  (SELECT COALESCE(SUM(LENGTH(thread_id) + LENGTH(checkpoint_ns) + LENGTH(checkpoint_id)
      + COALESCE(LENGTH(parent_checkpoint_id), 0) + COALESCE(LENGTH(type), 0)
      + COALESCE(LENGTH(checkpoint), 0) + COALESCE(LENGTH(metadata), 0)), 0)
   FROM checkpoints WHERE thread_id = :thread)
  + (SELECT COALESCE(SUM(LENGTH(thread_id) + LENGTH(checkpoint_ns) + LENGTH(checkpoint_id)
      + LENGTH(task_id) + LENGTH(task_path) + 8 + LENGTH(channel) + COALESCE(LENGTH(type), 0)
      + COALESCE(LENGTH(value), 0)), 0)
   FROM writes WHERE thread_id = :thread) AS n"""
_POSTGRES_BYTES = """SELECT
  (SELECT COALESCE(SUM(pg_column_size(c.*)), 0) FROM checkpoints c WHERE thread_id = :thread)
  + (SELECT COALESCE(SUM(pg_column_size(b.*)), 0) FROM checkpoint_blobs b WHERE thread_id = :thread)
  + (SELECT COALESCE(SUM(pg_column_size(w.*)), 0) FROM checkpoint_writes w WHERE thread_id = :thread)
  AS n"""


async def thread_bytes(persistence: Persistence, thread_id: str) -> int:
    """Bytes of one thread's rows in the saver's tables (Postgres: as stored, compressed)."""
    sql = _SQLITE_BYTES if persistence.backend == "sqlite" else _POSTGRES_BYTES
    row = await persistence.db.fetch_one(sql, {"thread": thread_id})
    return int(row["n"]) if row else 0


@dataclass(frozen=True)
class TurnFigure:
    turn: int
    bytes_total: int
    bytes_turn: int
    seconds: float


def per_turn_at(figures: Sequence[TurnFigure], turn: int, window: int = WINDOW) -> float | None:
    """Mean bytes per turn over the `window` turns ending at `turn` (None when not reached)."""
    if turn > len(figures) or turn < 1:
        return None
    start = max(0, turn - window)
    before = figures[start - 1].bytes_total if start else 0
    return (figures[turn - 1].bytes_total - before) / (turn - start)


async def run_conversation(
    persistence: Persistence, turns: int, durability: Durability, thread_id: str
) -> tuple[list[TurnFigure], int]:
    """Run the conversation; the figures per turn and the messages the thread keeps."""
    graph: CompiledStateGraph[Any, Any, Any, Any] = build_graph().compile(
        checkpointer=persistence.checkpointer, store=persistence.store
    )
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    figures: list[TurnFigure] = []
    for turn in range(1, turns + 1):
        question = QUESTIONS[(turn - 1) % len(QUESTIONS)]
        started = time.perf_counter()
        await graph.ainvoke(
            {"messages": [HumanMessage(f"{question} ({turn})")], "customer": f"cli:{thread_id}"},
            config=config,
            context=CONTEXT,
            durability=durability,
        )
        seconds = time.perf_counter() - started
        total = await thread_bytes(persistence, thread_id)
        previous = figures[-1].bytes_total if figures else 0
        figures.append(TurnFigure(turn, total, total - previous, seconds))
    state = await graph.aget_state(config)
    return figures, len(state.values.get("messages", []))


async def bench(
    turns: int, durability: Durability, database_url: str | None, data_dir: Path
) -> tuple[dict[str, Any], list[TurnFigure]]:
    """Run the conversation on the configured saver: the JSON figures and the per-turn ones."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        app_env="test",
        data_dir=data_dir,
        database_url=database_url,
        llm_mode="extractive",
        qdrant_url=None,
        qdrant_host=None,
    )
    knowledge = await asyncio.to_thread(open_knowledge_base, settings)
    await asyncio.to_thread(knowledge.upsert, TENANT, DOCUMENTS)
    use_knowledge_base(knowledge)
    thread_id = f"bench-{secrets.token_hex(4)}"
    try:
        async with open_persistence(settings) as persistence:
            try:
                figures, kept = await run_conversation(persistence, turns, durability, thread_id)
            finally:
                await persistence.checkpointer.adelete_thread(thread_id)
                await CustomerMemory(persistence.store).erase(TENANT, f"cli:{thread_id}")
            backend = persistence.backend
    finally:
        use_knowledge_base(None)
        knowledge.close()
    return report(figures, kept, backend, durability), figures


def report(
    figures: Sequence[TurnFigure], kept: int, backend: str, durability: Durability
) -> dict[str, Any]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    def ms_at(turn: int) -> float | None:
        if turn > len(figures):
            return None
        chosen = figures[max(0, turn - WINDOW) : turn]
        return round(1000 * sum(f.seconds for f in chosen) / len(chosen), 1)

    at_100 = per_turn_at(figures, 100)
    return {
        "backend": backend,
        "durability": durability,
        "turns": len(figures),
        "messages_in_thread": kept,
        "snapshot_every_message_writes": MESSAGES_SNAPSHOT_EVERY,
        "bytes_per_turn_at_10": rounded(per_turn_at(figures, 10)),
        "bytes_per_turn_at_100": rounded(at_100),
        "max_turn_bytes": max((f.bytes_turn for f in figures), default=0),
        "total_bytes": figures[-1].bytes_total if figures else 0,
        "ms_per_turn_at_10": ms_at(10),
        "ms_per_turn_at_100": ms_at(100),
        "target_bytes_per_turn_at_100": TARGET_BYTES_PER_TURN,
        "meets_target": at_100 is not None and at_100 <= TARGET_BYTES_PER_TURN,
    }


def table(figures_report: dict[str, Any], figures: Sequence[TurnFigure]) -> str:
    marks = sorted({1, 10, 25, 50, 75, 100, len(figures)} & set(range(1, len(figures) + 1)))
    lines = [
        f"checkpoint storage, one growing conversation ({figures_report['backend']}, "
        f"durability={figures_report['durability']})",
        f"{'turn':>6} {'bytes this turn':>16} {'bytes/turn (10)':>16} {'total bytes':>12} {'ms':>8}",
    ]
    for turn in marks:
        figure = figures[turn - 1]
        mean = per_turn_at(figures, turn) or 0.0
        lines.append(
            f"{turn:>6} {figure.bytes_turn:>16} {mean:>16.1f} {figure.bytes_total:>12} "
            f"{1000 * figure.seconds:>8.1f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="atiende bench checkpoints", description=__doc__)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument(
        "--durability",
        choices=["exit", "async", "sync"],
        default="exit",
        help="how the server runs turns (exit: one checkpoint per turn)",
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL"), help="default: DATABASE_URL"
    )
    args = parser.parse_args(argv)
    if args.turns < 1:
        parser.error("--turns must be at least 1")
    with tempfile.TemporaryDirectory(prefix="atiende-bench-") as folder:
        result, figures = asyncio.run(
            bench(args.turns, args.durability, args.database_url, Path(folder))
        )
    print(table(result, figures))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
