"""`atiende ingest`: folders walked, every loader type, failures skipped, the server path."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docx
import httpx
import pytest
from pypdf import PdfWriter

from checkpoints.running_server import RunningServer
from config.settings import get_settings
from server.cli import main
from tools.embeddings import default_embedder
from tools.knowledge.edge import EdgeKnowledgeBase


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "data"
    for name, value in cli_env(folder).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def cli_env(data_dir: Path) -> dict[str, str]:
    return {"DATA_DIR": str(data_dir), "APP_ENV": "development", "LLM_MODE": "extractive"}


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("Garantía", level=1)
    document.add_paragraph("Los electrónicos tienen 12 meses de garantía.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def knowledge_folder(root: Path) -> Path:
    folder = root / "kb"
    (folder / "paginas").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "faq.csv").write_text(
        "question,answer\nDo you ship abroad?,Only within Mexico.\nCan I pay cash?,Yes, at OXXO.\n"
    )
    (folder / "horario.md").write_bytes(
        "# Horario\n\nAbrimos de 9 a 19 h, también en días festivos.".encode("cp1252")
    )
    (folder / "paginas" / "envios.html").write_text(
        "<h1>Envíos</h1><nav>menú</nav><p>Gratis desde $999.</p>"
    )
    (folder / "garantia.docx").write_bytes(docx_bytes())
    (folder / "escaneado.pdf").write_bytes(blank_pdf())
    (folder / "vacio.txt").write_text("")
    (folder / "foto.png").write_bytes(b"\x89PNG")
    (folder / ".git" / "config.md").write_text("# no")
    return folder


def stored(data_dir: Path, tenant: str) -> dict[str, int]:
    with EdgeKnowledgeBase(data_dir / "qdrant", default_embedder()) as kb:
        return {d["document_id"]: d["chunks"] for d in kb.list_documents(tenant)}


def test_ingest_walks_folders_and_skips_failing_files(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = knowledge_folder(tmp_path)
    assert main(["ingest", "demo", str(folder), str(tmp_path / "missing.md")]) == 1
    err = capsys.readouterr().err
    assert "escaneado.pdf: skipped (the PDF has no text layer" in err
    assert "vacio.txt: skipped (empty file)" in err
    assert "missing.md: skipped (no such file or folder)" in err
    assert "[########################] 7/7" in err  # the bar reaches the end
    assert (
        "ingested 4 of 7 files (5 chunks); 3 skipped; 1 files of unsupported types ignored" in err
    )
    documents = stored(data_dir, "demo")
    assert {k: v for k, v in documents.items() if "/" in k or "." in k} == {
        "faq.csv": 2,
        "horario.md": 1,
        "paginas/envios.html": 1,
        "garantia.docx": 1,
    }


def test_ingesting_again_replaces_and_a_clean_run_exits_0(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "envios.md"
    page.write_text(
        "# Envíos\n\n" + "\n\n".join(f"Zona {i}: llega en {i} días. " * 20 for i in range(5))
    )
    assert main(["ingest", "demo", str(page)]) == 0
    before = stored(data_dir, "demo")["envios.md"]
    page.write_text("# Envíos\n\nSiempre gratis.")
    assert main(["ingest", "demo", str(page)]) == 0
    assert before > 1 and stored(data_dir, "demo")["envios.md"] == 1
    assert "ingested 1 of 1 files (1 chunks)" in capsys.readouterr().err


def test_unknown_tenant_exits_2(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_text("hola")
    assert main(["ingest", "ghost", str(tmp_path / "a.txt")]) == 2
    assert "unknown tenant 'ghost'" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ingest_goes_through_the_running_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "ADMIN_API_KEY"))
    }
    env.update(cli_env(data_dir))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(600):
            if RunningServer.read(data_dir) is not None:
                break
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            time.sleep(0.1)
        running = RunningServer.read(data_dir)
        assert running is not None
        folder = knowledge_folder(tmp_path)
        result = subprocess.run(
            [sys.executable, "-m", "server.cli", "ingest", "demo", str(folder)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 1, result.stderr  # the scanned PDF and the empty file
        assert f"uploading through the server at {running.url}" in result.stderr
        assert "escaneado.pdf: skipped (server said 422: the PDF has no text layer" in result.stderr
        assert "ingested 4 of 6 files (5 chunks); 2 skipped" in result.stderr
        headers = {"Authorization": f"Bearer {running.admin_key}"}
        listed = httpx.get(f"{running.url}/admin/tenants/demo/knowledge", headers=headers).json()
        ids = {d["id"] for d in listed["documents"]}
        assert {"faq.csv", "horario.md", "paginas/envios.html", "garantia.docx"} <= ids
        ghost = subprocess.run(
            [sys.executable, "-m", "server.cli", "ingest", "ghost", str(folder / "faq.csv")],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert ghost.returncode == 2 and "unknown tenant 'ghost'" in ghost.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)
