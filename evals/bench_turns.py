"""`atiende bench turns`: whole WhatsApp turns per second, and lost or duplicated replies.

Starts `atiende serve` on loopback with the LLM and the embedding model stubbed
(`evals.stubs`), its worker sending through Twilio's client to a counting fake Twilio in
this process (Postgres when DATABASE_URL is set, else SQLite). `--conversations`
customers of the demo tenant each send `--rounds` messages; a round's messages all go out
at once and the next round starts when every customer got its answer. turns/s = answered
messages / wall time; a reply missing after `--timeout` s is lost, an extra one duplicated.
On Postgres the database is vacuumed once the bench tenant is reset, before the clock starts.

    DATABASE_URL=postgresql://... atiende bench turns --conversations 200 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import aiohttp
import psycopg
from aiohttp import web

from evals.bench_server import (
    BENCH_NUMBER,
    RunningBenchServer,
    bench_server,
    free_port,
    report,
    serve_command,
    signed_webhook,
)

BENCH_TENANT: dict[str, Any] = {
    "id": "bench",
    "name": "Bench",
    "company_name": "Tienda Luna",
    "handoff": {
        "sentiment_threshold": -1,
        "keywords": [],
        "max_fallbacks": 20,
        "loop_similarity": 1.0,
    },
}

ACCOUNT_SID = "AC" + "b" * 32
KEEPALIVE_SECONDS = 2.0
BENCH_DOCUMENTS = [
    {
        "id": "horarios",
        "title": "Horario",
        "text": "Atendemos de lunes a viernes de 9:00 a "
        "18:00 y los sábados de 10:00 a 14:00. Los domingos la tienda está cerrada.",
    },
    {
        "id": "envios",
        "title": "Envíos",
        "text": "Hacemos envíos a todo México. El envío "
        "estándar cuesta 99 pesos y tarda de 3 a 5 días; el express cuesta 199 pesos.",
    },
    {
        "id": "pagos",
        "title": "Pagos",
        "text": "Aceptamos tarjetas, transferencia, OXXO y "
        "Mercado Pago; hasta 6 meses sin intereses en compras mayores a 1,500 pesos.",
    },
    {
        "id": "devoluciones",
        "title": "Devoluciones",
        "text": "Aceptamos devoluciones dentro "
        "de los 30 días posteriores a la entrega, con el producto en su empaque original.",
    },
]
QUESTIONS = (
    "¿cuál es el horario de atención?",
    "¿hacen envíos a Monterrey?",
    "¿aceptan devoluciones sin empaque?",
    "¿puedo pagar con Mercado Pago?",
    "¿dónde está la tienda física?",
    "¿cuánto cuesta el envío express?",
    "¿tienen meses sin intereses?",
    "¿abren los domingos?",
)


class CountingTwilio:
    """Twilio's create-message endpoint, counting the replies per customer."""

    def __init__(self) -> None:
        self.replies: Counter[str] = Counter()
        self.created = 0
        self.changed = asyncio.Event()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    async def create(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.created += 1
        self.replies[str(form.get("To", ""))] += 1
        self.changed.set()
        sid = f"SM{self.created:032x}"
        return web.json_response({"sid": sid, "status": "queued"}, status=201)

    async def start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", self.create)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        return runner


async def create_tenant(session: aiohttp.ClientSession, server: RunningBenchServer) -> None:
    """The bench tenant: a small shop's documents, no welcome, handoff triggers off (so
    every message gets an answer whatever the stubs make of it). One left by an earlier run
    on the same database is deleted first, so every run starts from no conversations."""
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    base = f"{server.url}/admin/tenants"
    async with session.delete(f"{base}/{BENCH_TENANT['id']}", headers=headers) as response:
        if response.status not in (204, 404):
            raise RuntimeError(f"removing an earlier bench tenant: {await response.text()}")
    async with session.post(base, json=BENCH_TENANT, headers=headers) as response:
        if response.status != 201:
            raise RuntimeError(f"creating the bench tenant: {await response.text()}")
    documents = {"documents": BENCH_DOCUMENTS}
    async with session.post(
        f"{base}/{BENCH_TENANT['id']}/knowledge", json=documents, headers=headers
    ) as response:
        if response.status != 201:
            raise RuntimeError(f"loading the bench knowledge: {await response.text()}")


async def vacuum(url: str) -> None:
    """Reclaim what earlier runs left behind (the bench tenant just deleted, updated rows), so
    that every run starts from the same tables even on a Postgres without autovacuum."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        await connection.execute("VACUUM ANALYZE")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atiende bench turns", description=__doc__)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32, help="webhook connections")
    parser.add_argument("--workers", type=int, default=16, help="turns run at once")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per round")
    return parser


async def wait_round(
    twilio: CountingTwilio, customers: list[str], want: int, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while any(twilio.replies[c] < want for c in customers):
        twilio.changed.clear()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            await asyncio.wait_for(twilio.changed.wait(), timeout=min(left, 0.5))
        except TimeoutError:
            continue


async def drive(
    args: argparse.Namespace, server: RunningBenchServer, twilio: CountingTwilio
) -> dict[str, float]:
    run = secrets.token_hex(4)
    numbers = [f"+52166{i:08d}" for i in range(args.conversations)]
    customers = [f"whatsapp:{n}" for n in numbers]
    # idle connections are dropped before the server's keep-alive timeout (5 s) closes them
    connector = aiohttp.TCPConnector(limit=args.concurrency, keepalive_timeout=KEEPALIVE_SECONDS)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(request: tuple[str, bytes, dict[str, str]]) -> None:
            url, body, headers = request
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"webhook answered {response.status}")

        await create_tenant(session, server)
        if server.database == "postgres":
            await vacuum(os.environ["DATABASE_URL"])
        cpu_before = server.cpu_seconds()
        began = time.perf_counter()
        for round_number in range(1, args.rounds + 1):
            question = QUESTIONS[(round_number - 1) % len(QUESTIONS)]
            requests = [
                signed_webhook(
                    server.url,
                    BENCH_TENANT["id"],
                    server.auth_token,
                    f"SM{run}r{round_number}c{i}",
                    number,
                    question,
                )
                for i, number in enumerate(numbers)
            ]
            await asyncio.gather(*(post(r) for r in requests))
            await wait_round(twilio, customers, round_number, args.timeout)
        elapsed = time.perf_counter() - began
        cpu = server.cpu_seconds() - cpu_before
    await asyncio.sleep(1.0)  # late duplicates would show up here
    expected = args.rounds
    got = [twilio.replies[c] for c in customers]
    answered = sum(min(n, expected) for n in got)
    return {
        "turns": answered,
        "seconds": elapsed,
        "lost": sum(max(0, expected - n) for n in got),
        "duplicated": sum(max(0, n - expected) for n in got),
        "messages_sent": twilio.created,
        "server_cpu_seconds": cpu,
    }


async def run(args: argparse.Namespace) -> int:
    twilio = CountingTwilio()
    runner = await twilio.start()
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_WHATSAPP_NUMBER": BENCH_NUMBER,
        "TWILIO_API_BASE_URL": twilio.url,
        "DEBOUNCE_SECONDS": "0",
        "WORKER_POLL_SECONDS": "0.02",
        "WORKER_CONCURRENCY": str(args.workers),
        "LLM_MODE": "llm",
    }
    try:
        with bench_server(
            serve_command("import evals.stubs; evals.stubs.install()"), env
        ) as server:
            result = await drive(args, server, twilio)
            database = server.database.split(":")[0]
    finally:
        await runner.cleanup()
    turns_per_s = result["turns"] / result["seconds"] if result["seconds"] else 0.0
    figures = {
        "conversations": args.conversations,
        "rounds": args.rounds,
        "workers": args.workers,
        "turns": int(result["turns"]),
        "turns_per_s": round(turns_per_s, 1),
        "lost": int(result["lost"]),
        "duplicated": int(result["duplicated"]),
        "server_cpu_ms_per_turn": round(
            result["server_cpu_seconds"] * 1000 / max(1, result["turns"]), 2
        ),
        "database": database,
    }
    report(
        "atiende bench turns (LLM and embeddings stubbed)",
        [
            ("database", database),
            ("conversations x rounds", f"{args.conversations} x {args.rounds}"),
            ("turns run at once", args.workers),
            ("turns answered", figures["turns"]),
            ("wall time", f"{result['seconds']:.2f} s"),
            ("turns per second", figures["turns_per_s"]),
            ("messages sent", int(result["messages_sent"])),
            ("server CPU per turn", f"{figures['server_cpu_ms_per_turn']} ms"),
            ("lost replies", figures["lost"]),
            ("duplicated replies", figures["duplicated"]),
        ],
        figures,
    )
    return 0 if figures["lost"] == 0 and figures["duplicated"] == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(build_parser().parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
