"""The KnowledgeBase contract, run against every backend on its real engine:
the embedded qdrant-edge shard (tmp_path) and qdrant-client's local mode (":memory:")."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from qdrant_client import QdrantClient

from tools.embeddings import Embedder, default_embedder
from tools.knowledge import KnowledgeBase, KnowledgeBaseError
from tools.knowledge.edge import EdgeKnowledgeBase
from tools.knowledge.qdrant_server import QdrantServerKnowledgeBase
from tools.knowledge.types import Document

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect")

MakeKnowledgeBase = Callable[..., KnowledgeBase]

SHOP: list[Document] = [
    {
        "id": "horarios",
        "text": "# Horarios de atención\n\nAbrimos de lunes a viernes de 9:00 a 19:00 y los "
        "sábados de 10:00 a 14:00. Domingos y festivos la tienda está cerrada.",
    },
    {
        "id": "devoluciones",
        "text": "# Devoluciones\n\nPuedes devolver cualquier producto dentro de los 30 días "
        "posteriores a la compra, con el ticket y en su empaque original. El reembolso "
        "llega al mismo medio de pago en 5 a 10 días hábiles.",
    },
    {
        "id": "envios",
        "text": "# Envíos\n\nEnviamos a todo el país. El envío es gratis en compras mayores a "
        "$999; si no, cuesta $99. La entrega tarda de 3 a 5 días hábiles.",
    },
    {
        "id": "warranty",
        "text": "# Warranty\n\nAll electronics come with a 12-month manufacturer warranty. "
        "To make a claim, bring the product and the receipt to any store.",
    },
]


@pytest.fixture(params=["edge", "server"])
def make_kb(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MakeKnowledgeBase]:
    opened: list[KnowledgeBase] = []

    def make(embedder: Embedder | None = None) -> KnowledgeBase:
        embedder = embedder or default_embedder()
        kb: KnowledgeBase
        if request.param == "edge":
            kb = EdgeKnowledgeBase(tmp_path_factory.mktemp("edge") / "kb", embedder)
        else:
            kb = QdrantServerKnowledgeBase(QdrantClient(":memory:"), embedder)
        opened.append(kb)
        return kb

    yield make
    for kb in opened:
        kb.close()


@pytest.fixture
def kb(make_kb: MakeKnowledgeBase) -> KnowledgeBase:
    return make_kb()


def _top(kb: KnowledgeBase, tenant: str, query: str) -> str:
    return kb.search(tenant, query)[0]["document_id"]


def test_finds_the_right_document_in_spanish_english_and_across(kb: KnowledgeBase) -> None:
    assert kb.upsert("acme", SHOP) == ["horarios", "devoluciones", "envios", "warranty"]
    assert _top(kb, "acme", "¿A qué hora abren los sábados?") == "horarios"
    assert _top(kb, "acme", "¿cuánto cuesta el envío?") == "envios"
    assert _top(kb, "acme", "How long is the warranty on electronics?") == "warranty"
    assert _top(kb, "acme", "¿cuánto dura la garantía de los electrónicos?") == "warranty"
    assert _top(kb, "acme", "Can I return a product?") == "devoluciones"
    passage = kb.search("acme", "quiero devolver algo", limit=2)[0]
    assert passage["title"] == "Devoluciones" and passage["chunk"] == 0
    assert passage["text"].startswith("Devoluciones\n\nPuedes devolver")


def test_score_is_the_dense_cosine_of_query_and_chunk(kb: KnowledgeBase) -> None:
    kb.upsert("acme", SHOP)
    query = "¿Cuándo hacen envíos gratis?"
    passages = kb.search("acme", query, limit=4)
    assert len(passages) == 4
    embedder = default_embedder()
    seen = embedder.embed_query("hacen envíos gratis")  # as the embedder sees the question
    cosines = embedder.embed_documents([p["text"] for p in passages]) @ seen
    assert np.allclose([p["score"] for p in passages], cosines, atol=1e-3)


class _BlindEmbedder:
    """One vector for every text: dense carries no signal, ranking must come from BM25."""

    dim = 16

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.tile(self.embed_query(""), (len(texts), 1))

    def embed_query(self, text: str) -> np.ndarray:
        return np.full(self.dim, 0.25, dtype=np.float32)


def test_bm25_branch_matches_stems_and_folded_accents(make_kb: MakeKnowledgeBase) -> None:
    kb = make_kb(_BlindEmbedder())
    kb.upsert("acme", SHOP)
    assert _top(kb, "acme", "envio gratuito") == "envios"  # envío/envíos, folded + stemmed
    assert _top(kb, "acme", "devolución") == "devoluciones"
    assert _top(kb, "acme", "claims for electronic") == "warranty"  # English stemming


def test_reingest_replaces_chunks(kb: KnowledgeBase) -> None:
    long_text = "# Envíos\n\n" + "\n\n".join(
        f"Regla {i}: los pedidos de la zona {i} llegan en {i + 2} días hábiles. " * 4
        for i in range(8)
    )
    kb.upsert("acme", [{"id": "envios", "text": long_text}, SHOP[0]])
    before = kb.count("acme")
    assert before > 3
    kb.upsert("acme", [{"id": "envios", "text": long_text}])
    assert kb.count("acme") == before
    kb.upsert("acme", [{"id": "envios", "text": "# Envíos\n\nAhora el envío siempre es gratis."}])
    assert kb.count("acme") == 2  # the stale chunks of the longer version are gone
    assert {d["document_id"]: d["chunks"] for d in kb.list_documents("acme")} == {
        "envios": 1,
        "horarios": 1,
    }
    assert "siempre es gratis" in kb.search("acme", "¿el envío es gratis?")[0]["text"]


def test_missing_id_and_title_are_derived_and_stable(kb: KnowledgeBase) -> None:
    text = "Política de cambios\n\nCambiamos tallas dentro de 15 días."
    first = kb.upsert("acme", [{"text": text}])
    assert kb.upsert("acme", [{"text": text}]) == first
    assert kb.count("acme") == 1
    assert kb.list_documents("acme") == [
        {"document_id": first[0], "title": "Política de cambios", "chunks": 1}
    ]


def test_delete_document_and_tenant(kb: KnowledgeBase) -> None:
    kb.upsert("acme", SHOP)
    kb.upsert("beta", SHOP[:1])
    assert kb.delete_document("acme", "envios") is True
    assert kb.delete_document("acme", "envios") is False
    assert "envios" not in {p["document_id"] for p in kb.search("acme", "envío gratis", 10)}
    assert kb.delete_tenant("acme") == 3
    assert kb.count("acme") == 0 and kb.search("acme", "horario") == []
    assert kb.count("beta") == 1


def test_tenants_never_see_each_other(kb: KnowledgeBase) -> None:
    secret = "Nuestro proveedor secreto de telas es Textiles Quintana, contacto 555-0199."
    kb.upsert("acme", SHOP)
    kb.upsert("beta", [{"id": "proveedor", "text": secret}])
    passages = kb.search("acme", secret, limit=10)
    assert passages and all(p["document_id"] != "proveedor" for p in passages)
    assert all("Quintana" not in p["text"] for p in passages)
    assert [d["document_id"] for d in kb.list_documents("beta")] == ["proveedor"]
    assert kb.count("acme") == 4 and kb.count("beta") == 1
    assert kb.delete_document("acme", "proveedor") is False
    assert kb.search("gamma", secret) == []
    assert _top(kb, "beta", "¿quién es el proveedor de telas?") == "proveedor"


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        ([SHOP[0], {"id": "vacio", "text": "   \n"}], "document 1: 'text' is empty"),
        ([SHOP[0], {"id": "x", "title": "sin texto"}], "document 1: 'text' is empty"),
        ([SHOP[0], SHOP[1], {**SHOP[0]}], "duplicate id 'horarios'"),
        ([{"text": "igual"}, {"text": "igual"}], "duplicate id"),
    ],
)
def test_bad_input_writes_nothing(
    kb: KnowledgeBase, documents: list[Document], message: str
) -> None:
    kb.upsert("acme", [SHOP[2]])
    with pytest.raises(ValueError, match=message):
        kb.upsert("acme", documents)
    assert [d["document_id"] for d in kb.list_documents("acme")] == ["envios"]
    with pytest.raises(ValueError, match="tenant_id"):
        kb.upsert("", [SHOP[0]])
    with pytest.raises(ValueError, match="limit"):
        kb.search("acme", "envío", limit=0)
    assert kb.search("acme", "   ") == []


def test_closed_knowledge_base_says_so(kb: KnowledgeBase) -> None:
    kb.ping()
    kb.close()
    kb.close()
    with pytest.raises(KnowledgeBaseError, match="closed"):
        kb.ping()
    with pytest.raises(KnowledgeBaseError, match="closed"):
        kb.search("acme", "horario")


def test_search_modes_rank_by_one_signal_or_both(kb: KnowledgeBase) -> None:
    kb.upsert("acme", SHOP)
    # no word in common with any chunk: BM25 alone finds nothing, the dense signals do
    assert kb.search("acme", "¿a qué horas atienden?", mode="bm25") == []
    assert _top(kb, "acme", "¿a qué horas atienden?") == "horarios"
    dense = kb.search("acme", "¿a qué horas atienden?", limit=4, mode="dense")
    assert dense[0]["document_id"] == "horarios" and len(dense) == 4
    lexical = kb.search("acme", "reembolso ticket", limit=4, mode="bm25")
    assert [p["document_id"] for p in lexical] == ["devoluciones"]
    with pytest.raises(ValueError, match="unknown search mode"):
        kb.search("acme", "envío", mode="magic")  # type: ignore[arg-type]


def test_faq_questions_are_indexed_on_their_own(kb: KnowledgeBase) -> None:
    from tools.knowledge.chunking import faq_markdown

    answers = [
        (
            "¿Puedo recoger mi pedido en tienda?",
            "Sí: elige 'recoger' al pagar; te avisamos por correo.",
        ),
        ("¿Venden tarjetas de regalo?", "Sí, desde $200, en tienda y en línea."),
    ]
    kb.upsert("acme", [{"id": "faq.csv", "text": faq_markdown(answers, "FAQ")}, *SHOP])
    assert {d["document_id"]: d["chunks"] for d in kb.list_documents("acme")}["faq.csv"] == 2
    passage = kb.search("acme", "quiero pasar por mi compra a la sucursal", limit=1)[0]
    assert (passage["document_id"], passage["chunk"]) == ("faq.csv", 0)
    assert passage["text"].startswith("¿Puedo recoger mi pedido en tienda?\n\nSí")


def test_a_query_of_stop_words_only(kb: KnowledgeBase) -> None:
    kb.upsert("acme", SHOP)
    assert kb.search("acme", "de la que", mode="bm25") == []
    assert len(kb.search("acme", "de la que", limit=2)) == 2  # the dense side still ranks
