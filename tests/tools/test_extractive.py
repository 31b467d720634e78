from __future__ import annotations

from tools.embeddings import default_embedder
from tools.knowledge.types import Passage
from tools.llm.extractive import MAX_ANSWER_CHARS, extract_answer, split_sentences

HOURS: Passage = {
    "document_id": "horarios",
    "title": "Horario",
    "chunk": 0,
    "score": 0.5,
    "text": "Horario de atención\nAbrimos de lunes a viernes de 9:00 a 18:00. Los domingos cerramos. "
    "Tenemos estacionamiento gratuito para clientes.",
}


def test_headings_and_title_lines_are_not_sentences() -> None:
    assert split_sentences("# Envíos\nEnvíos > Costos\nCuesta 99 pesos. Llega en 3 días.") == [
        "Cuesta 99 pesos.",
        "Llega en 3 días.",
    ]


def test_picks_the_sentences_that_answer_in_reading_order() -> None:
    answer = extract_answer("¿a qué hora abren entre semana?", [HOURS], default_embedder())
    assert answer.startswith("Abrimos de lunes a viernes de 9:00 a 18:00.")
    assert "Horario de atención" not in answer and "estacionamiento" not in answer


def test_long_passages_are_trimmed_to_whatsapp_size() -> None:
    long: Passage = {**HOURS, "text": "Abrimos todos los días " + "y también " * 400 + "de 9 a 6."}
    assert len(extract_answer("¿cuándo abren?", [long], default_embedder())) <= MAX_ANSWER_CHARS
