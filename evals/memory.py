"""Memory eval: a customer comes back; does the bot remember them (and only at that tenant)?

Reads JSONL, one scenario a line:

    {"id", "lang", "customer": "channel:address",
     "conversations": [{"turns": [text, ...], "close": "resolved"|"idle"|"admin"}, ...],
     "expect": {"memory_contains": [...], "memory_excludes": [...], "reply_contains": [...]}}

Every conversation is its own thread, run through the compiled graph on the real saver
and store (SQLite in a temporary folder, or DATABASE_URL) with the customer key in the
input, as the server runs turns; a conversation with `close` is then closed the way the
server closes one (`nodes.summarizer.remember_conversation`: final summary + facts). The
checks read the first turn of the last conversation: its recalled `memory`, and (LLM mode
only: extractive answers never use memory) its reply. The same turn at a second tenant
must recall nothing. Prints a table, then JSON as the last line.

    atiende eval memory --data evals/scenarios/memory.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from checkpoints.memory import CustomerMemory
from checkpoints.persistence import Persistence, open_persistence
from config.settings import Settings
from evals.bench_checkpoints import DOCUMENTS
from graph.builder import build_graph
from graph.context import TenantContext
from nodes.summarizer import remember_conversation
from tools.knowledge import open_knowledge_base
from tools.knowledge.shared import use_knowledge_base
from tools.llm import llm_enabled

DEFAULT_DATA = Path(__file__).with_name("scenarios") / "memory.jsonl"
TENANT, OTHER_TENANT = "memory-eval", "memory-eval-other"
CLOSE_REASONS = frozenset({"resolved", "idle", "admin"})
EXPECT_KEYS = frozenset({"memory_contains", "memory_excludes", "reply_contains"})


@dataclass(frozen=True)
class Conversation:
    turns: list[str]
    close: str | None = None


@dataclass(frozen=True)
class Scenario:
    id: str
    lang: str
    customer: str
    conversations: list[Conversation]
    expect: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ScenarioResult:
    id: str
    problems: list[str]
    memory: str
    reply: str

    @property
    def passed(self) -> bool:
        return not self.problems


def read_scenarios(path: Path) -> list[Scenario]:
    """The scenarios of a JSONL file; ValueError naming the line of a malformed one."""
    scenarios = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            conversations = [
                Conversation([str(t) for t in c["turns"]], c.get("close"))
                for c in row["conversations"]
            ]
            expect = {k: [str(v) for v in vs] for k, vs in row.get("expect", {}).items()}
            scenario = Scenario(
                str(row["id"]),
                str(row.get("lang", "es")),
                str(row["customer"]),
                conversations,
                expect,
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a memory scenario ({error})") from error
        if len(conversations) < 2 or not all(c.turns for c in conversations):
            raise ValueError(f"{path}:{number}: needs two or more conversations with turns")
        if any(c.close not in CLOSE_REASONS for c in conversations[:-1]):
            raise ValueError(
                f"{path}:{number}: every conversation but the last needs a close reason"
            )
        if set(expect) - EXPECT_KEYS or ":" not in scenario.customer:
            raise ValueError(f"{path}:{number}: unknown expect keys or a customer without channel:")
        scenarios.append(scenario)
    return scenarios


async def _turn(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    thread: str,
    customer: str,
    tenant: str,
    text: str,
) -> dict[str, Any]:
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    values: dict[str, Any] = await graph.ainvoke(
        {"messages": [HumanMessage(text)], "customer": customer},
        config=config,
        context=TenantContext(tenant_id=tenant, company_name="Tienda Luna"),
        durability="exit",
    )
    return values


def _reply(values: dict[str, Any]) -> str:
    messages = values.get("messages") or []
    tail = []
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            break
        if isinstance(message, AIMessage):
            tail.append(message.text)
    return "\n".join(reversed(tail))


async def run_scenario(
    persistence: Persistence, scenario: Scenario, run_id: str, generating: bool
) -> ScenarioResult:
    """Run one scenario; the problems found (none when it passed)."""
    graph = build_graph().compile(checkpointer=persistence.checkpointer, store=persistence.store)
    first_of_last: dict[str, Any] = {}
    for index, conversation in enumerate(scenario.conversations):
        thread = f"{run_id}-{scenario.id}-{index}"
        for number, text in enumerate(conversation.turns):
            values = await _turn(graph, thread, scenario.customer, TENANT, text)
            if number == 0:
                first_of_last = values
        if conversation.close:
            state = (await graph.aget_state({"configurable": {"thread_id": thread}})).values
            await remember_conversation(
                persistence.store,
                TENANT,
                scenario.customer,
                thread,
                state["messages"],
                language=state.get("language") or scenario.lang,
                observed_at=datetime.now(UTC),
                sentiment_label=state.get("sentiment_label", "neutral"),
                previous_summary=state.get("summary", ""),
                turns=state.get("turns"),
                close_reason=conversation.close,
            )
    memory, reply = str(first_of_last.get("memory", "")), _reply(first_of_last)
    problems = [
        f"memory lacks {s!r}" for s in scenario.expect.get("memory_contains", []) if s not in memory
    ]
    problems += [
        f"memory has {s!r}" for s in scenario.expect.get("memory_excludes", []) if s in memory
    ]
    if generating:
        problems += [
            f"reply lacks {s!r}"
            for s in scenario.expect.get("reply_contains", [])
            if s not in reply
        ]
    elsewhere = await _turn(
        graph,
        f"{run_id}-{scenario.id}-other",
        scenario.customer,
        OTHER_TENANT,
        scenario.conversations[-1].turns[0],
    )
    if elsewhere.get("memory"):
        problems.append("another tenant recalled this customer")
    return ScenarioResult(scenario.id, problems, memory, reply)


async def run_memory_eval(
    scenarios: Sequence[Scenario], database_url: str | None, data_dir: Path
) -> list[ScenarioResult]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        app_env="test",
        data_dir=data_dir,
        database_url=database_url,
        qdrant_url=None,
        qdrant_host=None,
    )
    generating = llm_enabled()
    run_id = os.urandom(4).hex()
    knowledge = await asyncio.to_thread(open_knowledge_base, settings)
    use_knowledge_base(knowledge)
    for tenant in (TENANT, OTHER_TENANT):  # a small shop, so the responder has something to say
        await asyncio.to_thread(knowledge.upsert, tenant, DOCUMENTS)
    try:
        async with open_persistence(settings) as persistence:
            try:
                return [await run_scenario(persistence, s, run_id, generating) for s in scenarios]
            finally:
                await forget(persistence, scenarios, run_id)
    finally:
        use_knowledge_base(None)
        await asyncio.to_thread(knowledge.close)


async def forget(persistence: Persistence, scenarios: Sequence[Scenario], run_id: str) -> None:
    """Delete what the run stored (it may run on a real database)."""
    memory = CustomerMemory(persistence.store)
    for scenario in scenarios:
        for tenant in (TENANT, OTHER_TENANT):
            await memory.erase(tenant, scenario.customer)
        threads = [f"{run_id}-{scenario.id}-{i}" for i in range(len(scenario.conversations))]
        for thread in [*threads, f"{run_id}-{scenario.id}-other"]:
            await persistence.checkpointer.adelete_thread(thread)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="atiende eval memory", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args(argv)
    scenarios = read_scenarios(args.data)
    with tempfile.TemporaryDirectory(prefix="atiende-eval-") as folder:
        results = asyncio.run(run_memory_eval(scenarios, args.database_url, Path(folder)))
    print(f"{'scenario':<36} {'result':<6} problems")
    for result in results:
        print(
            f"{result.id:<36} {'pass' if result.passed else 'FAIL':<6} {'; '.join(result.problems)}"
        )
    passed = sum(r.passed for r in results)
    print(
        json.dumps(
            {
                "scenarios": len(results),
                "passed": passed,
                "pass_rate": round(passed / max(1, len(results)), 3),
                "reply_checked": llm_enabled(),
                "failed": [r.id for r in results if not r.passed],
            }
        )
    )
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
