"""Responder benchmark: its own overhead, and how far a turn can run past its budget.

1. Overhead excluding the provider call: the responder node answers `--runs` questions over
   the demo passages through an instant chat model; overhead = node time minus the time spent
   inside the model's `_agenerate` (prompt building, LangChain's call machinery, parsing and
   the guards all count). Also litellm's own overhead per call (as litellm reports it) against
   a loopback OpenAI-compatible server.
2. Budget: `--turns` whole graph runs (fresh conversations) in LLM mode against a loopback
   server that accepts and never answers, with a `--budget` second turn budget passed as the
   run's `turn_deadline` (as the server passes it); how far the slowest turn ran past the
   budget (the customer gets the apology in time).
3. Slow summaries: `--turns` handoff turns ("quiero hablar con un asesor") and `--turns`
   summary turns (a question answered at once, on a turn that refreshes the summary), with a
   summarizer that never answers: when the customer's reply was ready (the moment the server
   sends it: `graph.reply.run_turn`'s `on_reply`) and when the whole turn ended, against the
   budget (the floor: the reply must not wait for the summary, the turn must end in budget).

    atiende bench responder [--runs 300] [--turns 5] [--budget 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from unittest.mock import patch

import yaml
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.runtime import Runtime

from config.settings import get_settings
from graph.builder import build_graph
from graph.context import TenantContext
from graph.reply import run_turn
from graph.state import ConversationState
from nodes.responder import responder
from tools import llm
from tools.knowledge import open_knowledge_base
from tools.knowledge.shared import use_knowledge_base
from tools.knowledge.types import Document, Passage

CONTEXT = TenantContext(tenant_id="bench", company_name="Tienda Luna")
DOCUMENTS: list[Document] = [
    {
        "id": "envios",
        "title": "Envíos",
        "text": "Hacemos envíos a todo México. El envío estándar tarda de 3 a 5 días hábiles y "
        "cuesta 99 pesos; es gratis en compras mayores a 999 pesos. El envío express llega en "
        "1 a 2 días hábiles y cuesta 199 pesos.",
    },
    {
        "id": "pagos",
        "title": "Formas de pago",
        "text": "Aceptamos tarjetas Visa, Mastercard y American Express, transferencia, OXXO y "
        "Mercado Pago. Hasta 6 meses sin intereses en compras mayores a 1,500 pesos.",
    },
    {
        "id": "horarios",
        "title": "Horario",
        "text": "Atendemos de lunes a viernes de 9:00 a 18:00 y los sábados de 10:00 a 14:00.",
    },
    {
        "id": "devoluciones",
        "title": "Devoluciones",
        "text": "Aceptamos devoluciones dentro de los 30 días posteriores a la entrega; el "
        "reembolso llega en 5 a 10 días hábiles.",
    },
]
PASSAGES: list[Passage] = [
    {
        "document_id": d["id"],
        "title": d["title"],
        "chunk": 0,
        "score": 0.5 - i * 0.05,
        "text": d["text"],
    }
    for i, d in enumerate(DOCUMENTS)
]
REPLY = json.dumps(
    {
        "kind": "answer",
        "reply": "El envío estándar cuesta 99 pesos y llega en 3 a 5 días hábiles.",
        "sources": ["envios"],
    }
)
COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 400, "completion_tokens": 30, "total_tokens": 430},
}


class InstantModel(FakeListChatModel):
    """Answers at once and adds up the time spent inside the call."""

    inside: float = 0.0

    async def _agenerate(self, *args: Any, **kwargs: Any) -> ChatResult:
        started = time.perf_counter()
        try:
            return await super()._agenerate(*args, **kwargs)
        finally:
            self.inside += time.perf_counter() - started


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def responder_overhead(runs: int) -> list[float]:
    """Milliseconds of responder work per answered turn, the model call excluded."""
    model = InstantModel(responses=[REPLY])
    runtime = Runtime(context=CONTEXT)
    earlier: list[AnyMessage] = [HumanMessage("hola"), AIMessage("¡Hola! ¿En qué puedo ayudarte?")]
    overheads: list[float] = []
    with patch.object(llm, "get_chat_model", lambda *args, **kwargs: model):
        for number in range(runs + 10):
            state = ConversationState(
                messages=[*earlier, HumanMessage(f"¿cuánto cuesta el envío estándar? ({number})")],
                language="es",
                passages=PASSAGES,
            )
            model.inside = 0.0
            started = time.perf_counter()
            update = await responder(state, runtime)
            spent = time.perf_counter() - started
            assert update["reply_kind"] == "answer", update
            if number >= 10:  # warm-up runs are not counted
                overheads.append((spent - model.inside) * 1000)
    return overheads


@asynccontextmanager
async def loopback_provider(answer: bool) -> AsyncIterator[str]:
    """An OpenAI-compatible endpoint on 127.0.0.1: answers at once, or never answers."""
    body = json.dumps(COMPLETION).encode()
    held: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                if not answer:
                    held.append(writer)
                    return
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        for writer in held:
            writer.close()
        server.close()


def write_config(
    folder: Path, api_base: str, timeout: float, summarizer_base: str | None = None
) -> Path:
    def params(base: str) -> dict[str, Any]:
        return {
            "model": "openai/gpt-4o-mini",
            "api_base": base,
            "api_key": "bench",
            "timeout": timeout,
            "max_retries": 0,
        }

    config = {
        "model_list": [
            {"model_name": "responder", "litellm_params": params(api_base)},
            {"model_name": "responder-fallback", "litellm_params": params(api_base)},
            {"model_name": "summarizer", "litellm_params": params(summarizer_base or api_base)},
        ],
        "router_settings": {"fallbacks": [{"responder": ["responder-fallback"]}], "num_retries": 0},
    }
    path = folder / f"litellm-{int(timeout)}-{len(list(folder.glob('litellm-*')))}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@asynccontextmanager
async def llm_settings(config: Path, budget: float) -> AsyncIterator[None]:
    saved = {k: os.environ.get(k) for k in ("LLM_MODE", "LITELLM_CONFIG", "TURN_BUDGET_SECONDS")}
    os.environ.update(
        {"LLM_MODE": "llm", "LITELLM_CONFIG": str(config), "TURN_BUDGET_SECONDS": str(budget)}
    )
    get_settings.cache_clear()
    try:
        await llm.warm_up_llm()
        yield
    finally:
        await llm.close_llm_clients()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


async def litellm_overhead(folder: Path, calls: int) -> list[float]:
    """litellm's own per-call overhead (ms, as it reports it) against a loopback server."""
    async with (
        loopback_provider(answer=True) as base,
        llm_settings(write_config(folder, base, 5), 20),
    ):
        model = llm.get_chat_model("responder")
        assert model is not None
        found = []
        for number in range(calls + 5):
            said = await model.ainvoke([HumanMessage(f"hola {number}")])
            if number >= 5:
                found.append(float(said.response_metadata.get("litellm_overhead_ms", 0.0)))
        return found


