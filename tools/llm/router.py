"""LLM access: a LiteLLM router exposed to the graph as a LangChain chat model.

`litellm` is imported only when a router is first built, in a worker thread (the import
takes seconds), and `LITELLM_LOCAL_MODEL_COST_MAP=True` is set first: without it litellm
fetches its price map from the internet at import. `close_llm_clients()` releases the
routers and litellm's cached HTTP clients; the server calls it on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, Field

from config.settings import Settings, get_settings
from tools.llm.config import (
    choose_model_group,
    configured_fallbacks,
    llm_enabled,
    load_router_config,
    usable_model_list,
)

log = logging.getLogger(__name__)

COST_MAP_ENV = "LITELLM_LOCAL_MODEL_COST_MAP"
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_routers: dict[str, Any] = {}
_routers_lock = threading.Lock()


class ProviderResponseError(ValueError):
    """The provider answered with something that is not a chat completion."""


def import_litellm() -> Any:
    """`litellm`, imported with the bundled price map (no network at import)."""
    os.environ[COST_MAP_ENV] = "True"
    import litellm

    return litellm


def router_for(config_path: str, settings: Settings | None = None) -> Any:
    """The `litellm.Router` of a config file, built once per path (blocking: import + build)."""
    with _routers_lock:
        router = _routers.get(config_path)
        if router is None:
            litellm = import_litellm()
            config = load_router_config(Path(config_path))
            model_list = usable_model_list(config, settings or get_settings())
            if not model_list:
                raise RuntimeError(f"{config_path}: no deployment has credentials or api_base")
            router = litellm.Router(model_list=model_list, **config.get("router_settings", {}))
            _routers[config_path] = router
        return router


async def arouter_for(config_path: str) -> Any:
    """`router_for`, built off the event loop the first time."""
    router = _routers.get(config_path)
    if router is None:
        router = await asyncio.to_thread(router_for, config_path)
    return router


async def warm_up_llm(settings: Settings | None = None) -> None:
    """Build the router now (server start) rather than on the first customer turn."""
    settings = settings or get_settings()
    if not llm_enabled(settings):
        return
    try:
        await arouter_for(str(settings.litellm_config))
    except RuntimeError as error:  # turns will apologise and offer a person; say why now
        log.error("llm_router_unavailable", extra={"error": str(error)})


async def close_llm_clients() -> None:
    """Release every router and litellm's cached async HTTP clients (server shutdown)."""
    with _routers_lock:
        routers = list(_routers.values())
        _routers.clear()
    litellm = sys.modules.get("litellm")
    if litellm is None:
        return
    for router in routers:
        try:
            router.retire()
        except Exception:
            log.warning("llm_router_retire_failed", exc_info=True)
    await litellm.close_litellm_async_clients()
    litellm.in_memory_llm_clients_cache.flush_cache()  # closed clients must not be reused


def _to_openai(message: BaseMessage) -> dict[str, Any]:
    return {"role": _ROLES.get(message.type, "user"), "content": message.text}


class LiteLLMRouterChat(BaseChatModel):
    """A LangChain chat model that sends every call through a LiteLLM model group.

    Being a LangChain model, its calls show up in LangGraph Studio and LangSmith traces,
    with token usage; the reply's `response_metadata` names the model that answered, the
    group, the cost in USD and litellm's call id.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    model_group: str
    config_path: str
    fallbacks: list[str] = Field(default_factory=list)
    """Request-level fallback groups (a tenant's own group falls back to the standard one)."""

    @property
    def _llm_type(self) -> str:
        return "litellm-router"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_group": self.model_group}

    def _request(self, messages: list[BaseMessage], stop: list[str] | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model_group,
            "messages": [_to_openai(m) for m in messages],
        }
        if stop:
            request["stop"] = stop
        if self.fallbacks:
            request["fallbacks"] = list(self.fallbacks)
        return request

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        router = router_for(self.config_path)
        return self._to_result(router.completion(**self._request(messages, stop), **kwargs))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        router = await arouter_for(self.config_path)
        response = await router.acompletion(**self._request(messages, stop), **kwargs)
        return self._to_result(response)

    def _to_result(self, response: Any) -> ChatResult:
        choices = getattr(response, "choices", None)
        if not choices or getattr(choices[0], "message", None) is None:
            raise ProviderResponseError("the provider's answer has no message")
        content = choices[0].message.content
        usage = getattr(response, "usage", None)
        hidden = getattr(response, "_hidden_params", None) or {}
        headers = hidden.get("additional_headers") or {}
        tokens = {
            "input_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
            "output_tokens": int(getattr(usage, "completion_tokens", 0) or 0),
            "total_tokens": int(getattr(usage, "total_tokens", 0) or 0),
        }
        model_name = str(hidden.get("litellm_model_name") or getattr(response, "model", ""))
        message = AIMessage(
            content=content if isinstance(content, str) else "",
            usage_metadata=tokens,
            response_metadata={
                "model_name": model_name,
                "model_group": str(headers.get("x-litellm-model-group") or self.model_group),
                "cost_usd": float(hidden.get("response_cost") or 0.0),
                "call_id": str(hidden.get("litellm_call_id") or getattr(response, "id", "")),
                "attempted_fallbacks": int(headers.get("x-litellm-attempted-fallbacks") or 0),
                "litellm_overhead_ms": float(hidden.get("litellm_overhead_time_ms") or 0.0),
            },
        )
        return ChatResult(
            generations=[ChatGeneration(message=message)],
            llm_output={"token_usage": tokens, "model_name": model_name},
        )


def get_chat_model(model_group: str, override: str = "") -> BaseChatModel | None:
    """The chat model for a model group (or the tenant's `override` group), None offline.

    This is the one seam tests replace with a fake chat model.
    """
    settings = get_settings()
    if not llm_enabled(settings):
        return None
    config = load_router_config(settings.litellm_config)
    chosen = choose_model_group(config, model_group, override)
    fallbacks = (
        [model_group] if chosen != model_group and not configured_fallbacks(config, chosen) else []
    )
    return LiteLLMRouterChat(
        model_group=chosen, config_path=str(settings.litellm_config), fallbacks=fallbacks
    )
