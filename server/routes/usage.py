"""A tenant's LLM usage: tokens and cost per UTC day and model."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, BeforeValidator, Field

from checkpoints.usage import UsageStore
from server.dependencies import ServicesDep, TenantDep
from server.schemas import ISO_DAY

router = APIRouter(prefix="/admin/tenants/{tenant_id}", tags=["usage"])
DEFAULT_DAYS = 30
MAX_DAYS = 366


class UsageDay(BaseModel):
    day: date
    model: str = Field(description="The model that answered, e.g. `gemini/gemini-2.5-flash`.")
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class UsageTotals(BaseModel):
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class UsageReport(BaseModel):
    tenant_id: str
    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    days: list[UsageDay]
    totals: UsageTotals


def iso_day(value: object) -> object:
    """Only `YYYY-MM-DD` (pydantic would also read `0` as 1970-01-01)."""
    if isinstance(value, str) and not re.fullmatch(ISO_DAY, value):
        raise ValueError("a day as YYYY-MM-DD")
    return value


Day = Annotated[date | None, BeforeValidator(iso_day)]


def days_before(day: date, days: int) -> date:
    """`days` days before `day`, or the first day there is."""
    return date.fromordinal(max(date.min.toordinal(), day.toordinal() - days))


@router.get(
    "/usage",
    response_model_by_alias=True,
    responses={422: {"description": "`from` after `to`, or more than 366 days"}},
)
async def usage(
    tenant: TenantDep,
    services: ServicesDep,
    start: Annotated[Day, Query(alias="from", description="First UTC day (at most `to`)")] = None,
    end: Annotated[
        Day, Query(alias="to", description="Last UTC day (inclusive; default: today)")
    ] = None,
) -> UsageReport:
    """Tokens and cost per day and model, `from` to `to`: at most 366 days, the last 30 by
    default. `from` after `to`, or a longer range, is a 422."""
    end = end or datetime.now(UTC).date()
    start = start or days_before(end, DEFAULT_DAYS - 1)
    if start > end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="`from` is after `to`")
    if (end - start).days >= MAX_DAYS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"at most {MAX_DAYS} days at a time"
        )
    rows = await UsageStore(services.persistence.db).by_day(tenant.id, start, end)
    days = [
        UsageDay(
            day=r.day,
            model=r.model,
            calls=r.calls,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            cost_usd=r.cost_usd,
        )
        for r in rows
    ]
    return UsageReport(
        tenant_id=tenant.id,
        start=start,
        end=end,
        days=days,
        totals=UsageTotals(
            calls=sum(d.calls for d in days),
            input_tokens=sum(d.input_tokens for d in days),
            output_tokens=sum(d.output_tokens for d in days),
            cost_usd=round(sum(d.cost_usd for d in days), 10),
        ),
    )