@asynccontextmanager
async def shop_knowledge(folder: Path) -> AsyncIterator[None]:
    """The bench shop's documents as the process's knowledge base, in `folder`."""
    settings = get_settings().model_copy(
        update={"data_dir": folder / "data", "qdrant_url": None, "qdrant_host": None}
    )
    knowledge = await asyncio.to_thread(open_knowledge_base, settings)
    await asyncio.to_thread(knowledge.upsert, CONTEXT.tenant_id, DOCUMENTS)
    use_knowledge_base(knowledge)
    try:
        yield
    finally:
        use_knowledge_base(None)
        await asyncio.to_thread(knowledge.close)


@dataclass(frozen=True)
class TimedTurn:
    """Seconds from a turn's start to its reply, and to its end."""

    reply: float
    end: float
    state: dict[str, Any]


async def timed_turn(
    graph: Any, text: str, thread: str, budget: float, context: TenantContext = CONTEXT
) -> TimedTurn:
    """One turn as the server runs it: the deadline counts from the turn's start, the reply
    is taken as soon as a node has answered (`graph.reply.run_turn`)."""
    started = time.perf_counter()
    replied: list[float] = []
    config: RunnableConfig = {
        "configurable": {"thread_id": thread, "turn_deadline": time.time() + budget}
    }

    async def on_reply(update: dict[str, Any]) -> None:
        replied.append(time.perf_counter() - started)

    turn: Any = {"messages": [HumanMessage(text)]}
    state = await run_turn(graph, turn, config=config, context=context, on_reply=on_reply)
    end = time.perf_counter() - started
    return TimedTurn(replied[0] if replied else end, end, state)


async def budget_turns(folder: Path, turns: int, budget: float) -> list[float]:
    """Seconds per whole-graph turn when the provider never answers."""
    graph = build_graph().compile(checkpointer=InMemorySaver())
    elapsed: list[float] = []
    async with (
        shop_knowledge(folder),
        loopback_provider(answer=False) as base,
        llm_settings(write_config(folder, base, budget * 5), budget),
    ):
        for number in range(turns):
            timed = await timed_turn(
                graph, "¿cuánto cuesta el envío express?", f"b{number}", budget
            )
            elapsed.append(timed.end)
            assert timed.state["reply_kind"] == "failure", timed.state["reply_kind"]
    return elapsed


