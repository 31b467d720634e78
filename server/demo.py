"""The `demo` tenant: a fictional shop with a small Spanish knowledge base (development only)."""

from __future__ import annotations

from checkpoints.records import TenantRecord
from tools.knowledge.types import Document

DEMO_TENANT_ID = "demo"
DEMO_TENANT = TenantRecord(
    id=DEMO_TENANT_ID,
    name="Demo",
    company_name="Tienda Luna",
    persona="Eres el asistente de Tienda Luna, una tienda de artículos para el hogar. Respondes breve y amable.",
    welcome_message="¡Hola! Soy el asistente virtual de Tienda Luna. ¿En qué puedo ayudarte?",
    default_language="es",
)
DEMO_DOCUMENTS: list[Document] = [
    {
        "id": "horarios",
        "title": "Horario de atención",
        "text": (
            "# Horario de atención\n"
            "Nuestro horario de atención es de lunes a viernes de 9:00 a 18:00 y los sábados "
            "de 10:00 a 14:00 (hora de Ciudad de México). Los domingos y días festivos la tienda "
            "permanece cerrada. Por WhatsApp puedes escribirnos a cualquier hora y te respondemos "
            "en el siguiente horario hábil."
        ),
    },
    {
        "id": "devoluciones",
        "title": "Devoluciones y cambios",
        "text": (
            "# Devoluciones y cambios\n"
            "Aceptamos devoluciones dentro de los 30 días posteriores a la entrega. El producto debe "
            "estar sin usar y en su empaque original, con el comprobante de compra. El reembolso se "
            "hace al mismo medio de pago en un plazo de 5 a 10 días hábiles. Los cambios por talla o "
            "color no tienen costo."
        ),
    },
    {
        "id": "envios",
        "title": "Envíos",
        "text": (
            "# Envíos\n"
            "Hacemos envíos a todo México. El envío estándar tarda de 3 a 5 días hábiles y cuesta "
            "99 pesos; es gratis en compras mayores a 999 pesos. El envío express llega en 1 a 2 "
            "días hábiles y cuesta 199 pesos. Al despachar tu pedido te enviamos el número de guía "
            "para rastrearlo."
        ),
    },
    {
        "id": "pagos",
        "title": "Formas de pago",
        "text": (
            "# Formas de pago\n"
            "Aceptamos tarjetas de crédito y débito Visa, Mastercard y American Express, "
            "transferencia bancaria, pago en efectivo en tiendas OXXO y Mercado Pago. Ofrecemos "
            "hasta 6 meses sin intereses con tarjetas de crédito participantes en compras mayores "
            "a 1,500 pesos."
        ),
    },
    {
        "id": "ubicacion",
        "title": "Ubicación de la tienda",
        "text": (
            "# Ubicación\n"
            "Nuestra tienda física está en Avenida Reforma 123, colonia Juárez, Ciudad de México. "
            "Puedes recoger tu pedido en tienda sin costo a partir del día siguiente a tu compra."
        ),
    },
]
