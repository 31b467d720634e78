"""Retrieval benchmark: ingestion throughput and search latency on a 10,000-chunk tenant.

Builds, in a temporary folder (never the user's data), an embedded knowledge base holding
other tenants' chunks and then the measured tenant's `--chunks` chunks, generated from a
fixed seed: shop FAQ pairs and policy pages in Spanish and English, sized like real ones
(200-700 characters a chunk). It times the tenant's ingestion (chunking, dense + focus
embeddings, BM25, upserts) and `--queries` searches as the retriever node runs them
(query embedding included), then reports the process's peak memory.

    atiende bench retrieval [--chunks 10000] [--other-chunks 2000] [--queries 300]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.retrieval import percentile
from tools.knowledge.chunking import faq_markdown
from tools.knowledge.types import Document

TENANT = "bench"
SEARCH_LIMIT = 4  # what the retriever node asks for
INGEST_BATCH = 32

_TEXTS = {
    "es": (
        "pedido envío entrega paquete tienda sucursal horario devolución reembolso garantía "
        "factura pago tarjeta efectivo transferencia cuenta contraseña correo dirección talla "
        "color producto precio descuento cupón promoción inventario apartado liquidación cambio "
        "cliente atención domingo sábado semana días hábiles horas plazo costo gratis compra "
        "mínimo nacional ciudad"
    ),
    "en": (
        "order shipping delivery package store branch hours return refund warranty invoice "
        "payment card cash transfer account password email address size color product price "
        "discount coupon promotion stock layaway clearance exchange customer support sunday "
        "saturday week business days hours period cost free purchase minimum nationwide city"
    ),
}
_GLUE_TEXTS = {
    "es": "el la los las de del en con para por y o que se su sus un una es son puede debe",
    "en": "the a an of in with for by and or that its their is are can must be your our",
}
_WORDS = {language: text.split() for language, text in _TEXTS.items()}
_GLUE = {language: text.split() for language, text in _GLUE_TEXTS.items()}


def _sentence(rng: random.Random, language: str) -> str:
    words = _WORDS[language]
    length = rng.randint(8, 18)
    picked = [
        rng.choice(words) if rng.random() < 0.55 else rng.choice(_GLUE[language])
        for _ in range(length)
    ]
    if rng.random() < 0.3:
        picked.insert(rng.randrange(len(picked)), str(rng.randint(2, 999)))
    return " ".join(picked).capitalize() + "."


def generate_documents(chunks: int, seed: int, prefix: str) -> list[Document]:
    """Documents of about `chunks` chunks: FAQ files (a pair a chunk) and policy pages
    (a section a chunk), half in Spanish, half in English."""
    rng = random.Random(seed)
    documents: list[Document] = []
    made = 0
    while made < chunks:
        language = "es" if len(documents) % 2 == 0 else "en"
        sections = min(rng.randint(5, 20), chunks - made)
        if rng.random() < 0.5:
            pairs = [
                (
                    _sentence(rng, language)[:-1] + "?",
                    " ".join(_sentence(rng, language) for _ in range(rng.randint(1, 4))),
                )
                for _ in range(sections)
            ]
            text = faq_markdown(pairs, title=f"FAQ {len(documents)}")
        else:
            text = f"# {_sentence(rng, language)[:-1]}\n\n" + "\n\n".join(
                f"## {' '.join(_sentence(rng, language).split()[:4])}\n\n"
                + " ".join(_sentence(rng, language) for _ in range(rng.randint(2, 5)))
                for _ in range(sections)
            )
        documents.append({"id": f"{prefix}-{len(documents)}", "text": text})
        made += sections
    return documents


def _queries(documents: list[Document], count: int, seed: int) -> list[str]:
    """Questions made of a stored sentence with words dropped (like a customer's words)."""
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        text = rng.choice(documents)["text"]
        sentences = [s for s in text.replace("\n", " ").split(". ") if len(s.split()) > 6]
        words = rng.choice(sentences).split()
        kept = [w for w in words if rng.random() < 0.7 and not w.startswith(("#", "<"))]
        queries.append(" ".join(kept[:12]) + "?")
    return queries


def peak_rss_mb() -> float:
    """The peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ingest(kb: Any, tenant: str, documents: list[Document]) -> float:
    started = time.perf_counter()
    for start in range(0, len(documents), INGEST_BATCH):
        kb.upsert(tenant, documents[start : start + INGEST_BATCH])
    return time.perf_counter() - started


def run_bench(chunks: int, other_chunks: int, queries: int, seed: int = 7) -> dict[str, Any]:
    from tools.embeddings import default_embedder
    from tools.knowledge.edge import EdgeKnowledgeBase

    embedder = default_embedder()
    embedder.embed_query("warm up")
    documents = generate_documents(chunks, seed, "doc")
    others = [generate_documents(other_chunks // 4, seed + n + 1, f"other{n}") for n in range(4)]
    with (
        tempfile.TemporaryDirectory(prefix="atiende-bench-") as folder,
        EdgeKnowledgeBase(Path(folder) / "qdrant", embedder) as kb,
    ):
        for n, docs in enumerate(others):
            _ingest(kb, f"other-{n}", docs)
        seconds = _ingest(kb, TENANT, documents)
        stored = kb.count(TENANT)
        other_stored = sum(kb.count(f"other-{n}") for n in range(len(others)))
        texts = kb.search(TENANT, "warm up", SEARCH_LIMIT)  # first query loads lazy parts
        latencies = []
        for query in _queries(documents, queries, seed):
            started = time.perf_counter()
            texts = kb.search(TENANT, query, SEARCH_LIMIT)
            latencies.append((time.perf_counter() - started) * 1000)
        assert texts, "the tenant has chunks, so a search finds some"
        average = statistics.fmean(len(p["text"]) for p in kb.search(TENANT, "precio", 50))
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "ingest_chunks_per_s": round(stored / seconds, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "chunks": stored,
        "other_tenant_chunks": other_stored,
        "avg_chunk_chars": round(average),
        "queries": queries,
        "embedding_threads": getattr(embedder, "threads", None),
    }


def format_table(result: dict[str, Any]) -> str:
    rows = [
        ("tenant chunks (others)", f"{result['chunks']} ({result['other_tenant_chunks']})"),
        ("avg chunk chars", result["avg_chunk_chars"]),
        ("ingest chunks/s", result["ingest_chunks_per_s"]),
        ("search p50 / p95 ms", f"{result['p50_ms']} / {result['p95_ms']}"),
        ("queries", result["queries"]),
        ("peak RSS MB", result["peak_rss_mb"]),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: a readable table, then the figures as JSON on the last line."""
    parser = argparse.ArgumentParser(
        prog="atiende bench retrieval",
        description="Ingestion throughput and search latency of the embedded knowledge base.",
    )
    parser.add_argument("--chunks", type=int, default=10_000, help="chunks of the measured tenant")
    parser.add_argument("--other-chunks", type=int, default=2_000, help="chunks of other tenants")
    parser.add_argument("--queries", type=int, default=300, help="searches to time")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.chunks < 1 or args.queries < 1 or args.other_chunks < 0:
        parser.error("--chunks and --queries must be >= 1, --other-chunks >= 0")
    print(
        f"building {args.chunks} chunks (+{args.other_chunks} of other tenants)...", file=sys.stderr
    )
    result = run_bench(args.chunks, args.other_chunks, args.queries, args.seed)
    print(format_table(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