async def slow_summary_turns(folder: Path, turns: int, budget: float) -> dict[str, list[TimedTurn]]:
    """Handoff turns and summary turns whose summarizer never answers."""
    graph = build_graph().compile(checkpointer=InMemorySaver())
    every_turn = replace(CONTEXT, summary_every=1)
    found: dict[str, list[TimedTurn]] = {"handoff": [], "summary": []}
    async with (
        shop_knowledge(folder),
        loopback_provider(answer=True) as answering,
        loopback_provider(answer=False) as silent,
        llm_settings(write_config(folder, answering, budget * 5, silent), budget),
    ):
        for number in range(turns):
            handoff = await timed_turn(graph, "quiero hablar con un asesor", f"h{number}", budget)
            assert handoff.state["handoff"], handoff.state
            found["handoff"].append(handoff)
            question = "¿cuánto cuesta el envío estándar?"
            summary = await timed_turn(graph, question, f"s{number}", budget, every_turn)
            assert summary.state["reply_kind"] == "answer", summary.state["reply_kind"]
            found["summary"].append(summary)
    return found


async def run_bench(runs: int, turns: int, budget: float) -> dict[str, Any]:
    overheads = await responder_overhead(runs)
    with tempfile.TemporaryDirectory(prefix="atiende-bench-") as folder:
        litellm_ms = await litellm_overhead(Path(folder), min(runs, 50))
        turn_seconds = await budget_turns(Path(folder), turns, budget)
        slow = await slow_summary_turns(Path(folder), turns, budget)
    worst = max(turn_seconds)
    handoff_reply = max(t.reply for t in slow["handoff"])
    summary_reply = max(t.reply for t in slow["summary"])
    slow_end = max(t.end for kind in slow.values() for t in kind)
    return {
        "p50_ms": round(statistics.median(overheads), 3),
        "p95_ms": round(percentile(overheads, 0.95), 3),
        "max_ms": round(max(overheads), 3),
        "runs": len(overheads),
        "litellm_overhead_p50_ms": round(statistics.median(litellm_ms), 3),
        "budget_s": budget,
        "turns": len(turn_seconds),
        "max_turn_ms": round(worst * 1000, 1),
        "max_over_budget_ms": round(max(0.0, worst - budget) * 1000, 1),
        "slow_summary_turns": sum(len(kind) for kind in slow.values()),
        "handoff_reply_max_ms": round(handoff_reply * 1000, 1),
        "summary_turn_reply_max_ms": round(summary_reply * 1000, 1),
        "slow_summary_turn_end_max_ms": round(slow_end * 1000, 1),
        "reply_to_budget_ratio": round(max(handoff_reply, summary_reply) / budget, 3),
        "slow_summary_over_budget_ms": round(max(0.0, slow_end - budget) * 1000, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: print the table, then the figures as JSON on the last line."""
    parser = argparse.ArgumentParser(
        prog="atiende bench responder", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--runs", type=int, default=300, help="responder calls timed")
    parser.add_argument("--turns", type=int, default=5, help="graph turns against a dead provider")
    parser.add_argument("--budget", type=float, default=2.0, help="turn budget (seconds)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the expected provider failures are not news
    if args.runs < 1 or args.turns < 1 or args.budget <= 0:
        parser.error("--runs and --turns must be >= 1 and --budget > 0")
    result = asyncio.run(run_bench(args.runs, args.turns, args.budget))
    rows = [
        ("responder overhead p50 (ms)", result["p50_ms"]),
        ("responder overhead p95 (ms)", result["p95_ms"]),
        ("litellm's own overhead p50 (ms)", result["litellm_overhead_p50_ms"]),
        (f"slowest turn, dead provider, {args.budget:g} s budget (ms)", result["max_turn_ms"]),
        ("max over budget (ms)", result["max_over_budget_ms"]),
        ("slow summary: handoff reply p100 (ms)", result["handoff_reply_max_ms"]),
        ("slow summary: summary-turn reply p100 (ms)", result["summary_turn_reply_max_ms"]),
        ("slow summary: reply p100 / budget", result["reply_to_budget_ratio"]),
        ("slow summary: turn end p100 (ms)", result["slow_summary_turn_end_max_ms"]),
        ("slow summary: max over budget (ms)", result["slow_summary_over_budget_ms"]),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>10}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
