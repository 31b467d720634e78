"""FastAPI dependencies: the process's services and the tenant named in the path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from checkpoints.records import TenantRecord
from server.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_tenant(tenant_id: str, services: ServicesDep) -> TenantRecord:
    """The tenant in the path, or 404."""
    tenant = await services.store.get_tenant(tenant_id)
    if tenant is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown tenant '{tenant_id}'")
    return tenant


TenantDep = Annotated[TenantRecord, Depends(get_tenant)]
