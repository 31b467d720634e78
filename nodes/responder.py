"""Responder node: a short, grounded answer in the customer's language, or an honest fallback.

Order of decisions: small talk (greetings, thanks, no words) gets a fixed reply; a
prompt-injection attempt gets a refusal; a vague question with nothing relevant gets one
clarifying question; otherwise the LLM (through `tools.llm.get_chat_model`) or, offline, the
extractive mode answers from the relevant passages. "Nothing supports an answer" and "every
provider failed / the turn's budget ran out" both reply with an offer of a person and count
as a fallback for the handoff router. The node never raises for bad input or a bad provider.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AnyMessage
from langgraph.config import get_config
from langgraph.runtime import Runtime

from config.settings import get_settings
from graph.context import TenantContext
from graph.state import ConversationState, ReplyKind
from nodes.handoff import answer_to_offer
from nodes.turn import bot_reply, turn_deadline, turn_messages, turn_text
from nodes.window import model_window
from tools import llm
from tools.embeddings import default_embedder
from tools.knowledge import is_relevant
from tools.knowledge.types import Passage
from tools.llm.extractive import extract, is_vague
from tools.llm.injection import looks_like_injection
from tools.llm.prompt import (
    fit_whatsapp,
    leaks_prompt,
    parse_model_reply,
    responder_messages,
    unsupported_numbers,
)
from tools.llm.replies import clarifying_question, reply_text
from tools.llm.usage import LLMUsage, usage_of

log = logging.getLogger(__name__)

MODEL_GROUP = "responder"
REPLY_RESERVE_SECONDS = 0.3
"""Kept back from the turn's budget for what runs after the LLM call (the rest of the graph)."""
_WORD = re.compile(r"[^\W\d_]+")
_FOLD = str.maketrans("áéíóúüñ", "aeiouun")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_GREETING_OPENERS = _words("hola holi holis ola buenas saludos hi hello hey hiya") | {
    "buenos dias",
    "buen dia",
    "que tal",
    "good morning",
    "good afternoon",
    "good evening",
}
_GREETING_WORDS = _words(
    """
    hola holi holis ola buenas buenos buen saludos hi hello hey hiya good que
    dia dias tarde tardes noche noches tal como estas esta estan estamos todo bien y a todos
    amigo amiga equipo tengo una pregunta consulta duda morning afternoon evening day there
    all everyone team how are you doing is it going what whats s up i have a quick question
    """
)
"""A greeting is only these words (and the company's name): "hola, buenas tardes", "hey
there!", "hola, tengo una pregunta". Anything more is a question, answered as one."""
_THANKS_WORDS = _words(
    """
    muchas muchisimas mil gracias ok okay okey vale perfecto listo genial excelente super muy
    bien entendido de acuerdo por la tu su ayuda thanks thank you thx ty great perfect awesome
    cool good nice todo so much very for the your help got it
    """
)
"""Thanks is only these words: "ok, gracias", "perfecto, muchas gracias por la ayuda"."""


_LEAD = re.compile(r"^(?P<lead>[^,.;:!?¿¡\n]*)[,.;:!?¿¡\n]+\s*(?P<rest>.*)$", re.DOTALL)


def _only_words_from(words: list[str], vocabulary: frozenset[str], company: set[str]) -> bool:
    return all(word in vocabulary or word in company for word in words)


def _is_greeting(text: str, company: set[str]) -> bool:
    words = _WORD.findall(text.lower().translate(_FOLD))
    opens = bool(words) and (
        words[0] in _GREETING_OPENERS or " ".join(words[:2]) in _GREETING_OPENERS
    )
    return opens and _only_words_from(words, _GREETING_WORDS, company)


def _company_words(context: TenantContext) -> set[str]:
    return set(_WORD.findall(context.company_name.lower().translate(_FOLD)))


def without_greeting(question: str, context: TenantContext) -> str:
    """The question without a greeting before it: "Buenas, ¿a qué hora abren?" -> "¿a qué
    hora abren?" (so that what is asked, not the greeting, decides the answer)."""
    company = _company_words(context)
    rest = question.strip()
    while (found := _LEAD.match(rest)) and found["rest"].strip():
        if not _is_greeting(found["lead"], company):
            break
        rest = found["rest"].strip()
    return rest


@dataclass(frozen=True)
class Reply:
    """The responder's structured result for one turn."""

    kind: ReplyKind
    text: str
    sources: list[str] = field(default_factory=list)
    usage: list[LLMUsage] = field(default_factory=list)

    @property
    def is_fallback(self) -> bool:
        return self.kind in ("fallback", "failure")


def small_talk_reply(question: str, context: TenantContext, language: str) -> str | None:
    """A fixed reply to a message that is only a greeting, only thanks, or has no words;
    None otherwise (a greeting with a question gets an answer)."""
    words = _WORD.findall(question.lower().translate(_FOLD))
    if not words:
        return reply_text("no_words", language)
    company = _company_words(context)
    if _is_greeting(question, company):
        if language == context.default_language and context.welcome_message:
            return context.welcome_message
        return reply_text("greeting", language, company=context.company_name)
    if _only_words_from(words, _THANKS_WORDS | _GREETING_OPENERS, company):
        return reply_text("thanks", language)
    return None


