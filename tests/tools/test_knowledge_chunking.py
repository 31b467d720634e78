"""Chunking: heading paths as context, bounded size, overlap, nothing lost."""

from __future__ import annotations

import itertools
import re

from tools.knowledge.chunking import (
    MAX_CHUNK_CHARS,
    MAX_FOCUS_TEXTS,
    chunk_markdown,
    faq_markdown,
    is_faq,
    title_of,
)

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


def test_faq_documents_are_one_chunk_per_pair_with_the_question_as_focus() -> None:
    text = faq_markdown(
        [
            ("¿Cuánto cuesta el envío?", "Cuesta $99.\n# no es un encabezado"),
            ("What are your hours?", "9 to 7, Monday to Saturday."),
        ],
        title="Preguntas frecuentes",
    )
    assert is_faq(text) and not is_faq("# Envíos\n\n<!-- faq -->")
    assert title_of(text) == "Preguntas frecuentes"
    first, second = chunk_markdown(text, title_of(text))
    assert (first.heading, first.question) == ("¿Cuánto cuesta el envío?",) * 2
    assert first.body == "Cuesta $99.\n# no es un encabezado"  # the escaped line is text
    assert first.focus == ["¿Cuánto cuesta el envío?"]
    assert second.text == "What are your hours?\n\n9 to 7, Monday to Saturday."


def test_a_long_faq_answer_is_split_but_keeps_its_question() -> None:
    answer = " ".join(
        f"Paso {i}: entra a tu cuenta y revisa el pedido número {i}." for i in range(40)
    )
    chunks = chunk_markdown(faq_markdown([("¿Cómo rastreo mi pedido?", answer)]))
    assert len(chunks) > 1 and all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert {c.question for c in chunks} == {"¿Cómo rastreo mi pedido?"}


def test_focus_is_lines_and_sentences_short_fragments_joined() -> None:
    [chunk] = chunk_markdown(
        "# Envíos\n\nEnviamos a todo México con paquetería. Ok. El envío es gratis desde $999.\n"
        "- Zona A\n- Zona B: 3 días hábiles de entrega."
    )
    assert chunk.focus == [
        "Envíos",
        "Enviamos a todo México con paquetería.",
        "Ok. El envío es gratis desde $999.",
        "- Zona A - Zona B: 3 días hábiles de entrega.",
    ]
    many = chunk_markdown(" ".join(f"Frase número {i} del texto largo." for i in range(20)))[0]
    assert 1 < len(many.focus) <= MAX_FOCUS_TEXTS
    assert " ".join(many.focus) == " ".join(many.text.split())
