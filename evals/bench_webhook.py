"""`atiende bench webhook`: how fast the server acknowledges signed WhatsApp webhooks.

Starts `atiende serve` on loopback (Postgres when DATABASE_URL is set, else SQLite in a
temp folder; its worker off unless `--worker`) unless `--url` names a running server, then sends
`--requests` signed inbound messages from `--customers` customers over `--concurrency`
keep-alive connections. Prints acks/s and latency percentiles; JSON on the last line. A server
it starts gets a throwaway tenant, deleted afterwards with everything it stored (so a shared
bench database is not left with thousands of pending messages for `bench turns` to answer).

    atiende bench webhook --requests 20000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import time
from collections.abc import Iterator, Sequence

import aiohttp
import httpx

from evals.bench_server import (
    RunningBenchServer,
    bench_server,
    percentile,
    report,
    serve_command,
    signed_webhook,
)

WARMUP_REQUESTS = 500
BENCH_TENANT = "bench-webhook"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atiende bench webhook", description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--url", help="a running server (default: start one on loopback)")
    parser.add_argument("--tenant", help="with --url (default: demo)")
    parser.add_argument("--auth-token", help="the Twilio auth token that server checks")
    parser.add_argument(
        "--worker",
        action="store_true",
        help="run the started server's worker too (default: off, acks only; whole turns "
        "are what `atiende bench turns` measures)",
    )
    return parser


async def drive(
    requests: Sequence[tuple[str, bytes, dict[str, str]]], concurrency: int
) -> tuple[list[float], dict[int, int], float]:
    """Send every request over `concurrency` connections: latencies (s), status counts, wall s."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            for url, body, headers in queue:
                start = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - start)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return latencies, statuses, time.perf_counter() - began


def make_requests(
    base_url: str, tenant: str, token: str, count: int, customers: int
) -> list[tuple[str, bytes, dict[str, str]]]:
    run = secrets.token_hex(4)
    return [
        signed_webhook(
            base_url,
            tenant,
            token,
            f"SM{run}{i:024d}",
            f"+52155{i % customers:08d}",
            f"mensaje {i}: ¿cuál es el horario de atención?",
        )
        for i in range(count)
    ]


def run(args: argparse.Namespace, server: RunningBenchServer) -> int:
    warmup = make_requests(server.url, args.tenant, server.auth_token, WARMUP_REQUESTS, 50)
    asyncio.run(drive(warmup, args.concurrency))
    requests = make_requests(
        server.url, args.tenant, server.auth_token, args.requests, args.customers
    )
    cpu_before = server.cpu_seconds()
    latencies, statuses, elapsed = asyncio.run(drive(requests, args.concurrency))
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(1, args.requests)
    acked = statuses.get(200, 0)
    figures = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "acked": acked,
        "errors": args.requests - acked,
        "acks_per_s": round(acked / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies, default=0) * 1000, 2),
        "server_cpu_ms_per_request": round(cpu_ms, 3),
        "database": server.database.split(":")[0],
        "worker": bool(args.worker),
    }
    report(
        "atiende bench webhook",
        [
            ("server", server.url),
            ("database", figures["database"]),
            ("worker", "on" if args.worker else "off (acks only)"),
            ("requests / concurrency", f"{args.requests} / {args.concurrency}"),
            ("acknowledged (200)", acked),
            ("other statuses", {k: v for k, v in statuses.items() if k != 200} or "none"),
            ("acks per second", figures["acks_per_s"]),
            (
                "latency p50 / p99 / max",
                f"{figures['p50_ms']} / {figures['p99_ms']} / {figures['max_ms']} ms",
            ),
        ],
        figures,
    )
    return 0 if acked == args.requests else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.url:
        args.tenant = args.tenant or "demo"
        if not args.auth_token:
            raise SystemExit("--url needs --auth-token (the token that server checks)")
        running = RunningBenchServer(args.url.rstrip("/"), args.auth_token, "", "remote")
        return run(args, running)
    env = {} if args.worker else {"WORKER_ENABLED": "false"}
    with bench_server(serve_command(), env) as server:
        args.tenant = BENCH_TENANT
        with throwaway_tenant(server):
            return run(args, server)


@contextlib.contextmanager
def throwaway_tenant(server: RunningBenchServer) -> Iterator[None]:
    """The bench tenant, fresh; deleted on exit with its conversations and messages."""
    base = f"{server.url}/admin/tenants"
    with httpx.Client(headers={"Authorization": f"Bearer {server.admin_key}"}) as admin:
        admin.delete(f"{base}/{BENCH_TENANT}")
        admin.post(base, json={"id": BENCH_TENANT, "name": "Webhook bench"}).raise_for_status()
        try:
            yield
        finally:
            admin.delete(f"{base}/{BENCH_TENANT}", timeout=120).raise_for_status()


if __name__ == "__main__":
    raise SystemExit(main())
