"""`langgraph dev` serves the graph offline, with the tenant set as run context (Studio's path)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
LANGGRAPH = Path(sys.executable).with_name("langgraph")


@pytest.mark.slow
def test_langgraph_dev_answers_through_its_http_api(tmp_path: Path) -> None:
    assert LANGGRAPH.exists() or shutil.which("langgraph"), (
        "langgraph-cli[inmem] is in the lock file"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DATA_DIR": str(tmp_path / "data"),
        "APP_ENV": "development",
        "LLM_MODE": "extractive",
        "LANGSMITH_TRACING": "false",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    }
    setup = subprocess.run(
        [sys.executable, "-m", "server.cli", "setup"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr.decode()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    process = subprocess.Popen(
        [
            str(LANGGRAPH),
            "dev",
            "--no-browser",
            "--no-reload",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        thread = httpx.post(f"{url}/threads", json={}, timeout=10).json()["thread_id"]
        run = httpx.post(
            f"{url}/threads/{thread}/runs/wait",
            json={
                "assistant_id": "atiende",
                "input": {
                    "messages": [{"role": "user", "content": "¿cuál es el horario de atención?"}]
                },
                "context": {"tenant_id": "demo", "company_name": "Tienda Luna"},
            },
            timeout=120,
        )
        assert run.status_code == 200, run.text
        state = run.json()
        assert "messages" in state, state
        assert "9:00" in state["messages"][-1]["content"]
        assert state["sources"] == ["horarios"]
    finally:
        process.terminate()
        process.wait(timeout=30)
