"""From a stored tenant to the graph's `TenantContext`."""

from __future__ import annotations

import logging

from checkpoints.records import TenantRecord
from graph.context import TenantContext, handoff_rules
from tools.business_hours import BusinessHours, InvalidBusinessHours

log = logging.getLogger(__name__)

__all__ = ["business_hours", "handoff_rules", "tenant_context"]


def business_hours(tenant: TenantRecord) -> BusinessHours:
    """The tenant's business hours (`settings["handoff"]["business_hours"]`); always open if unset.

    Stored hours were validated on the way in; unreadable ones are logged and ignored.
    """
    try:
        return BusinessHours.from_settings(tenant.settings.get("handoff", {}).get("business_hours"))
    except InvalidBusinessHours:
        log.warning("business_hours_unreadable", extra={"tenant_id": tenant.id})
        return BusinessHours()


def tenant_context(tenant: TenantRecord) -> TenantContext:
    """What a graph run needs to know about `tenant`."""
    defaults = TenantContext()
    return TenantContext(
        tenant_id=tenant.id,
        company_name=tenant.company_name or tenant.name,
        persona=tenant.persona or defaults.persona,
        welcome_message=tenant.welcome_message,
        default_language=tenant.default_language or defaults.default_language,
        handoff_message=tenant.handoff_message,
        handoff=handoff_rules(tenant.settings.get("handoff", {})),
        model=tenant.settings.get("model", ""),
        business_hours=business_hours(tenant),
        sentiment_provider=tenant.settings.get("handoff", {}).get("sentiment_provider") or "",
    )
