"""A fake Qdrant server on loopback whose searches fail: the knowledge engine raising.

It answers what a server needs to start (the collection exists, or is created; its info;
upserts and deletes of the demo documents) and, while `failing` is set, answers every
search, scroll and count with HTTP 500, so qdrant-client raises `UnexpectedResponse` in
the retriever. With `failing` cleared, searches find nothing.

    with FakeQdrant() as qdrant:        # QDRANT_URL=qdrant.url
        ... qdrant.failed ...           # searches answered 500 so far
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

READS = ("/points/query", "/points/search", "/points/scroll", "/points/count")


def collection_info(dim: int) -> dict[str, Any]:
    """A collection with Atiende's named vectors (`dense`, `focus`) of size `dim`, and `bm25`."""
    vector = {"size": dim, "distance": "Cosine"}
    return {
        "status": "green",
        "optimizer_status": "ok",
        "segments_count": 1,
        "points_count": 0,
        "indexed_vectors_count": 0,
        "payload_schema": {},
        "config": {
            "params": {
                "vectors": {
                    "dense": vector,
                    "focus": {
                        **vector,
                        "multivector_config": {"comparator": "max_sim"},
                        "datatype": "float16",
                    },
                },
                "sparse_vectors": {"bm25": {"modifier": "idf"}},
                "shard_number": 1,
                "replication_factor": 1,
                "write_consistency_factor": 1,
                "on_disk_payload": True,
            },
            "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000},
            "optimizer_config": {"default_segment_number": 0, "flush_interval_sec": 5},
            "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
        },
    }


class FakeQdrant:
    """Start with `with FakeQdrant() as qdrant:`; `qdrant.url` is QDRANT_URL."""

    def __init__(self, dim: int, failing: bool = True) -> None:
        self.dim = dim
        self.failing = failing
        self.exists = False
        self.failed = 0
        """Searches (and scrolls, counts) answered with HTTP 500."""
        self.writes = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeQdrant:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """The status and `result` for one request (a `result` of None: an error body)."""
        with self._lock:
            if path.endswith("/exists"):
                return 200, {"exists": self.exists}
            if any(path.endswith(read) or f"{read}/" in path for read in READS):
                if self.failing:
                    self.failed += 1
                    return 500, None
                if "/points/query" in path and path.endswith("/batch"):
                    return 200, [{"points": []} for _ in body.get("searches", [])]
                if path.endswith("/points/count"):
                    return 200, {"count": 0}
                if path.endswith("/points/scroll"):
                    return 200, {"points": [], "next_page_offset": None}
                return 200, {"points": []}
            if method == "GET":
                return (200, collection_info(self.dim)) if self.exists else (404, None)
            self.writes += 1
            if method == "PUT" and path.count("/") == 2:  # PUT /collections/{name}
                self.exists = True
                return 200, True
            return 200, {"operation_id": self.writes, "status": "completed"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                status, result = fake._answer(self.command, urlparse(self.path).path, body)
                if result is None:
                    payload: dict[str, Any] = {"status": {"error": "fake Qdrant failure"}}
                else:
                    payload = {"result": result, "status": "ok"}
                data = json.dumps({**payload, "time": 0.0}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve

        return Handler
