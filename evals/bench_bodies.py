"""`atiende bench bodies`: the server's memory before and after huge chunked request bodies.

Starts `atiende serve` on loopback (the embedded default, or DATABASE_URL's Postgres), reads
its resident memory (RSS), sends `--requests` POSTs of `--megabytes` MB each, chunked (no
Content-Length), to a JSON admin route without the admin key (refused 401 before the body is
read), then as many with the key (read up to the 60 MB limit, refused 413), and reads RSS
after each round. Prints RSS before and after and their ratio (1.0: memory back where it
was); JSON on the last line.

    atiende bench bodies --requests 20 --megabytes 70
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from evals.bench_server import RunningBenchServer, bench_server, report, serve_command

CHUNK = 1024 * 1024
ROUTE = "/admin/tenants"
SETTLE_SECONDS = 2.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atiende bench bodies", description=__doc__)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--megabytes", type=int, default=70)
    return parser


def rss_mb(pid: int | None) -> float:
    """The process's resident memory in MB (0 when unknown)."""
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class Body:
    """`megabytes` chunks of 1 MB that do not make JSON; counts what the client sent."""

    def __init__(self, megabytes: int) -> None:
        self.megabytes, self.sent = megabytes, 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.megabytes):
            self.sent += 1
            yield b"[" * CHUNK


def send_round(
    server: RunningBenchServer, requests: int, megabytes: int, headers: dict[str, str]
) -> dict[str, Any]:
    """`requests` chunked POSTs; their statuses, the MB sent and RSS after them."""
    statuses: dict[int, int] = {}
    sent = 0
    began = time.perf_counter()
    for _ in range(requests):
        body = Body(megabytes)
        response = httpx.post(
            server.url + ROUTE,
            content=iter(body),
            headers={"Content-Type": "application/json", **headers},
            timeout=120,
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        sent += body.sent
    seconds = time.perf_counter() - began
    time.sleep(SETTLE_SECONDS)
    return {
        "statuses": statuses,
        "mb_sent": sent,
        "seconds": round(seconds, 2),
        "rss_after_mb": rss_mb(server.pid),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with bench_server(serve_command(), {"WORKER_ENABLED": "false"}) as server:
        for _ in range(20):  # warm the routes once, so RSS is the steady state
            httpx.get(server.url + ROUTE, headers={"Authorization": f"Bearer {server.admin_key}"})
        time.sleep(SETTLE_SECONDS)
        before = rss_mb(server.pid)
        unauthenticated = send_round(server, args.requests, args.megabytes, {})
        authenticated = send_round(
            server,
            args.requests,
            args.megabytes,
            {"Authorization": f"Bearer {server.admin_key}"},
        )
    ratio = round(unauthenticated["rss_after_mb"] / before, 3) if before else 0.0
    ratio_read = round(authenticated["rss_after_mb"] / before, 3) if before else 0.0
    report(
        f"RSS around {args.requests} chunked {args.megabytes} MB bodies to POST {ROUTE}",
        [
            ("RSS before (MB)", before),
            ("without the key: answers", unauthenticated["statuses"]),
            ("without the key: MB the client got to send", unauthenticated["mb_sent"]),
            ("without the key: RSS after (MB)", unauthenticated["rss_after_mb"]),
            ("without the key: after / before", ratio),
            ("with the key: answers", authenticated["statuses"]),
            ("with the key: MB the client got to send", authenticated["mb_sent"]),
            ("with the key: RSS after (MB)", authenticated["rss_after_mb"]),
            ("with the key: after / before", ratio_read),
        ],
        {
            "requests": args.requests,
            "megabytes": args.megabytes,
            "database": server.database.split(":")[0],
            "rss_before_mb": before,
            "rss_after_mb": unauthenticated["rss_after_mb"],
            "ratio": ratio,
            "unauthenticated": unauthenticated,
            "authenticated": {**authenticated, "ratio": ratio_read},
        },
    )
    return 0
