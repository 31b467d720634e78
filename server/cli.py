"""The `atiende` command. Heavy modules are imported inside each command, never at start."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

DEMO_HOST, DEMO_PORT = "127.0.0.1", 8000
# `atiende eval NAME ...` and `atiende bench NAME ...` run `main(argv)` of these modules.
EVALS = {
    "retrieval": "evals.retrieval",
    "sentiment": "evals.sentiment",
    "handoff": "evals.handoff",
    "conversations": "evals.conversations",
    "memory": "evals.memory",
    "injection": "evals.injection",
    "api": "evals.fuzz_api",
}
BENCHES = {
    "retrieval": "evals.bench_retrieval",
    "webhook": "evals.bench_webhook",
    "turns": "evals.bench_turns",
    "responder": "evals.bench_responder",
    "sentiment": "evals.bench_sentiment",
    "checkpoints": "evals.bench_checkpoints",
    "bodies": "evals.bench_bodies",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atiende", description="AI customer support for WhatsApp (LangGraph + RAG + handoff)."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP server (webhooks + admin API)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)

    demo = commands.add_parser("demo", help="serve the offline demo tenant and print what to try")
    demo.add_argument("--host", default=DEMO_HOST)
    demo.add_argument("--port", type=int, default=DEMO_PORT)

    chat = commands.add_parser(
        "chat", help="talk to a tenant's bot from the terminal (stdin lines)"
    )
    chat.add_argument("--tenant", default="demo")
    chat.add_argument(
        "--customer", default="terminal", help="who is talking (the customer address)"
    )
    chat.add_argument("--json", action="store_true", help="one JSON object per turn")
    chat.add_argument("--url", help="a running server to talk through (found automatically)")

    ingest = commands.add_parser(
        "ingest", help="load files or folders into a tenant's knowledge base"
    )
    ingest.add_argument("tenant")
    ingest.add_argument("paths", nargs="+")

    commands.add_parser("setup", help="create the tables and the knowledge-base collection")

    for name, runs, help_text in (
        ("eval", EVALS, "quality evals; a table, then JSON as the last line"),
        ("bench", BENCHES, "speed benchmarks; a table, then JSON as the last line"),
    ):
        runner = commands.add_parser(name, help=help_text)
        runner.add_argument("name", choices=sorted(runs))
        runner.add_argument("args", nargs=argparse.REMAINDER, help="the runner's own options")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Before anything imports langgraph: checkpoints deserialise only allow-listed types.
    os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")
    args = build_parser().parse_args(argv)
    if args.command in ("serve", "demo"):
        from server.commands.serve import serve

        return serve(args.host, args.port, demo=args.command == "demo")
    if args.command == "chat":
        from server.commands.chat import chat

        return chat(args.tenant, args.customer, as_json=args.json, url=args.url)
    if args.command == "ingest":
        from server.commands.ingest import ingest

        return ingest(args.tenant, args.paths)
    if args.command in ("eval", "bench"):
        import importlib

        modules = EVALS if args.command == "eval" else BENCHES
        runner: int = importlib.import_module(modules[args.name]).main(args.args)
        return runner
    if args.command == "setup":
        from server.commands.setup import setup

        return setup()
    return 2


if __name__ == "__main__":
    sys.exit(main())
