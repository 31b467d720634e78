"""Conversation eval: scripted multi-turn scenarios through the whole graph.

Reads JSONL, one scenario a line:

    {"id", "lang", "offline": bool, "tenant"?: {...}, "knowledge": [{"id", "title", "text"}],
     "turns": [{"user": text, "expect": {"contains": [...], "not_contains": [...],
                "handoff": bool, "reason": "sentiment"|"explicit"|"fallbacks"|"loop"|"error",
                "reasons": [every reason, exactly], "kind": reply kind,
                "sources": [document ids]}}]}

Every `expect` key is optional (`kind` and `sources` go beyond the issue's format: the
responder's `reply_kind` and cited document ids; `reason` is one of the turn's reasons,
`reasons` all of them, in any order). Text checks ignore case and accents.
`tenant` may set `company_name`, `persona`, `welcome_message`, `default_language`, and
`handoff` (the tenant's handoff rule overrides, as stored: `{"keywords": [...],
"max_fallbacks": 3, ...}`).

Each scenario runs in its own throwaway tenant (its knowledge loaded into an embedded
knowledge base under a temp folder) and its own conversation thread, through the compiled
graph as the server runs it. After a handoff the bot stays quiet, as the server does: later
turns of that scenario get an empty reply. `--mode extractive` runs only the scenarios
marked offline; `llm` runs all of them (keys needed); `auto` picks as `LLM_MODE=auto` does.

    atiende eval conversations --data evals/scenarios/demo.jsonl --mode extractive
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from config.settings import get_settings
from graph.builder import build_graph
from graph.context import TenantContext, handoff_rules
from graph.state import HandoffReason
from tools.knowledge import open_knowledge_base
from tools.knowledge.shared import use_knowledge_base
from tools.knowledge.types import Document
from tools.llm import close_llm_clients, llm_enabled, warm_up_llm

DEFAULT_DATA = Path(__file__).with_name("scenarios") / "demo.jsonl"
MAX_TURN_CHARS = 4096
EXPECT_KEYS = frozenset(
    {"contains", "not_contains", "handoff", "reason", "reasons", "kind", "sources"}
)
TENANT_KEYS = frozenset(
    {"company_name", "persona", "welcome_message", "default_language", "handoff"}
)
REASONS = frozenset(get_args(HandoffReason))
Mode = Literal["auto", "llm", "extractive"]


@dataclass(frozen=True)
class Turn:
    user: str
    expect: dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    id: str
    lang: str
    offline: bool
    knowledge: list[Document]
    turns: list[Turn]
    tenant: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScenarioResult:
    id: str
    lang: str
    problems: list[str]
    turns: list[dict[str, Any]]
    seconds: float

    @property
    def passed(self) -> bool:
        return not self.problems


def _problem(path: Path, number: int, what: str) -> ValueError:
    return ValueError(f"{path}:{number}: {what}")


def _scenario(row: Any, path: Path, number: int) -> Scenario:
    if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not row["id"]:
        raise _problem(path, number, "a scenario needs an id")
    turns = row.get("turns")
    if not isinstance(turns, list) or not turns:
        raise _problem(path, number, "a scenario needs turns")
    parsed: list[Turn] = []
    for turn in turns:
        if not isinstance(turn, dict) or not isinstance(turn.get("user"), str):
            raise _problem(path, number, "every turn needs a user text")
        expect = turn.get("expect", {})
        if not isinstance(expect, dict) or set(expect) - EXPECT_KEYS:
            raise _problem(path, number, f"expect keys must be among {sorted(EXPECT_KEYS)}")
        named = [expect["reason"]] if "reason" in expect else []
        if not isinstance(expect.get("reasons", []), list):
            raise _problem(path, number, "reasons must be a list")
        if set(named + expect.get("reasons", [])) - REASONS:
            raise _problem(path, number, f"a reason must be one of {sorted(REASONS)}")
        parsed.append(Turn(turn["user"], expect))
    knowledge = row.get("knowledge", [])
    if not isinstance(knowledge, list) or not all(
        isinstance(d, dict) and isinstance(d.get("id"), str) and isinstance(d.get("text"), str)
        for d in knowledge
    ):
        raise _problem(path, number, "knowledge must be a list of {id, title, text}")
    tenant = row.get("tenant", {})
    if not isinstance(tenant, dict) or set(tenant) - TENANT_KEYS:
        raise _problem(path, number, f"tenant keys must be among {sorted(TENANT_KEYS)}")
    if not isinstance(tenant.get("handoff", {}), dict):
        raise _problem(path, number, "tenant handoff must be an object of rule overrides")
    documents = [
        Document(id=d["id"], title=str(d.get("title", d["id"])), text=d["text"]) for d in knowledge
    ]
    return Scenario(
        row["id"],
        str(row.get("lang", "es")),
        bool(row.get("offline", False)),
        documents,
        parsed,
        tenant,
    )


def read_scenarios(path: Path) -> list[Scenario]:
    """The scenarios of a JSONL file (blank lines skipped); ValueError names a bad line."""
    scenarios: list[Scenario] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as error:
                raise _problem(path, number, f"not JSON: {error}") from None
            scenarios.append(_scenario(row, path, number))
    ids = [s.id for s in scenarios]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: scenario ids must be unique")
    return scenarios


def fold(text: str) -> str:
    """Lower case without accents."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def check_turn(expect: dict[str, Any], observed: dict[str, Any]) -> list[str]:
    """What the observed turn got wrong against `expect` (empty: it passed)."""
    problems = []
    reply = fold(observed["reply"])
    for text in expect.get("contains", []):
        if fold(text) not in reply:
            problems.append(f"reply lacks {text!r}")
    for text in expect.get("not_contains", []):
        if fold(text) in reply:
            problems.append(f"reply has {text!r}")
    if "handoff" in expect and bool(expect["handoff"]) != observed["handoff"]:
        problems.append(f"handoff {observed['handoff']}, expected {expect['handoff']}")
    if "reason" in expect and expect["reason"] not in observed["reasons"]:
        problems.append(f"reasons {observed['reasons']} lack {expect['reason']!r}")
    if "reasons" in expect and sorted(expect["reasons"]) != sorted(observed["reasons"]):
        problems.append(f"reasons {observed['reasons']}, expected {expect['reasons']}")
    if "kind" in expect and expect["kind"] != observed["kind"]:
        problems.append(f"kind {observed['kind']!r}, expected {expect['kind']!r}")
    missing = [d for d in expect.get("sources", []) if d not in observed["sources"]]
    if missing:
        problems.append(f"sources {observed['sources']} lack {missing}")
    return problems


