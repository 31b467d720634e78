"""A tenant's knowledge base: ingest documents (JSON or uploaded files), list, delete, search.

`POST /admin/tenants/{id}/knowledge` takes either a JSON body (`KnowledgeIn`) or a
multipart form with one or more `files`. An upload is all or nothing: when any file cannot
be read (too large: 413, unsupported type: 415, empty, unreadable, scanned PDF without
text, duplicate name: 422), nothing is ingested and the answer reports each file.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from server.dependencies import ServicesDep, TenantDep
from server.schemas import (
    DocumentIn,
    ErrorOut,
    KnowledgeIn,
    KnowledgeOut,
    SearchIn,
    SearchOut,
    SearchResult,
)
from tools.knowledge.loaders import (
    MAX_FILE_BYTES,
    FileTooLarge,
    LoaderError,
    UnsupportedFileType,
    load_document,
)
from tools.knowledge.types import Document

router = APIRouter(prefix="/admin/tenants/{tenant_id}/knowledge", tags=["knowledge"])

MAX_FILES = 100
FILE_FIELD = "files"


class DocumentOut(BaseModel):
    id: str
    title: str
    chunks: int


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class FileReport(BaseModel):
    """What happened to one uploaded file."""

    file: str
    document_id: str | None = None
    title: str | None = None
    chunks: int | None = None
    error: str | None = None


class UploadOut(KnowledgeOut):
    files: list[FileReport]


class UploadErrorOut(ErrorOut):
    """An upload refused whole: what happened to each file."""

    files: list[FileReport] | None = None


def inlined(schema: Any, definitions: dict[str, Any]) -> Any:
    """`schema` with its `#/$defs/...` references replaced by what they name."""
    if isinstance(schema, dict):
        reference = schema.get("$ref", "")
        if reference.startswith("#/$defs/"):
            return inlined(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {key: inlined(value, definitions) for key, value in schema.items()}
    if isinstance(schema, list):
        return [inlined(item, definitions) for item in schema]
    return schema


def json_body_schema() -> dict[str, Any]:
    schema = KnowledgeIn.model_json_schema()
    return dict(inlined(schema, schema.pop("$defs", {})))


_UPLOAD_DOC = {
    "requestBody": {
        "content": {
            "application/json": {"schema": json_body_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        FILE_FIELD: {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_FILES,
                            "items": {"type": "string", "format": "binary"},
                            "description": ".txt .md .html .pdf .docx, or a FAQ .csv/.json "
                            "(question, answer); at most 50 MB each",
                        }
                    },
                    "required": [FILE_FIELD],
                }
            },
        },
        "required": True,
    }
}


def to_document(item: str | DocumentIn) -> Document:
    if isinstance(item, str):
        return {"text": item}
    document: Document = {"text": item.text}
    if item.id:
        document["id"] = item.id
    if item.title:
        document["title"] = item.title
    return document


_REFUSED_UPLOAD = "; for an upload, `files` says what happened to each file"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_UPLOAD_DOC,
    response_model=None,
    responses={
        413: {"model": UploadErrorOut, "description": "A file over 50 MB" + _REFUSED_UPLOAD},
        415: {
            "model": UploadErrorOut,
            "description": "A file type not supported" + _REFUSED_UPLOAD,
        },
        422: {
            "model": UploadErrorOut,
            "description": "Invalid documents, or a file empty, unreadable or given twice"
            + _REFUSED_UPLOAD,
        },
    },
)
async def ingest(
    request: Request, tenant: TenantDep, services: ServicesDep
) -> KnowledgeOut | UploadOut | JSONResponse:
    """Add or replace documents; a document with a known id replaces its earlier chunks."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _ingest_files(request, tenant.id, services)
    try:
        body = KnowledgeIn.model_validate(await request.json())
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False)) from None
    except ValueError as error:  # not JSON at all
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"body is not valid JSON: {error}"
        ) from None
    documents = [to_document(item) for item in body.documents]
    try:
        ids = await asyncio.to_thread(services.knowledge.upsert, tenant.id, documents)
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    chunks = await asyncio.to_thread(services.knowledge.count, tenant.id)
    return KnowledgeOut(document_ids=ids, chunks=chunks)


