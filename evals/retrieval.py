"""Retrieval eval: how often the knowledge base puts the right document first, and how fast.

Reads DOCS.jsonl (`{"id", "text", "title"?}`) and QUERIES.jsonl (`{"query", "relevant":
[ids]}`; see `evals.converters.retrieval`), ingests the documents into a throwaway tenant of
an embedded knowledge base in a temporary folder (never the user's data folder), then runs
every query through `KnowledgeBase.search` as the retriever node does. Chunks are folded
into documents (a document ranks where its best chunk ranks).

Figures: `recall@1`, `recall@5` (share of the relevant ids found in the top 1 / 5
documents, averaged over queries), `mrr@10` (reciprocal rank of the first relevant
document within the top 10), `p50_ms` / `p95_ms` (search latency, query embedding
included) and `n` (queries). `--mode dense|bm25` ranks by one signal alone, to compare the
hybrid fusion with its components. `--half 0|1` scores only the queries of one half of the
document groups (XQuAD-R articles, StackFAQ threads; every document is still ingested): the
fusion weights were chosen on the development splits and cross-checked by tuning on one
half and measuring on the other (`tools/knowledge/fusion.py`).

    atiende eval retrieval --docs /tmp/stackfaq/docs.jsonl --queries /tmp/stackfaq/queries.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from tools.knowledge.fusion import SEARCH_MODES, SearchMode
from tools.knowledge.types import Document

if TYPE_CHECKING:
    from tools.embeddings import Embedder

EVAL_TENANT = "retrieval-eval"
INGEST_BATCH = 64
MRR_DEPTH = 10


@dataclass(frozen=True)
class EvalQuery:
    """One query and the ids of the documents that answer it."""

    query: str
    relevant: frozenset[str]


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{path}:{number}: expected a JSON object")
                rows.append((number, row))
    return rows


def read_documents(path: Path) -> list[Document]:
    """The documents of a DOCS.jsonl file; ValueError naming the line on a bad one."""
    documents: list[Document] = []
    seen: set[str] = set()
    for number, row in _rows(path):
        doc_id, text, title = row.get("id"), row.get("text"), row.get("title")
        if not isinstance(doc_id, str) or not doc_id or not isinstance(text, str):
            raise ValueError(f"{path}:{number}: need a string 'id' and 'text'")
        if title is not None and not isinstance(title, str):
            raise ValueError(f"{path}:{number}: 'title' must be a string")
        if doc_id in seen:
            raise ValueError(f"{path}:{number}: duplicate id {doc_id!r}")
        seen.add(doc_id)
        document: Document = {"id": doc_id, "text": text}
        if title:
            document["title"] = title
        documents.append(document)
    if not documents:
        raise ValueError(f"{path}: no documents")
    return documents


def read_queries(path: Path) -> list[EvalQuery]:
    """The queries of a QUERIES.jsonl file; ValueError naming the line on a bad one."""
    queries = []
    for number, row in _rows(path):
        query, relevant = row.get("query"), row.get("relevant")
        if not isinstance(query, str) or not query.strip():
            raise ValueError(f"{path}:{number}: need a non-empty 'query'")
        if (
            not isinstance(relevant, list)
            or not relevant
            or not all(isinstance(r, str) for r in relevant)
        ):
            raise ValueError(f"{path}:{number}: 'relevant' must be a non-empty list of ids")
        queries.append(EvalQuery(query, frozenset(relevant)))
    if not queries:
        raise ValueError(f"{path}: no queries")
    return queries


def group_of(document_id: str) -> str:
    """A document's group for `half_of`: the id before its last "/" (an XQuAD-R article
    `<article>/<paragraph>`), else the id itself."""
    return document_id.rsplit("/", 1)[0]


def half_of(queries: list[EvalQuery], half: int) -> list[EvalQuery]:
    """The queries whose (first) relevant document is in half `half` (0 or 1) of the groups:
    the sorted groups alternate between the halves."""
    if half not in (0, 1):
        raise ValueError(f"half must be 0 or 1, got {half}")
    groups = sorted({group_of(min(q.relevant)) for q in queries})
    kept = set(groups[half::2])
    return [q for q in queries if group_of(min(q.relevant)) in kept]


def ranked_documents(document_ids: Sequence[str]) -> list[str]:
    """Document ids in order of their first (best) chunk, each once."""
    return list(dict.fromkeys(document_ids))


def score_ranking(ranking: Sequence[str], relevant: frozenset[str]) -> dict[str, float]:
    """recall@1, recall@5 and the reciprocal rank (within `MRR_DEPTH`) of one query."""
    first = next((i for i, doc in enumerate(ranking[:MRR_DEPTH]) if doc in relevant), None)
    return {
        "recall@1": len(relevant.intersection(ranking[:1])) / len(relevant),
        "recall@5": len(relevant.intersection(ranking[:5])) / len(relevant),
        "mrr@10": 0.0 if first is None else 1.0 / (first + 1),
    }


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` quantile (0..1) of `values`, nearest-rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def run_retrieval_eval(
    documents: list[Document],
    queries: list[EvalQuery],
    k: int = 10,
    mode: SearchMode = "hybrid",
    embedder: Embedder | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Ingest `documents` into a temporary knowledge base and score every query."""
    from tools.embeddings import default_embedder
    from tools.knowledge.edge import EdgeKnowledgeBase

    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    embedder = embedder or default_embedder()
    embedder.embed_query("warm up")  # the model loads outside the timings
    totals = {"recall@1": 0.0, "recall@5": 0.0, "mrr@10": 0.0}
    latencies: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="atiende-retrieval-") as folder,
        EdgeKnowledgeBase(Path(folder) / "qdrant", embedder) as kb,
    ):
        started = time.perf_counter()
        for start in range(0, len(documents), INGEST_BATCH):
            kb.upsert(EVAL_TENANT, documents[start : start + INGEST_BATCH])
            if progress:
                done = min(start + INGEST_BATCH, len(documents))
                print(f"\ringested {done}/{len(documents)}", end="", file=sys.stderr)
        ingest_s = time.perf_counter() - started
        chunks = kb.count(EVAL_TENANT)
        if progress:
            print(file=sys.stderr)
        for query in queries:
            started = time.perf_counter()
            passages = kb.search(EVAL_TENANT, query.query, limit=2 * k, mode=mode)
            latencies.append((time.perf_counter() - started) * 1000)
            ranking = ranked_documents([p["document_id"] for p in passages])[:k]
            for name, value in score_ranking(ranking, query.relevant).items():
                totals[name] += value
    n = len(queries)
    return {
        **{name: round(total / n, 4) for name, total in totals.items()},
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "n": n,
        "documents": len(documents),
        "chunks": chunks,
        "ingest_s": round(ingest_s, 2),
        "mode": mode,
        "k": k,
    }


