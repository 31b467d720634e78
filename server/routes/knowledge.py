"""A tenant's knowledge base: ingest documents and search them."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, status

from server.dependencies import ServicesDep, TenantDep
from server.schemas import DocumentIn, KnowledgeIn, KnowledgeOut, SearchIn, SearchOut, SearchResult
from tools.knowledge.types import Document

router = APIRouter(prefix="/admin/tenants/{tenant_id}/knowledge", tags=["knowledge"])


def to_document(item: str | DocumentIn) -> Document:
    if isinstance(item, str):
        return {"text": item}
    document: Document = {"text": item.text}
    if item.id:
        document["id"] = item.id
    if item.title:
        document["title"] = item.title
    return document


@router.post("", status_code=status.HTTP_201_CREATED)
async def ingest(body: KnowledgeIn, tenant: TenantDep, services: ServicesDep) -> KnowledgeOut:
    """Add or replace documents; a document with a known id replaces its earlier chunks."""
    documents = [to_document(item) for item in body.documents]
    try:
        ids = await asyncio.to_thread(services.knowledge.upsert, tenant.id, documents)
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error))
    chunks = await asyncio.to_thread(services.knowledge.count, tenant.id)
    return KnowledgeOut(document_ids=ids, chunks=chunks)


@router.post("/search")
async def search(body: SearchIn, tenant: TenantDep, services: ServicesDep) -> SearchOut:
    passages = await asyncio.to_thread(services.knowledge.search, tenant.id, body.query, body.limit)
    return SearchOut(results=[SearchResult(**p) for p in passages])
