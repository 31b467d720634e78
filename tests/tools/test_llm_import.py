"""litellm is imported lazily, and our path to it makes no network call (fresh interpreters)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from fakes.openai_server import Answer, FakeOpenAIServer, write_litellm_config

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_importing_the_app_does_not_import_litellm() -> None:
    result = run_python(
        """
        import sys
        import tools.llm, nodes.responder, graph.builder, server.app, evals.conversations
        print("litellm" in sys.modules)
        """,
        {**os.environ, "LLM_MODE": "llm"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_first_llm_call_uses_the_local_price_map_and_only_loopback(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        server.always("primary", Answer("hola"))
        config = write_litellm_config(server, tmp_path / "llm.yaml")
        env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
        env.update({"LLM_MODE": "llm", "LITELLM_CONFIG": str(config)})
        result = run_python(
            """
            import asyncio, json, os, socket
            reached = []
            real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo
            def connect(sock, address):
                reached.append(str(address[0]))
                return real_connect(sock, address)
            def lookup(host, *args, **kwargs):
                reached.append(str(host))
                return real_lookup(host, *args, **kwargs)
            socket.socket.connect, socket.getaddrinfo = connect, lookup
            from langchain_core.messages import HumanMessage
            from tools import llm
            async def main():
                reply = await llm.get_chat_model("responder").ainvoke([HumanMessage("hola")])
                await llm.close_llm_clients()
                return reply
            reply = asyncio.run(main())
            print(json.dumps({
                "reply": reply.text,
                "cost": reply.response_metadata["cost_usd"],
                "cost_map": os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP"),
                "reached": sorted(set(reached)),
            }))
            """,
            env,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["reply"] == "hola" and seen["cost"] > 0
    assert seen["cost_map"] == "True"
    assert set(seen["reached"]) <= {"127.0.0.1", "localhost"}, seen["reached"]