def format_table(result: dict[str, Any]) -> str:
    rows = [
        ("mode", result["mode"]),
        ("documents / chunks", f"{result['documents']} / {result['chunks']}"),
        ("queries (n)", result["n"]),
        ("recall@1", f"{result['recall@1']:.3f}"),
        ("recall@5", f"{result['recall@5']:.3f}"),
        ("mrr@10", f"{result['mrr@10']:.3f}"),
        ("search p50 / p95 ms", f"{result['p50_ms']:.1f} / {result['p95_ms']:.1f}"),
        ("ingest s", f"{result['ingest_s']:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: a readable table, then the figures as JSON on the last line."""
    parser = argparse.ArgumentParser(
        prog="atiende eval retrieval",
        description="Recall and MRR of the knowledge base on DOCS + QUERIES (JSONL).",
    )
    parser.add_argument(
        "--docs", required=True, type=Path, help='JSONL of {"id", "text", "title"?}'
    )
    parser.add_argument(
        "--queries", required=True, type=Path, help='JSONL of {"query", "relevant": [ids]}'
    )
    parser.add_argument("--k", type=int, default=10, help="documents retrieved per query")
    parser.add_argument("--mode", choices=SEARCH_MODES, default="hybrid", help="ranking signals")
    parser.add_argument(
        "--half", type=int, choices=(0, 1), help="score only one half of the document groups"
    )
    args = parser.parse_args(argv)
    if args.k < 1:
        parser.error("--k must be >= 1")
    try:
        documents = read_documents(args.docs)
        queries = read_queries(args.queries)
        if args.half is not None:
            queries = half_of(queries, args.half)
    except (OSError, ValueError) as error:
        print(f"atiende eval retrieval: {error}", file=sys.stderr)
        return 2
    result = run_retrieval_eval(
        documents, queries, k=args.k, mode=cast(SearchMode, args.mode), progress=True
    )
    result["half"] = args.half
    print(format_table(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
