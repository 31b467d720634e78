"""`atiende ingest TENANT PATH...`: load files and folders into a tenant's knowledge base.

Folders are walked (hidden files and folders skipped); every supported file (text,
Markdown, HTML, PDF, DOCX, FAQ CSV/JSON) becomes one document whose id is its path
relative to the folder named (or its file name). A file that fails is reported and
skipped; the rest go in. When a server is running on the data folder (it holds the
embedded engine), the files are uploaded through its admin API instead.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tools.knowledge.loaders import is_supported

if TYPE_CHECKING:
    from tools.knowledge.types import Document

BAR_WIDTH = 24
UPLOAD_TIMEOUT_S = 300


class UnknownTenant(Exception):
    """The tenant named on the command line does not exist."""


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest and the document id it gets."""

    path: Path
    name: str


@dataclass
class Progress:
    """One line per file on stderr, with a bar; a summary at the end."""

    total: int
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    done: int = 0
    ingested: int = 0
    chunks: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def _bar(self) -> str:
        filled = BAR_WIDTH * self.done // max(self.total, 1)
        return f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {self.done}/{self.total}"

    def ok(self, name: str, chunks: int) -> None:
        self.done += 1
        self.ingested += 1
        self.chunks += chunks
        print(f"{self._bar()} {name}: {chunks} chunks", file=self.stream, flush=True)

    def failed(self, name: str, reason: str) -> None:
        self.done += 1
        self.failures.append((name, reason))
        print(f"{self._bar()} {name}: skipped ({reason})", file=self.stream, flush=True)

    def summary(self) -> str:
        line = f"ingested {self.ingested} of {self.total} files ({self.chunks} chunks)"
        return line + (f"; {len(self.failures)} skipped" if self.failures else "")


def collect_files(paths: list[str]) -> tuple[list[SourceFile], list[tuple[str, str]], int]:
    """Files to ingest, in a stable order; (path, reason) for paths that cannot be; and how
    many files of unsupported types the folders held (ignored)."""
    found: list[SourceFile] = []
    problems: list[tuple[str, str]] = []
    ignored = 0
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                if not child.is_file() or any(p.startswith(".") for p in relative.parts):
                    continue
                if is_supported(child.name):
                    found.append(SourceFile(child, relative.as_posix()))
                else:
                    ignored += 1
        elif path.is_file():
            found.append(SourceFile(path, path.name))
        else:
            problems.append((name, "no such file or folder"))
    return found, problems, ignored


def _read(source: SourceFile) -> Document:
    from tools.knowledge.loaders import load_document

    return load_document(source.name, source.path.read_bytes())


def _local(tenant_id: str, files: list[SourceFile], progress: Progress) -> None:
    """Ingest through this process's own services (holds the data-folder lock)."""
    from config.settings import get_settings
    from server.services import open_services

    async def run() -> None:
        async with open_services(get_settings()) as services:
            if await services.store.get_tenant(tenant_id) is None:
                raise UnknownTenant(tenant_id)
            knowledge = services.knowledge
            for source in files:
                try:
                    document = await asyncio.to_thread(_read, source)
                    await asyncio.to_thread(knowledge.upsert, tenant_id, [document])
                    stored = await asyncio.to_thread(knowledge.list_documents, tenant_id)
                    chunks = next(
                        (d["chunks"] for d in stored if d["document_id"] == document["id"]), 0
                    )
                except (OSError, ValueError) as error:
                    progress.failed(source.name, str(error))
                else:
                    progress.ok(source.name, chunks)

    asyncio.run(run())


def _remote(
    url: str, key: str, tenant_id: str, files: list[SourceFile], progress: Progress
) -> None:
    """Upload the files one by one to the server that holds the data folder."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=UPLOAD_TIMEOUT_S) as http:
        if http.get(f"/admin/tenants/{tenant_id}").status_code == 404:
            raise UnknownTenant(tenant_id)
        for source in files:
            try:
                data = source.path.read_bytes()
            except OSError as error:
                progress.failed(source.name, str(error))
                continue
            response = http.post(
                f"/admin/tenants/{tenant_id}/knowledge", files={"files": (source.name, data)}
            )
            is_json = response.headers.get("content-type", "").startswith("application/json")
            body = response.json() if is_json else {}
            reports = body.get("files") or [{}]
            if response.status_code == 201:
                progress.ok(source.name, int(reports[0].get("chunks") or 0))
            else:
                reason = reports[0].get("error") or body.get("detail") or response.text
                progress.failed(source.name, f"server said {response.status_code}: {reason}")


def ingest(tenant_id: str, paths: list[str]) -> int:
    """Ingest every readable file; 0 when all went in, 1 when some failed, 2 on an unknown
    tenant or a data folder in use."""
    from checkpoints.lock import DataDirInUse
    from checkpoints.running_server import RunningServer
    from config.settings import get_settings

    files, problems, ignored = collect_files(paths)
    progress = Progress(total=len(files) + len(problems))
    for name, reason in problems:
        progress.failed(name, reason)
    running = RunningServer.read(get_settings().data_dir)
    try:
        if running is not None:
            print(f"uploading through the server at {running.url}", file=sys.stderr)
            _remote(running.url, running.admin_key, tenant_id, files, progress)
        else:
            _local(tenant_id, files, progress)
    except UnknownTenant:
        print(f"atiende: unknown tenant '{tenant_id}'", file=sys.stderr)
        return 2
    except DataDirInUse as error:
        print(f"atiende: {error}", file=sys.stderr)
        return 2
    ignored_note = f"; {ignored} files of unsupported types ignored" if ignored else ""
    print(progress.summary() + ignored_note, file=sys.stderr)
    return 1 if progress.failures or not progress.total else 0
