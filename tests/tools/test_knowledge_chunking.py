"""Chunking: heading paths as context, bounded size, overlap, nothing lost."""

from __future__ import annotations

import itertools
import re

from tools.knowledge.chunking import MAX_CHUNK_CHARS, chunk_markdown, title_of

FAQ = """# Preguntas frecuentes

Bienvenido a la tienda.

## Envíos

### Costos
El envío es gratis en compras mayores a $999.

### Tiempos
La entrega tarda de 3 a 5 días hábiles.

## Pagos
Aceptamos tarjetas y PayPal.

```
# esto no es un encabezado
```
"""


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def test_chunks_follow_headings_with_their_path_as_prefix() -> None:
    chunks = chunk_markdown(FAQ)
    assert [c.heading for c in chunks] == [
        "Preguntas frecuentes",
        "Preguntas frecuentes > Envíos > Costos",
        "Preguntas frecuentes > Envíos > Tiempos",
        "Preguntas frecuentes > Pagos",
    ]
    assert chunks[1].text == (
        "Preguntas frecuentes > Envíos > Costos\n\nEl envío es gratis en compras mayores a $999."
    )
    assert "# esto no es un encabezado" in chunks[3].body  # fenced code stays text


def test_long_sections_are_bounded_and_overlap() -> None:
    sentences = [
        f"La regla número {i} dice que el pedido {i} se envía en {i} días." for i in range(60)
    ]
    text = (
        "## Política de envíos\n\n" + " ".join(sentences[:30]) + "\n\n" + " ".join(sentences[30:])
    )
    chunks = chunk_markdown(text)
    assert len(chunks) >= 4
    assert all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert all(c.heading == "Política de envíos" for c in chunks)
    for previous, following in itertools.pairwise(chunks):
        first_sentence = following.body.split(". ")[0]
        assert first_sentence in previous.body  # each chunk repeats the previous tail
    assert _words(text) <= _words(" ".join(c.text for c in chunks))


def test_unbreakable_tokens_are_cut_to_size() -> None:
    chunks = chunk_markdown("intro " + "x" * 2000 + " fin")
    assert all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert "".join(c.body for c in chunks).count("x") >= 2000


def test_plain_text_gets_the_title_as_context_except_where_it_already_starts() -> None:
    paragraphs = [f"Párrafo {i}: " + "texto de relleno " * 40 for i in range(4)]
    text = "Política de devoluciones\n\n" + "\n\n".join(paragraphs)
    chunks = chunk_markdown(text, fallback_heading=title_of(text))
    assert chunks[0].heading == "" and chunks[0].text.startswith("Política de devoluciones")
    assert all(c.heading == "Política de devoluciones" for c in chunks[1:])


def test_headings_only_document_still_has_a_chunk() -> None:
    assert [c.text for c in chunk_markdown("# Solo un título")] == ["Solo un título"]
    assert chunk_markdown("   \n\n ") == []


def test_title_is_the_first_heading_or_line() -> None:
    assert title_of("Intro line\n# **Horarios** de atención\ntexto") == "Horarios de atención"
    assert title_of("\n\n  Política de *envíos*  \nmás texto") == "Política de envíos"
    assert len(title_of("palabra " * 100)) <= 120
    assert title_of("") == ""