def _bot_reply(messages: Sequence[Any]) -> str:
    tail: list[str] = []
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            break
        if isinstance(message, AIMessage) and message.text:
            tail.append(message.text)
    return "\n\n".join(reversed(tail))


def tenant_context(scenario: Scenario, tenant_id: str) -> TenantContext:
    """The scenario's throwaway tenant (the demo shop unless the scenario says otherwise)."""
    tenant, defaults = scenario.tenant, TenantContext()
    return TenantContext(
        tenant_id=tenant_id,
        company_name=tenant.get("company_name", "Tienda Luna"),
        persona=tenant.get("persona", defaults.persona),
        welcome_message=tenant.get("welcome_message", ""),
        default_language=tenant.get("default_language", scenario.lang),
        handoff=handoff_rules(tenant.get("handoff", {})),
    )


async def run_scenario(graph: Any, scenario: Scenario, tenant_id: str) -> ScenarioResult:
    """Play the scenario's turns in one conversation; collect every unmet expectation."""
    started = time.perf_counter()
    context = tenant_context(scenario, tenant_id)
    config = {"configurable": {"thread_id": f"{tenant_id}-conversation"}}
    problems: list[str] = []
    observed_turns: list[dict[str, Any]] = []
    handed_over = False
    for number, turn in enumerate(scenario.turns, 1):
        text = turn.user if len(turn.user) <= MAX_TURN_CHARS else turn.user[: MAX_TURN_CHARS - 1]
        observed: dict[str, Any] = {
            "reply": "",
            "handoff": False,
            "reasons": [],
            "kind": "",
            "sources": [],
        }
        if not handed_over:
            try:
                state = await graph.ainvoke(
                    {"messages": [HumanMessage(content=text)]}, config=config, context=context
                )
            except Exception as error:  # an eval reports a crash as a failed turn
                problems.append(f"turn {number}: raised {type(error).__name__}: {error}")
                break
            observed = {
                "reply": _bot_reply(state["messages"]),
                "handoff": bool(state["handoff"]),
                "reasons": list(state["handoff_reasons"]),
                "kind": state.get("reply_kind", ""),
                "sources": list(state["sources"]),
            }
            handed_over = observed["handoff"]
        observed_turns.append({"user": turn.user[:80], **observed})
        problems.extend(f"turn {number}: {p}" for p in check_turn(turn.expect, observed))
    return ScenarioResult(
        scenario.id, scenario.lang, problems, observed_turns, time.perf_counter() - started
    )


