"""From a stored tenant to the graph's `TenantContext`."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from checkpoints.records import TenantRecord
from graph.context import HandoffRules, TenantContext

RULE_NAMES = {f.name for f in fields(HandoffRules)}


def handoff_rules(overrides: dict[str, Any]) -> HandoffRules:
    """The default rules with the tenant's overrides applied."""
    chosen = {k: v for k, v in overrides.items() if k in RULE_NAMES and v is not None}
    if "keywords" in chosen:
        chosen["keywords"] = tuple(chosen["keywords"])
    return HandoffRules(**chosen)


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
    )