def grounding_passages(passages: Sequence[Passage]) -> list[Passage]:
    """The relevant passages with something in them, their text untouched: knowledge is
    never cut. Text planted in a document is fenced as data in the LLM prompt, and the
    extractive mode does not pick it as an answer."""
    return [p for p in passages if is_relevant(p) and p["text"].strip()]


async def responder(state: ConversationState, runtime: Runtime[TenantContext]) -> dict[str, Any]:
    """Answer the current turn; count a fallback when it cannot be answered."""
    context = runtime.context or TenantContext()
    deadline = turn_deadline(get_settings().turn_budget_seconds)
    try:
        reply = await answer_turn(state, context, deadline)
    except Exception as error:  # a broken config or knowledge base: apologise, never go silent
        _log_failure(context, error)
        reply = Reply("failure", reply_text("failure", state.language or context.default_language))
    if state.asked_again and reply.kind == "clarification":  # never the same question twice
        fallback = reply_text("fallback", state.language or context.default_language)
        reply = Reply("fallback", fallback, usage=reply.usage)
    update: dict[str, Any] = {"reply_kind": reply.kind, "sources": reply.sources}
    if reply.usage:
        update["llm_usage"] = reply.usage
    if reply.is_fallback:
        update["fallback_count"] = state.fallback_count + 1
        if update["fallback_count"] > context.handoff.max_fallbacks:
            return update  # the handoff step speaks instead
    elif reply.kind == "answer":
        update["fallback_count"] = 0
    update["messages"] = [bot_reply(reply.text, reply.kind)]
    return update


async def answer_turn(state: ConversationState, context: TenantContext, deadline: float) -> Reply:
    """The reply to the current turn; a failing provider is an apology, not an exception."""
    language = state.language or context.default_language
    question = turn_text(state.messages)
    if answer_to_offer(state.messages) == "no":  # the customer declined the offered person
        return Reply("small_talk", reply_text("declined", language))
    canned = small_talk_reply(question, context, language)
    if canned is not None:
        return Reply("small_talk", canned)
    question = without_greeting(question, context)
    if looks_like_injection(question):
        log.info("responder_refused_injection", extra={"tenant_id": context.tenant_id})
        return Reply("refusal", reply_text("refusal", language, company=context.company_name))
    passages = grounding_passages(state.passages)
    remembered = bool(state.memory.strip())
    model = llm.get_chat_model(MODEL_GROUP, context.model) if passages or remembered else None
    if is_vague(question) and state.passages and (model is None or not passages):
        topics = [p.get("title") or p["document_id"] for p in state.passages]
        return Reply("clarification", clarifying_question(topics, language))
    if not passages and model is None:
        return Reply("fallback", reply_text("fallback", language))
    if model is None:
        found = await asyncio.to_thread(extract, question, passages, default_embedder())
        if found is None or not found.text:
            return Reply("fallback", reply_text("fallback", language))
        return Reply("answer", found.text, [found.document_id])
    window = model_window(state.messages)
    earlier = window[: len(window) - len(turn_messages(window))]
    return await _generated(model, question, passages, earlier, state, context, deadline)


async def _generated(
    model: BaseChatModel,
    question: str,
    passages: list[Passage],
    earlier: Sequence[AnyMessage],
    state: ConversationState,
    context: TenantContext,
    deadline: float,
) -> Reply:
    language = state.language or context.default_language
    messages = responder_messages(
        question,
        passages,
        earlier,
        context.company_name,
        context.persona,
        language,
        memory=state.memory,
    )
    remaining = deadline - time.time() - REPLY_RESERVE_SECONDS
    try:
        if remaining <= 0:
            raise TimeoutError("no time left in the turn's budget")
        said = await asyncio.wait_for(model.ainvoke(messages), timeout=remaining)
    except Exception as error:
        _log_failure(context, error)
        return Reply("failure", reply_text("failure", language))
    usage = [u for u in [usage_of(said, MODEL_GROUP)] if u is not None]
    parsed = parse_model_reply(said.text, [p["document_id"] for p in passages])
    if parsed is None:
        _log_failure(context, ValueError("unusable model reply"))
        return Reply("failure", reply_text("failure", language), usage=usage)
    if parsed.kind == "no_answer":
        return Reply("fallback", reply_text("fallback", language), usage=usage)
    text = fit_whatsapp(parsed.text)
    if leaks_prompt(text):
        log.warning("responder_prompt_leak_blocked", extra={"tenant_id": context.tenant_id})
        refusal = reply_text("refusal", language, company=context.company_name)
        return Reply("refusal", refusal, usage=usage)
    evidence = "\n".join([question, state.memory, *(p["text"] for p in passages)])
    if unsupported_numbers(text, evidence):
        log.warning("responder_ungrounded_number", extra={"tenant_id": context.tenant_id})
        return Reply("fallback", reply_text("fallback", language), usage=usage)
    return Reply(parsed.kind, text, parsed.sources if parsed.kind == "answer" else [], usage)


def _log_failure(context: TenantContext, error: BaseException) -> None:
    try:
        conversation_id = get_config().get("configurable", {}).get("thread_id")
    except RuntimeError:
        conversation_id = None
    log.warning(
        "responder_llm_failed",
        extra={
            "tenant_id": context.tenant_id,
            "conversation_id": conversation_id,
            "error": type(error).__name__,
        },
    )