async def _ingest_files(
    request: Request, tenant_id: str, services: ServicesDep
) -> UploadOut | JSONResponse:
    form = await request.form(max_files=MAX_FILES)
    uploads = [item for item in form.getlist(FILE_FIELD) if isinstance(item, UploadFile)]
    if not uploads:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"send one or more files in the multipart field '{FILE_FIELD}'",
        )
    reports: list[FileReport] = []
    documents: list[Document] = []
    codes: set[int] = set()
    seen: set[str] = set()
    for upload in uploads:
        name = upload.filename or ""
        report = FileReport(file=name)
        reports.append(report)
        try:
            document = await _load(upload)
        except LoaderError as error:
            report.error = str(error)
            codes.add(_status_for(error))
            continue
        if document["id"] in seen:
            report.error = f"duplicate file name {name!r} in this upload"
            codes.add(status.HTTP_422_UNPROCESSABLE_CONTENT)
            continue
        seen.add(document["id"])
        report.document_id, report.title = document["id"], document.get("title")
        documents.append(document)
    if codes:
        return _rejected(reports, codes)
    try:
        ids = await asyncio.to_thread(services.knowledge.upsert, tenant_id, documents)
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    stored = await asyncio.to_thread(services.knowledge.list_documents, tenant_id)
    chunks = {info["document_id"]: info["chunks"] for info in stored}
    for report in reports:
        report.chunks = chunks.get(report.document_id or "")
    total = sum(chunks.values())
    return UploadOut(document_ids=ids, chunks=total, files=reports)


async def _load(upload: UploadFile) -> Document:
    """Read and parse one upload (size checked before reading it into memory)."""
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise FileTooLarge(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    data = await upload.read(MAX_FILE_BYTES + 1)
    return await asyncio.to_thread(load_document, upload.filename or "", data)


def _status_for(error: LoaderError) -> int:
    if isinstance(error, FileTooLarge):
        return status.HTTP_413_CONTENT_TOO_LARGE
    if isinstance(error, UnsupportedFileType):
        return status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    return status.HTTP_422_UNPROCESSABLE_CONTENT


def _rejected(reports: list[FileReport], codes: set[int]) -> JSONResponse:
    """413 when a file is too large, else 415 for an unsupported type, else 422."""
    code = next(
        c
        for c in (
            status.HTTP_413_CONTENT_TOO_LARGE,
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
        if c in codes
    )
    failed = sum(1 for r in reports if r.error)
    body: dict[str, Any] = {
        "detail": f"{failed} of {len(reports)} files cannot be ingested; nothing was ingested",
        "files": [r.model_dump(exclude_none=True) for r in reports],
    }
    return JSONResponse(body, status_code=code)


@router.get("")
async def list_documents(tenant: TenantDep, services: ServicesDep) -> DocumentList:
    """The tenant's documents (id, title, chunk count), sorted by title."""
    stored = await asyncio.to_thread(services.knowledge.list_documents, tenant.id)
    return DocumentList(
        documents=[
            DocumentOut(id=d["document_id"], title=d["title"], chunks=d["chunks"]) for d in stored
        ]
    )


@router.post("/search")
async def search(body: SearchIn, tenant: TenantDep, services: ServicesDep) -> SearchOut:
    passages = await asyncio.to_thread(services.knowledge.search, tenant.id, body.query, body.limit)
    return SearchOut(results=[SearchResult(**p) for p in passages])


@router.delete("/{document_id:path}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(document_id: str, tenant: TenantDep, services: ServicesDep) -> Response:
    """Remove a document and all its chunks; 404 when the tenant has no such document."""
    removed = await asyncio.to_thread(services.knowledge.delete_document, tenant.id, document_id)
    if not removed:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown document '{document_id}'")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
