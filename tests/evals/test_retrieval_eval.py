"""Retrieval eval: converters from the original file shapes, metrics, the runner, the bench."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from evals import bench_retrieval, retrieval
from evals.converters import retrieval as converter
from evals.retrieval import (
    EvalQuery,
    half_of,
    percentile,
    ranked_documents,
    read_documents,
    read_queries,
    run_retrieval_eval,
    score_ranking,
)
from server import cli


def write(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows) + "\n")
    return path


def xquad_file(language: str) -> dict:
    texts = {
        "es": (
            "\ufeffLos Panthers cedieron 308 puntos.",
            "¿Cuántos puntos cedieron los Panthers?",
            "El oxígeno es un elemento químico.",
            "¿Qué es el oxígeno?",
        ),
        "en": (
            "The Panthers allowed 308 points.",
            "How many points did the Panthers allow?",
            "Oxygen is a chemical element.",
            "What is oxygen?",
        ),
    }[language]
    return {
        "data": [
            {
                "title": "Super_Bowl_50",
                "paragraphs": [
                    {
                        "context": texts[0],
                        "qas": [{"id": "q1", "question": texts[1], "answers": []}],
                    }
                ],
            },
            {
                "title": "Oxygen",
                "paragraphs": [
                    {
                        "context": texts[2],
                        "qas": [{"id": "q2", "question": texts[3], "answers": []}],
                    }
                ],
            },
        ]
    }


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "shared-data"
    (folder / "xquad-r").mkdir(parents=True)
    (folder / "stackfaq").mkdir()
    for language in ("es", "en"):
        (folder / "xquad-r" / f"{language}.json").write_text(json.dumps(xquad_file(language)))
    faq = {
        "root": {
            "qapair": [
                {
                    "rephr": ["how to cross out text on github", "*"],
                    "question": "Strikethrough with GitHub Markdown",
                    "answer": ["Use ~~tildes~~."],
                },
                {
                    "rephr": ["remove my facebook profile"],
                    "question": "How do I delete my Facebook account?",
                    "answer": "Go to settings and choose delete.",
                },
            ]
        }
    }
    (folder / "stackfaq" / "stackExchange-FAQ.json").write_text(json.dumps(faq))
    return folder


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_converters_write_docs_and_queries(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cross"
    assert (
        converter.main(
            ["--source", "xquad-cross", "--data-dir", str(data_dir), "--out-dir", str(out)]
        )
        == 0
    )
    docs, queries = read_jsonl(out / "docs.jsonl"), read_jsonl(out / "queries.jsonl")
    assert docs[0] == {"id": "Super_Bowl_50/0", "text": "The Panthers allowed 308 points."}
    assert queries[0] == {
        "query": "¿Cuántos puntos cedieron los Panthers?",
        "relevant": ["Super_Bowl_50/0"],
    }
    es_docs, _ = converter.convert("xquad-es", data_dir)
    assert es_docs[0]["text"] == "Los Panthers cedieron 308 puntos."  # BOM dropped

    faq_docs, faq_queries = converter.convert("stackfaq", data_dir)
    assert [d["id"] for d in faq_docs] == ["faq-000", "faq-001"]
    assert faq_docs[0]["title"] == "Strikethrough with GitHub Markdown"
    assert faq_docs[0]["text"].startswith(
        "<!-- faq -->\n\n## Strikethrough with GitHub Markdown\n\nUse ~~tildes~~."
    )
    assert faq_queries == [  # the "*" placeholder is dropped
        {"query": "how to cross out text on github", "relevant": ["faq-000"]},
        {"query": "remove my facebook profile", "relevant": ["faq-001"]},
    ]


def test_metrics_of_one_ranking() -> None:
    ranking = ranked_documents(["b", "b", "a", "c", "d", "e", "f"])
    assert ranking == ["b", "a", "c", "d", "e", "f"]
    assert score_ranking(ranking, frozenset({"a"})) == {
        "recall@1": 0.0,
        "recall@5": 1.0,
        "mrr@10": 0.5,
    }
    assert score_ranking(ranking, frozenset({"b", "zz"})) == {
        "recall@1": 0.5,
        "recall@5": 0.5,
        "mrr@10": 1.0,
    }
    assert score_ranking(ranking, frozenset({"f"}))["recall@5"] == 0.0
    assert score_ranking(ranking, frozenset({"zz"}))["mrr@10"] == 0.0
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([float(i) for i in range(1, 101)], 0.95) == 95.0


def test_halves_split_queries_by_document_group() -> None:
    queries = [
        EvalQuery(f"q{i}", frozenset({doc}))
        for i, doc in enumerate(["Oxygen/0", "Oxygen/3", "Amazon/1", "Rhine/0", "faq-001"])
    ]
    first, second = half_of(queries, 0), half_of(queries, 1)
    # groups sorted: Amazon, Oxygen, Rhine, faq-001 -> halves {Amazon, Rhine}, {Oxygen, faq-001}
    assert [q.query for q in first] == ["q2", "q3"]
    assert [q.query for q in second] == ["q0", "q1", "q4"]
    with pytest.raises(ValueError, match="half"):
        half_of(queries, 2)


def test_bad_input_files_name_the_line(tmp_path: Path) -> None:
    bad_docs = write(tmp_path / "d.jsonl", [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])
    with pytest.raises(ValueError, match=r"d.jsonl:2: duplicate id 'a'"):
        read_documents(bad_docs)
    with pytest.raises(ValueError, match="need a string 'id' and 'text'"):
        read_documents(write(tmp_path / "e.jsonl", [{"text": "x"}]))
    with pytest.raises(ValueError, match="non-empty list"):
        read_queries(write(tmp_path / "q.jsonl", [{"query": "x", "relevant": []}]))
    (tmp_path / "n.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match=r"n\.jsonl:1: not JSON"):
        read_queries(tmp_path / "n.jsonl")


SHOP = [
    {
        "id": "horarios",
        "title": "Horarios",
        "text": "Abrimos de lunes a sábado de 9:00 a 19:00; los domingos cerramos.",
    },
    {
        "id": "envios",
        "title": "Envíos",
        "text": "El envío es gratis en compras mayores a $999 y tarda de 3 a 5 días.",
    },
    {"id": "pagos", "title": "Pagos", "text": "Aceptamos tarjetas, PayPal y efectivo en OXXO."},
    {
        "id": "garantia",
        "title": "Garantía",
        "text": "Los electrónicos tienen 12 meses de garantía contra defectos.",
    },
]
QUESTIONS = [
    {"query": "¿abren el domingo?", "relevant": ["horarios"]},
    {"query": "¿cuánto cuesta enviar mi pedido?", "relevant": ["envios"]},
    {"query": "¿puedo pagar con PayPal?", "relevant": ["pagos"]},
    {"query": "how long is the warranty?", "relevant": ["garantia"]},
]


def test_runner_on_a_small_fixture(tmp_path: Path) -> None:
    documents = read_documents(write(tmp_path / "docs.jsonl", SHOP))
    queries = read_queries(write(tmp_path / "queries.jsonl", QUESTIONS))
    result = run_retrieval_eval(documents, queries, k=3)
    assert result["recall@1"] == result["recall@5"] == result["mrr@10"] == 1.0
    assert (result["n"], result["documents"], result["chunks"], result["mode"]) == (
        4,
        4,
        4,
        "hybrid",
    )
    assert 0 < result["p50_ms"] <= result["p95_ms"]
    lexical = run_retrieval_eval(
        documents, [EvalQuery("warranty please", frozenset({"garantia"}))], mode="bm25"
    )
    assert lexical["recall@1"] == 0.0  # no shared word: BM25 alone finds nothing


def test_main_prints_a_table_then_json_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = write(tmp_path / "docs.jsonl", SHOP)
    queries = write(tmp_path / "queries.jsonl", QUESTIONS)
    args = ["--docs", str(docs), "--queries", str(queries), "--k", "5", "--mode", "dense"]
    assert cli.main(["eval", "retrieval", *args]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(lines[-1])
    assert {"recall@1", "recall@5", "mrr@10", "p50_ms", "p95_ms", "n"} <= figures.keys()
    assert figures["mode"] == "dense" and figures["k"] == 5 and figures["half"] is None
    assert cli.main(["eval", "retrieval", *args, "--half", "1"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["n"] == 2
    assert any(line.startswith("recall@1") for line in lines[:-1])
    assert (
        retrieval.main(["--docs", str(tmp_path / "missing.jsonl"), "--queries", str(queries)]) == 2
    )
    assert "missing.jsonl" in capsys.readouterr().err


def test_bench_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--chunks", "60", "--other-chunks", "20", "--queries", "5"]
    assert cli.main(["bench", "retrieval", *args]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"p95_ms", "ingest_chunks_per_s", "peak_rss_mb"} <= figures.keys()
    assert figures["chunks"] >= 60 and figures["other_tenant_chunks"] >= 20
    assert figures["ingest_chunks_per_s"] > 0 and figures["peak_rss_mb"] > 0


def test_generated_bench_documents_are_deterministic() -> None:
    first = bench_retrieval.generate_documents(100, seed=3, prefix="d")
    assert first == bench_retrieval.generate_documents(100, seed=3, prefix="d")
    assert {d["id"] for d in first} == {f"d-{i}" for i in range(len(first))}