@contextmanager
def llm_mode(mode: Mode) -> Iterator[None]:
    """Run with `LLM_MODE=mode` (the settings are re-read), restoring it afterwards."""
    before = os.environ.get("LLM_MODE")
    os.environ["LLM_MODE"] = mode
    get_settings.cache_clear()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("LLM_MODE", None)
        else:
            os.environ["LLM_MODE"] = before
        get_settings.cache_clear()


async def run_conversations_eval(
    path: Path, mode: Mode = "auto", only: Sequence[str] = ()
) -> tuple[list[ScenarioResult], dict[str, Any]]:
    """Run the scenarios of `path`; the per-scenario results and the summary figures."""
    scenarios = [s for s in read_scenarios(path) if not only or s.id in only]
    with llm_mode(mode):
        generating = llm_enabled(get_settings())
        chosen = [s for s in scenarios if generating or s.offline]
        if generating:
            await warm_up_llm()  # as the server does at start: litellm's import takes seconds
        with tempfile.TemporaryDirectory(prefix="atiende-eval-") as folder:
            settings = get_settings().model_copy(
                update={"data_dir": Path(folder), "qdrant_url": None, "qdrant_host": None}
            )
            knowledge = await asyncio.to_thread(open_knowledge_base, settings)
            use_knowledge_base(knowledge)
            try:
                graph = build_graph().compile(checkpointer=InMemorySaver())
                results = []
                for index, scenario in enumerate(chosen, 1):
                    tenant_id = f"eval-{index}"
                    if scenario.knowledge:
                        await asyncio.to_thread(knowledge.upsert, tenant_id, scenario.knowledge)
                    results.append(await run_scenario(graph, scenario, tenant_id))
            finally:
                use_knowledge_base(None)
                await asyncio.to_thread(knowledge.close)
                await close_llm_clients()
    return results, summarize(results, "llm" if generating else "extractive", len(scenarios))


def summarize(results: Sequence[ScenarioResult], mode: str, total: int) -> dict[str, Any]:
    """Pass rate overall and per language, and the failed scenario ids."""
    passed = sum(r.passed for r in results)
    by_lang: dict[str, dict[str, float]] = {}
    for lang in sorted({r.lang for r in results}):
        mine = [r for r in results if r.lang == lang]
        by_lang[lang] = {"n": len(mine), "pass_rate": sum(r.passed for r in mine) / len(mine)}
    return {
        "pass_rate": passed / len(results) if results else 0.0,
        "n": len(results),
        "passed": passed,
        "failed": [r.id for r in results if not r.passed],
        "skipped": total - len(results),
        "mode": mode,
        "by_lang": by_lang,
        "seconds_per_scenario": (
            sum(r.seconds for r in results) / len(results) if results else 0.0
        ),
    }


def format_table(results: Sequence[ScenarioResult], summary: dict[str, Any]) -> str:
    """One line per scenario, then the totals."""
    width = max([len(r.id) for r in results] + [8])
    lines = [f"{'scenario':<{width}}  lang  turns  result  first problem"]
    for r in results:
        first = r.problems[0] if r.problems else ""
        verdict = "pass" if r.passed else "FAIL"
        lines.append(f"{r.id:<{width}}  {r.lang:<4}  {len(r.turns):>5}  {verdict:<6}  {first}")
    lines.append(
        f"mode {summary['mode']}: {summary['passed']}/{summary['n']} passed "
        f"({summary['pass_rate']:.1%}), {summary['skipped']} skipped"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: print the table, then the figures as JSON on the last line."""
    parser = argparse.ArgumentParser(
        prog="atiende eval conversations", description="Scripted multi-turn conversation eval."
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="scenarios (JSONL)")
    parser.add_argument("--mode", choices=("auto", "llm", "extractive"), default="auto")
    parser.add_argument("--only", action="append", default=[], help="run only this scenario id")
    parser.add_argument("--verbose", action="store_true", help="print every turn's reply")
    args = parser.parse_args(argv)
    try:
        results, summary = asyncio.run(run_conversations_eval(args.data, args.mode, args.only))
    except (OSError, ValueError) as error:
        parser.exit(2, f"atiende eval conversations: {error}\n")
    if args.verbose:
        for result in results:
            for turn in result.turns:
                print(
                    f"[{result.id}] {turn['user']!r} -> {turn['reply']!r} "
                    f"(handoff={turn['handoff']}, kind={turn['kind']!r})"
                )
    print(format_table(results, summary))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
