"""`atiende chat`: one turn per stdin line, in-process or through a running server."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

PROMPT = "tú> "


def _lines() -> Iterator[str]:
    """Stdin lines as text; bytes that are not UTF-8 become U+FFFD instead of crashing."""
    stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print(PROMPT, end="", flush=True)
        line = stream.readline()
        if not line:
            return
        if line.strip():
            yield line.rstrip("\r\n")


def _show(turn: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(turn, ensure_ascii=False), flush=True)
        return
    if turn["reply"]:
        print(f"bot> {turn['reply']}", flush=True)
    if turn["handoff"]:
        print(f"[handoff: {', '.join(turn['reasons'])}]", flush=True)
    elif not turn["reply"]:
        print(f"[conversation is {turn['status']}: a person will answer]", flush=True)


def _turn_json(result: Any) -> dict[str, Any]:
    return {
        "reply": result.reply,
        "handoff": result.handoff,
        "reason": result.reason,
        "reasons": result.reasons,
        "sources": result.sources,
        "conversation_id": result.conversation_id,
        "status": result.status,
    }


async def _local_turns(tenant_id: str, customer: str) -> AsyncIterator[dict[str, Any]]:
    from config.settings import get_settings
    from server.services import open_services
    from server.turns import run_turn

    async with open_services(get_settings()) as services:
        tenant = await services.store.get_tenant(tenant_id)
        if tenant is None:
            raise SystemExit(f"atiende: unknown tenant '{tenant_id}'")
        for line in _lines():
            yield _turn_json(await run_turn(services, tenant, "cli", customer, line))


def _remote_turns(url: str, key: str, tenant_id: str, customer: str) -> Iterator[dict[str, Any]]:
    import httpx

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
        for line in _lines():
            response = http.post(
                f"/admin/tenants/{tenant_id}/chat", json={"customer": customer, "text": line}
            )
            if response.status_code != 200:
                raise SystemExit(f"atiende: server said {response.status_code}: {response.text}")
            turn = response.json()
            yield {
                k: turn[k]
                for k in (
                    "reply",
                    "handoff",
                    "reason",
                    "reasons",
                    "sources",
                    "conversation_id",
                    "status",
                )
            }


def chat(tenant_id: str, customer: str, as_json: bool = False, url: str | None = None) -> int:
    """Hold a conversation on the `cli` channel; uses the running server when there is one."""
    from checkpoints.running_server import RunningServer
    from config.settings import get_settings

    settings = get_settings()
    running = RunningServer.read(settings.data_dir)
    if url or running:
        key = settings.admin_api_key.get_secret_value()
        if running and (url is None or url == running.url):
            url, key = running.url, running.admin_key
        assert url is not None
        for turn in _remote_turns(url, key, tenant_id, customer):
            _show(turn, as_json)
        return 0

    async def local() -> None:
        async for turn in _local_turns(tenant_id, customer):
            _show(turn, as_json)

    from checkpoints.lock import DataDirInUse
    from server.logs import configure_logging

    configure_logging(settings.app_debug)
    try:
        asyncio.run(local())
    except DataDirInUse as error:
        print(f"atiende: {error}", file=sys.stderr)
        return 1
    return 0
