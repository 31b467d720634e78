"""Calibration of RELEVANCE_THRESHOLD on a Spanish shop FAQ (plus one English page).

Questions the FAQ answers must find their section first with a score above the threshold;
off-topic questions must stay below it for every passage.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.embeddings import default_embedder
from tools.knowledge import RELEVANCE_THRESHOLD, is_relevant
from tools.knowledge.edge import EdgeKnowledgeBase
from tools.knowledge.types import Document

FAQ: list[Document] = [
    {
        "id": "horarios",
        "text": """# Horarios y sucursales

Abrimos de lunes a viernes de 9:00 a 19:00 y los sábados de 10:00 a 14:00. Domingos y días festivos permanecemos cerrados.

Nuestra sucursal principal está en Av. Insurgentes Sur 1234, Ciudad de México. También atendemos por WhatsApp en el mismo horario.""",
    },
    {
        "id": "devoluciones",
        "text": """# Cambios y devoluciones

Puedes devolver cualquier producto dentro de los 30 días naturales posteriores a la compra, siempre que esté sin uso, con su empaque original y el ticket.

El reembolso se hace al mismo medio de pago en un plazo de 5 a 10 días hábiles. Los productos en liquidación no tienen devolución, solo cambio por talla.""",
    },
    {
        "id": "envios",
        "text": """# Envíos

Hacemos envíos a todo México con paquetería. El envío es gratis en compras mayores a $999; en compras menores cuesta $99.

La entrega tarda de 3 a 5 días hábiles. Cuando tu pedido sale del almacén te enviamos por correo el número de guía para rastrearlo.""",
    },
    {
        "id": "pagos",
        "text": """# Formas de pago

Aceptamos tarjetas de crédito y débito Visa, Mastercard y American Express, transferencia bancaria, pago en efectivo en OXXO y PayPal.

Ofrecemos 3, 6 y 12 meses sin intereses con tarjetas de crédito participantes en compras mayores a $2,500.""",
    },
    {
        "id": "facturacion",
        "text": """# Facturación

Si necesitas factura, solicítala en nuestro portal dentro del mismo mes de tu compra con el número de ticket y tu RFC. La factura llega a tu correo en un máximo de 72 horas.""",
    },
    {
        "id": "cuenta",
        "text": """# Tu cuenta

Para recuperar tu contraseña usa la opción "Olvidé mi contraseña" en la página de inicio de sesión y sigue el enlace que llega a tu correo. Desde tu cuenta puedes ver tus pedidos y cambiar tu dirección de envío.""",
    },
    {
        "id": "warranty",
        "text": """# Warranty

All electronics come with a 12-month manufacturer warranty against defects. To make a claim, bring the product and the receipt to any store; repairs take up to 15 business days. The warranty does not cover accidental damage or water damage.""",
    },
    {
        "id": "apartado",
        "text": """# Sistema de apartado

Puedes apartar productos con el 20% de anticipo y liquidar el resto en un plazo máximo de 30 días. Si no liquidas a tiempo, el anticipo se devuelve como saldo a favor en la tienda.""",
    },
]
RELEVANT = [
    ("¿A qué hora abren?", "horarios"),
    ("¿abren los domingos?", "horarios"),
    ("horario del sábado", "horarios"),
    ("what are your opening hours?", "horarios"),
    ("quiero devolver un producto", "devoluciones"),
    ("¿cuánto tarda el reembolso?", "devoluciones"),
    ("puedo cambiar una prenda de liquidacion?", "devoluciones"),
    ("Can I return an item I bought?", "devoluciones"),
    ("devolucion sin ticket", "devoluciones"),
    ("¿cuánto cuesta el envío?", "envios"),
    ("¿hacen envíos a Monterrey?", "envios"),
    ("¿cómo rastreo mi pedido?", "envios"),
    ("cuanto tarda en llegar mi paquete", "envios"),
    ("do you ship nationwide?", "envios"),
    ("¿aceptan PayPal?", "pagos"),
    ("¿puedo pagar en efectivo?", "pagos"),
    ("¿tienen meses sin intereses?", "pagos"),
    ("can I pay with American Express?", "pagos"),
    ("necesito factura", "facturacion"),
    ("¿cómo pido mi factura con RFC?", "facturacion"),
    ("olvidé mi contraseña", "cuenta"),
    ("¿cómo cambio la dirección de envío en mi cuenta?", "cuenta"),
    ("¿tienen garantía los electrónicos?", "warranty"),
    ("how long is the warranty?", "warranty"),
    ("se me mojó el celular, ¿lo cubre la garantía?", "warranty"),
    ("¿puedo apartar un producto con anticipo?", "apartado"),
]
OFF_TOPIC = [
    "¿quién ganó el mundial?",
    "¿cuál es la capital de Francia?",
    "dame una receta de pastel de chocolate",
    "¿qué opinas del presidente?",
    "who won the world cup?",
    "write me a poem about the sea",
    "¿cómo se calcula la raíz cuadrada de 2?",
    "¿qué tiempo hará mañana?",
    "explícame la teoría de la relatividad",
    "cuéntame un chiste",
    "¿cuántos años tiene Shakira?",
]


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeKnowledgeBase]:
    base = EdgeKnowledgeBase(tmp_path_factory.mktemp("relevance") / "kb", default_embedder())
    base.upsert("tienda", FAQ)
    base.upsert("otra", [{"text": "# Mundial\n\nArgentina ganó el mundial de 2022 en Qatar."}])
    yield base
    base.close()


@pytest.mark.parametrize(("question", "document_id"), RELEVANT)
def test_answerable_questions_are_relevant(
    kb: EdgeKnowledgeBase, question: str, document_id: str
) -> None:
    best = kb.search("tienda", question, limit=3)[0]
    assert best["document_id"] == document_id
    assert is_relevant(best), f"{question!r} scored {best['score']:.3f}"


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_questions_are_not(kb: EdgeKnowledgeBase, question: str) -> None:
    passages = kb.search("tienda", question, limit=5)
    assert passages, "the tenant has documents, so something is always returned"
    assert not any(is_relevant(p) for p in passages), [round(p["score"], 3) for p in passages]


def test_threshold_has_a_margin_on_both_sides(kb: EdgeKnowledgeBase) -> None:
    relevant = min(kb.search("tienda", q, limit=1)[0]["score"] for q, _ in RELEVANT)
    off_topic = max(kb.search("tienda", q, limit=1)[0]["score"] for q in OFF_TOPIC)
    assert off_topic + 0.03 <= RELEVANCE_THRESHOLD <= relevant - 0.02, (off_topic, relevant)
