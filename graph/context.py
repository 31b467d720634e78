"""`TenantContext`: what one graph run needs to know about its tenant.

Passed as the run's context (`graph.ainvoke(..., context=TenantContext(...))`);
LangGraph Studio shows the field descriptions and lets a developer edit them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from tools.business_hours import BusinessHours


@dataclass(frozen=True)
class HandoffRules:
    """When the bot must step aside (the original design's four triggers)."""

    sentiment_threshold: float = field(
        default=-0.5, metadata={"description": "Hand over when the mood score is below this."}
    )
    keywords: tuple[str, ...] | None = field(
        default=None,
        metadata={
            "description": "Who the customer may ask for. Unset (null): the built-in Spanish "
            "and English vocabulary (agente, asesor, humano, persona, someone, representative, "
            "...). Set: exactly these and none of the built-in ones; one word is a person "
            "asked for ('quiero hablar con un vendedor', 'vendedor por favor'), several words "
            "a request phrase said as it is ('hablar con ventas'); an empty list: no words "
            "ask for a person. A 'yes' to the bot's offer of a person always counts."
        },
    )
    max_fallbacks: int = field(
        default=2,
        metadata={"description": "Hand over after more than this many unanswered turns in a row."},
    )
    loop_similarity: float = field(
        default=0.88,
        metadata={"description": "Similarity above which a question repeats an earlier one."},
    )
    loop_window: int = field(
        default=4,
        metadata={"description": "How many earlier customer messages the loop check reads."},
    )


def handoff_rules(overrides: dict[str, Any]) -> HandoffRules:
    """The default rules with a tenant's stored overrides applied (unknown names and `None`
    values ignored)."""
    names = {f.name for f in fields(HandoffRules)}
    chosen = {k: v for k, v in overrides.items() if k in names and v is not None}
    if "keywords" in chosen:
        chosen["keywords"] = tuple(chosen["keywords"])
    return HandoffRules(**chosen)


@dataclass(frozen=True)
class TenantContext:
    """Per-run tenant configuration (the graph's context schema)."""

    tenant_id: str = field(default="demo", metadata={"description": "Tenant slug."})
    company_name: str = field(
        default="Tienda Demo", metadata={"description": "Business name the bot speaks for."}
    )
    persona: str = field(
        default="Eres el asistente amable y breve de la tienda.",
        metadata={"description": "Persona / system prompt of the bot."},
    )
    welcome_message: str = field(
        default="",
        metadata={"description": "Greeting for a new customer; empty for the built-in one."},
    )
    default_language: str = field(
        default="es", metadata={"description": "Language used when the customer's is unclear."}
    )
    handoff_message: str = field(
        default="",
        metadata={"description": "Told to the customer on handoff; empty for the built-in text."},
    )
    handoff: HandoffRules = field(
        default_factory=HandoffRules, metadata={"description": "Handoff triggers."}
    )
    summary_every: int = field(
        default=5, metadata={"description": "Refresh the conversation summary every N turns."}
    )
    model: str = field(
        default="", metadata={"description": "Model group override for the responder (LLM mode)."}
    )
    business_hours: BusinessHours = field(
        default_factory=BusinessHours,
        metadata={
            "description": "When the tenant's people answer; out of hours the handoff "
            "message says when someone will."
        },
    )
    sentiment_provider: str = field(
        default="",
        metadata={
            "description": "Sentiment provider for this tenant (offline, comprehend); "
            "empty for the deployment's SENTIMENT_PROVIDER."
        },
    )
