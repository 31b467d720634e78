"""Loaders: every file type to a Document, with stable ids, titles and clear errors."""

from __future__ import annotations

import io
import json

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from tools.knowledge.chunking import chunk_markdown, title_of
from tools.knowledge.loaders import (
    MAX_FILE_BYTES,
    FileTooLarge,
    LoaderError,
    UnsupportedFileType,
    decode_text,
    document_id_for_path,
    is_supported,
    load_document,
)


def pdf_bytes(text: str | None) -> bytes:
    """A one-page PDF; with `text`, the page draws it (a text layer), else it is blank."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    if text is not None:
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
        )
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        writer.add_metadata({"/Title": "Politica de envios"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("Manual de tienda", level=0)
    document.add_heading("Envíos", level=1)
    document.add_paragraph("Enviamos a todo México en 3 a 5 días.")
    document.add_heading("Costos", level=2)
    document.add_paragraph("El envío cuesta $99; es gratis desde $999.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Zona", "Días"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_plain_text_and_markdown() -> None:
    doc = load_document("guias/Envios.md", "# Envíos\n\nGratis desde $999.".encode())
    assert doc == {
        "id": "guias/Envios.md",
        "title": "Envíos",
        "text": "# Envíos\n\nGratis desde $999.",
    }
    plain = load_document("horario.txt", b"Abrimos de 9 a 19 h.\nCerramos domingos.")
    assert plain["title"] == "Abrimos de 9 a 19 h."


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Devolución en 30 días".encode("cp1252"), "Devolución en 30 días"),
        ("Devolución € 30".encode("cp1252"), "Devolución € 30"),
        ("\ufeffGarantía".encode(), "Garantía"),
        ("Garantía".encode("utf-16"), "Garantía"),
        (b"caf\xe9 \x81", "café \x81"),  # not cp1252 either: latin-1 never fails
    ],
)
def test_broken_encodings_are_decoded(data: bytes, expected: str) -> None:
    assert decode_text(data) == expected


def test_binary_data_is_not_text() -> None:
    with pytest.raises(LoaderError, match="binary"):
        load_document("foto.txt", b"\x89PNG\x00\x00")


def test_html_keeps_headings_and_drops_boilerplate() -> None:
    page = """<html><head><title> Envíos | Tienda </title><style>p{color:red}</style></head>
    <body><nav><a href="/">Inicio</a></nav><header>Tienda Luna</header>
    <h1>Envíos</h1><p>Enviamos a <b>todo</b> México.</p><h2>Costos</h2>
    <ul><li>Gratis desde $999</li><li>Si no, $99</li></ul>
    <script>track("x")</script><footer>© 2024</footer></body></html>"""
    doc = load_document("envios.html", page.encode())
    assert doc["title"] == "Envíos | Tienda"
    assert (
        doc["text"]
        == "# Envíos\n\nEnviamos a todo México.\n\n## Costos\n\n- Gratis desde $999\n- Si no, $99"
    )
    assert [c.heading for c in chunk_markdown(doc["text"])] == ["Envíos", "Envíos > Costos"]


def test_pdf_text_layer_and_title() -> None:
    doc = load_document("envios.pdf", pdf_bytes("Enviamos a todo el pais en 5 dias."))
    assert doc["text"] == "Enviamos a todo el pais en 5 dias."
    assert doc["title"] == "Politica de envios"


def test_scanned_pdf_without_text_is_a_clear_error() -> None:
    with pytest.raises(LoaderError, match=r"no text layer .*OCR"):
        load_document("escaneo.pdf", pdf_bytes(None))
    with pytest.raises(LoaderError, match="not a readable PDF"):
        load_document("roto.pdf", b"%PDF-1.4 garbage")


def test_docx_headings_become_markdown_headings() -> None:
    doc = load_document("manual.docx", docx_bytes())
    assert doc["text"] == (
        "# Manual de tienda\n\n# Envíos\n\nEnviamos a todo México en 3 a 5 días.\n\n"
        "## Costos\n\nEl envío cuesta $99; es gratis desde $999.\n\nZona | Días"
    )
    assert doc["title"] == "Manual de tienda"
    with pytest.raises(LoaderError, match="not a readable DOCX"):
        load_document("roto.docx", b"PK not really")


def test_faq_csv_is_one_chunk_per_pair_with_its_question() -> None:
    csv_text = "Pregunta;Respuesta\n¿Abren los domingos?;No, de lunes a sábado.\n;sin pregunta\n¿Aceptan PayPal?;Sí.\n"
    doc = load_document("preguntas_frecuentes.csv", csv_text.encode("cp1252"))
    assert doc["title"] == "preguntas frecuentes"
    chunks = chunk_markdown(doc["text"], title_of(doc["text"]))
    assert [(c.question, c.body) for c in chunks] == [
        ("¿Abren los domingos?", "No, de lunes a sábado."),
        ("¿Aceptan PayPal?", "Sí."),
    ]
    assert chunks[0].text == "¿Abren los domingos?\n\nNo, de lunes a sábado."
    assert chunks[0].focus == ["¿Abren los domingos?"]


def test_faq_json_forms() -> None:
    pairs = [{"question": "Do you ship abroad?", "answer": ["Only to the US.", "Not to Europe."]}]
    for data in (pairs, {"faq": pairs}):
        doc = load_document("faq.json", json.dumps(data).encode())
        [chunk] = chunk_markdown(doc["text"])
        assert chunk.question == "Do you ship abroad?"
        assert chunk.body == "Only to the US.\n\nNot to Europe."


@pytest.mark.parametrize(
    ("name", "data", "error", "message"),
    [
        ("faq.json", b'{"a": 1}', LoaderError, "list of"),
        ("faq.json", b"[{]", LoaderError, "not valid JSON"),
        ("faq.json", b'[{"question": "x"}]', LoaderError, "'question' and 'answer'"),
        ("faq.csv", b"titulo,texto\nx,y\n", LoaderError, "'question' and 'answer'"),
        ("faq.csv", b"question,answer\n,\n", LoaderError, "no question with an answer"),
        ("vacio.md", b" \n\t\n", LoaderError, "empty file"),
        ("imagen.png", b"\x89PNG", UnsupportedFileType, "unsupported file type '.png'"),
        ("sin_extension", b"hola", UnsupportedFileType, "unsupported file type"),
        ("../fuera.txt", b"hola", LoaderError, "'..'"),
    ],
)
def test_bad_files_say_why(name: str, data: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        load_document(name, data)


def test_size_limit() -> None:
    with pytest.raises(FileTooLarge, match="50 MB"):
        load_document("grande.txt", b"a" * (MAX_FILE_BYTES + 1))


def test_document_ids_are_stable_relative_paths() -> None:
    assert document_id_for_path("./docs\\faq.csv") == "docs/faq.csv"
    assert document_id_for_path("/abs/x.md") == "abs/x.md"
    assert load_document("a/b.txt", b"x")["id"] == load_document("a/b.txt", b"y")["id"]
    assert is_supported("X.PDF") and not is_supported("x.exe")
    with pytest.raises(LoaderError):
        document_id_for_path("x" * 201 + ".txt")
