"""Retrieval eval sets (DOCS.jsonl + QUERIES.jsonl) from the original public files.

Output: `docs.jsonl` lines `{"id", "text", "title"?}` and `queries.jsonl` lines
`{"query", "relevant": [ids]}`, what `evals.retrieval` reads.
- xquad-es / xquad-en (XQuAD-R, `xquad-r/{es,en}.json`): one document per paragraph, id
  `<article>/<n>` (the same in both languages), no title (the task is question -> paragraph);
  every question of a paragraph is a query whose only relevant id is its paragraph.
- xquad-cross: Spanish questions over the English paragraphs (the ids are shared).
- stackfaq (`stackfaq/stackExchange-FAQ.json`): one document per FAQ thread, titled with the
  thread's question, written as the FAQ loader writes a question/answer pair
  (`tools.knowledge.chunking.faq_markdown`: the question indexed on its own, the answers
  as its text); every paraphrase ("rephr") is a query.

Whatever split the data folder holds is converted (the development split in ../shared/data).

    python -m evals.converters.retrieval --source stackfaq --out-dir /tmp/stackfaq
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

from evals.converters.jsonl import write_jsonl
from tools.knowledge.chunking import faq_markdown

SOURCES = ("xquad-es", "xquad-en", "xquad-cross", "stackfaq")
DEFAULT_DATA_DIR = Path("../shared/data")
DOCS_FILE, QUERIES_FILE = "docs.jsonl", "queries.jsonl"


class _DocRequired(TypedDict):
    id: str
    text: str


class EvalDocument(_DocRequired, total=False):
    """One line of DOCS.jsonl."""

    title: str


class EvalQuery(TypedDict):
    """One line of QUERIES.jsonl."""

    query: str
    relevant: list[str]


def _clean(text: str) -> str:
    return text.replace("\ufeff", "").strip()


def _xquad_articles(data_dir: Path, language: str) -> list[dict[str, Any]]:
    path = data_dir / "xquad-r" / f"{language}.json"
    articles: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["data"]
    return articles


def xquad(
    data_dir: Path, doc_language: str, query_language: str
) -> tuple[list[EvalDocument], list[EvalQuery]]:
    """Paragraphs in `doc_language`, questions in `query_language` (parallel files)."""
    documents: list[EvalDocument] = []
    queries: list[EvalQuery] = []
    doc_articles = _xquad_articles(data_dir, doc_language)
    query_articles = _xquad_articles(data_dir, query_language)
    if [a["title"] for a in doc_articles] != [a["title"] for a in query_articles]:
        raise ValueError(f"xquad-r {doc_language} and {query_language} files are not parallel")
    for doc_article, query_article in zip(doc_articles, query_articles, strict=True):
        pairs = zip(doc_article["paragraphs"], query_article["paragraphs"], strict=True)
        for index, (doc_paragraph, query_paragraph) in enumerate(pairs):
            doc_id = f"{doc_article['title']}/{index}"
            documents.append({"id": doc_id, "text": _clean(doc_paragraph["context"])})
            for qa in query_paragraph["qas"]:
                question = _clean(qa["question"])
                if question:
                    queries.append({"query": question, "relevant": [doc_id]})
    return documents, queries


def stackfaq(data_dir: Path) -> tuple[list[EvalDocument], list[EvalQuery]]:
    """FAQ threads (question as title, answers as text) and their paraphrased queries."""
    path = data_dir / "stackfaq" / "stackExchange-FAQ.json"
    pairs = json.loads(path.read_text(encoding="utf-8"))["root"]["qapair"]
    documents: list[EvalDocument] = []
    queries: list[EvalQuery] = []
    for index, pair in enumerate(pairs):
        answers = pair["answer"] if isinstance(pair["answer"], list) else [pair["answer"]]
        answer = "\n\n".join(_clean(str(a)) for a in answers if _clean(str(a)))
        question = _clean(pair["question"])
        doc_id = f"faq-{index:03d}"
        text = faq_markdown([(question, answer)])
        documents.append({"id": doc_id, "title": question, "text": text})
        for paraphrase in pair.get("rephr") or []:
            query = _clean(str(paraphrase))
            if query and query != "*":
                queries.append({"query": query, "relevant": [doc_id]})
    return documents, queries


def convert(source: str, data_dir: Path) -> tuple[list[EvalDocument], list[EvalQuery]]:
    """Documents and queries of one source."""
    if source == "xquad-es":
        return xquad(data_dir, "es", "es")
    if source == "xquad-en":
        return xquad(data_dir, "en", "en")
    if source == "xquad-cross":
        return xquad(data_dir, "en", "es")
    if source == "stackfaq":
        return stackfaq(data_dir)
    raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: write `docs.jsonl` and `queries.jsonl` of one source into a folder."""
    parser = argparse.ArgumentParser(
        prog="python -m evals.converters.retrieval", description="Retrieval eval sets to JSONL."
    )
    parser.add_argument("--source", required=True, choices=SOURCES)
    parser.add_argument("--out-dir", required=True, type=Path, help="folder to write into")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="folder of the data sets"
    )
    args = parser.parse_args(argv)
    documents, queries = convert(args.source, args.data_dir)
    docs = write_jsonl(documents, args.out_dir / DOCS_FILE)
    count = write_jsonl(queries, args.out_dir / QUERIES_FILE)
    print(
        f"{docs} documents -> {args.out_dir / DOCS_FILE}; "
        f"{count} queries -> {args.out_dir / QUERIES_FILE}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
