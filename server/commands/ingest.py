"""`atiende ingest TENANT PATH...`: load text and Markdown files into a knowledge base."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tools.knowledge.types import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}


def collect_files(paths: list[str]) -> list[Path]:
    """Files named, and files found walking the folders named, in a stable order."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        found.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return found


def read_document(path: Path) -> Document:
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise ValueError(f"unsupported file type '{path.suffix}'")
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    if not text:
        raise ValueError("empty file")
    return {"id": path.stem, "title": path.stem.replace("_", " "), "text": text}


def ingest(tenant_id: str, paths: list[str]) -> int:
    """Ingest every readable file; a file that fails is reported and skipped."""
    from config.settings import get_settings
    from server.services import open_services

    async def run() -> int:
        failures = 0
        async with open_services(get_settings()) as services:
            if await services.store.get_tenant(tenant_id) is None:
                print(f"atiende: unknown tenant '{tenant_id}'", file=sys.stderr)
                return 2
            files = collect_files(paths)
            for number, path in enumerate(files, 1):
                try:
                    document = read_document(path)
                    await asyncio.to_thread(services.knowledge.upsert, tenant_id, [document])
                    print(f"[{number}/{len(files)}] {path}: ok")
                except (OSError, ValueError) as error:
                    failures += 1
                    print(f"[{number}/{len(files)}] {path}: skipped ({error})", file=sys.stderr)
        return 1 if failures and failures == len(files) else 0

    return asyncio.run(run())
