"""The knowledge endpoints with real files: upload (multipart), list, delete, bad input."""

from __future__ import annotations

import io
import json

import docx
from fastapi.testclient import TestClient
from pypdf import PdfWriter

from tools.knowledge.loaders import MAX_FILE_BYTES

BASE = "/admin/tenants/acme/knowledge"


def make_tenant(client: TestClient, admin: dict[str, str]) -> None:
    assert (
        client.post(
            "/admin/tenants", json={"id": "acme", "name": "Acme"}, headers=admin
        ).status_code
        == 201
    )


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("Garantía", level=1)
    document.add_paragraph(
        "Todos los electrónicos tienen 12 meses de garantía contra defectos de fábrica."
    )
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def listed(client: TestClient, admin: dict[str, str]) -> dict[str, dict]:
    response = client.get(BASE, headers=admin)
    assert response.status_code == 200
    return {d["id"]: d for d in response.json()["documents"]}


def search_top(client: TestClient, admin: dict[str, str], query: str) -> dict:
    found = client.post(f"{BASE}/search", json={"query": query, "limit": 3}, headers=admin)
    assert found.status_code == 200
    return found.json()["results"][0]


def test_upload_several_files_then_list_search_and_delete(
    client: TestClient, admin: dict[str, str]
) -> None:
    make_tenant(client, admin)
    faq = "pregunta,respuesta\n¿Abren los domingos?,No: abrimos de lunes a sábado de 9 a 19 h.\n¿Aceptan PayPal?,Sí, y también tarjetas.\n"
    files = [
        ("files", ("faq.csv", faq.encode("cp1252"), "text/csv")),
        (
            "files",
            (
                "garantia.docx",
                docx_bytes(),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
        ),
        (
            "files",
            (
                "envios.html",
                "<html><head><title>Envíos</title><script>var x=1;</script></head><body><nav>Inicio | Tienda</nav><h1>Envíos</h1><p>El envío es gratis desde $999.</p></body></html>".encode(),
                "text/html",
            ),
        ),
    ]
    response = client.post(BASE, files=files, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["document_ids"] == ["faq.csv", "garantia.docx", "envios.html"]
    reports = {r["file"]: r for r in body["files"]}
    assert reports["faq.csv"]["chunks"] == 2  # one chunk per question/answer pair
    assert reports["garantia.docx"]["title"] == "Garantía"
    assert body["chunks"] == 4

    documents = listed(client, admin)
    assert documents["envios.html"] == {"id": "envios.html", "title": "Envíos", "chunks": 1}
    assert documents["faq.csv"]["chunks"] == 2

    top = search_top(client, admin, "¿puedo pagar con paypal?")
    assert (top["document_id"], top["chunk"]) == ("faq.csv", 1)
    assert top["text"].startswith("¿Aceptan PayPal?")
    assert "var x" not in search_top(client, admin, "envío gratis")["text"]

    assert client.delete(f"{BASE}/faq.csv", headers=admin).status_code == 204
    assert "faq.csv" not in listed(client, admin)
    missing = client.delete(f"{BASE}/faq.csv", headers=admin)
    assert missing.status_code == 404 and "faq.csv" in missing.json()["detail"]


def test_reuploading_a_file_replaces_its_chunks(client: TestClient, admin: dict[str, str]) -> None:
    make_tenant(client, admin)
    long_text = "\n\n".join(
        f"## Regla {i}\n\n" + f"La zona {i} recibe pedidos en {i + 2} días. " * 12 for i in range(6)
    )
    first = client.post(
        BASE, files={"files": ("envios.md", long_text.encode(), "text/markdown")}, headers=admin
    )
    assert first.status_code == 201 and first.json()["chunks"] >= 6
    second = client.post(
        BASE,
        files={"files": ("envios.md", b"# Envios\n\nSiempre gratis.", "text/markdown")},
        headers=admin,
    )
    assert second.status_code == 201
    assert listed(client, admin) == {
        "envios.md": {"id": "envios.md", "title": "Envios", "chunks": 1}
    }


def test_document_ids_with_folders_can_be_deleted(
    client: TestClient, admin: dict[str, str]
) -> None:
    make_tenant(client, admin)
    body = {"documents": [{"id": "politicas/envios.md", "text": "# Envíos\n\nGratis desde $999."}]}
    assert client.post(BASE, json=body, headers=admin).status_code == 201
    assert client.delete(f"{BASE}/politicas/envios.md", headers=admin).status_code == 204
    assert listed(client, admin) == {}


def rejected(client: TestClient, admin: dict[str, str], files: list, code: int) -> dict:
    response = client.post(BASE, files=files, headers=admin)
    assert response.status_code == code, response.text
    body = response.json()
    assert "nothing was ingested" in body["detail"]
    return {r["file"]: r for r in body["files"]}


def test_bad_files_are_reported_and_nothing_is_ingested(
    client: TestClient, admin: dict[str, str]
) -> None:
    make_tenant(client, admin)
    good = ("files", ("bien.txt", b"Abrimos de 9 a 19 h.", "text/plain"))
    cases = [
        ([good, ("files", ("vacio.txt", b"  \n", "text/plain"))], 422, "vacio.txt", "empty file"),
        (
            [good, ("files", ("escaneado.pdf", blank_pdf(), "application/pdf"))],
            422,
            "escaneado.pdf",
            "no text layer",
        ),
        (
            [good, ("files", ("roto.docx", b"not a zip", "application/octet-stream"))],
            422,
            "roto.docx",
            "not a readable DOCX",
        ),
        (
            [good, ("files", ("programa.exe", b"MZ\x90\x00", "application/octet-stream"))],
            415,
            "programa.exe",
            "unsupported file type",
        ),
        (
            [good, ("files", ("faq.json", b'{"a": 1}', "application/json"))],
            422,
            "faq.json",
            "question",
        ),
    ]
    for files, code, name, message in cases:
        reports = rejected(client, admin, files, code)
        assert message in reports[name]["error"], reports
        assert "error" not in reports["bien.txt"]
    duplicated = rejected(client, admin, [good, good], 422)
    assert "duplicate" in duplicated["bien.txt"]["error"]
    assert listed(client, admin) == {}


def test_a_file_over_50_mb_is_413(client: TestClient, admin: dict[str, str]) -> None:
    make_tenant(client, admin)
    big = b"a" * (MAX_FILE_BYTES + 1)
    reports = rejected(client, admin, [("files", ("grande.txt", big, "text/plain"))], 413)
    assert "50 MB" in reports["grande.txt"]["error"]
    assert listed(client, admin) == {}


def test_broken_encodings_are_read(client: TestClient, admin: dict[str, str]) -> None:
    make_tenant(client, admin)
    files = [
        ("files", ("latin.txt", "Devolución: 30 días, sin costo.".encode("cp1252"), "text/plain")),
        (
            "files",
            (
                "bom.md",
                "\ufeff# Envíos\n\nGratis en compras mayores a $999.".encode("utf-8"),
                "text/markdown",
            ),
        ),
    ]
    assert client.post(BASE, files=files, headers=admin).status_code == 201
    documents = listed(client, admin)
    assert documents["latin.txt"]["title"] == "Devolución: 30 días, sin costo."
    assert documents["bom.md"]["title"] == "Envíos"


def test_multipart_without_files_and_unknown_tenant(
    client: TestClient, admin: dict[str, str]
) -> None:
    make_tenant(client, admin)
    empty = client.post(
        BASE, data={"other": "x"}, files={"nothing": ("a.txt", b"x")}, headers=admin
    )
    assert empty.status_code == 422 and "files" in empty.json()["detail"]
    ghost = client.post(
        "/admin/tenants/ghost/knowledge", files={"files": ("a.txt", b"hola")}, headers=admin
    )
    assert ghost.status_code == 404
    assert client.get("/admin/tenants/ghost/knowledge", headers=admin).status_code == 404
    assert client.delete("/admin/tenants/ghost/knowledge/a.txt", headers=admin).status_code == 404
    not_json = client.post(
        BASE, content=b"{oops", headers={**admin, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 422


def test_tenants_do_not_see_each_others_documents(
    client: TestClient, admin: dict[str, str]
) -> None:
    make_tenant(client, admin)
    client.post("/admin/tenants", json={"id": "beta", "name": "Beta"}, headers=admin)
    secret = "Nuestro proveedor secreto de telas es Textiles Quintana."
    client.post(
        "/admin/tenants/beta/knowledge",
        files={"files": ("proveedor.txt", secret.encode())},
        headers=admin,
    )
    client.post(BASE, files={"files": ("horario.txt", b"Abrimos de 9 a 19 h.")}, headers=admin)
    assert list(listed(client, admin)) == ["horario.txt"]
    found = client.post(
        f"{BASE}/search", json={"query": secret, "limit": 10}, headers=admin
    ).json()["results"]
    assert all(r["document_id"] != "proveedor.txt" for r in found)
    assert client.delete(f"{BASE}/proveedor.txt", headers=admin).status_code == 404
    assert json.dumps(found).count("Quintana") == 0
