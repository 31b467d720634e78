"""The LiteLLM router seam: config, modes, credentials, the chat model, callbacks, cleanup."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fakes.openai_server import Answer, Fail, FakeOpenAIServer, write_litellm_config
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.outputs import LLMResult

from config.settings import DEFAULT_LITELLM_CONFIG, Settings, get_settings
from tools import llm
from tools.llm import router as llm_router
from tools.llm.config import (
    choose_model_group,
    llm_enabled,
    load_router_config,
    model_groups,
    usable_model_list,
)
from tools.llm.router import LiteLLMRouterChat, ProviderResponseError


def settings_for(config: Path, **fields: Any) -> Settings:
    return Settings(_env_file=None, litellm_config=config, **fields)  # type: ignore[call-arg]


def keyed_config(path: Path, key_name: str = "ATIENDE_TEST_KEY") -> Path:
    config = {
        "model_list": [
            {
                "model_name": "responder",
                "litellm_params": {
                    "model": "gemini/gemini-2.5-flash",
                    "api_key": f"os.environ/{key_name}",
                },
            },
            {
                "model_name": "responder-fallback",
                "litellm_params": {
                    "model": "openai/gpt-4o-mini",
                    "api_key": "os.environ/OPENAI_API_KEY",
                },
            },
        ],
        "router_settings": {"fallbacks": [{"responder": ["responder-fallback"]}]},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
async def llm_on(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Path]:
    config = write_litellm_config(server, tmp_path / "llm.yaml")
    monkeypatch.setenv("LITELLM_CONFIG", str(config))
    monkeypatch.setenv("LLM_MODE", "llm")
    get_settings.cache_clear()
    yield config
    await llm.close_llm_clients()
    get_settings.cache_clear()


def test_shipped_config_has_both_groups_with_fallbacks_and_timeouts() -> None:
    config = load_router_config(DEFAULT_LITELLM_CONFIG)
    assert {"responder", "summarizer", "responder-fallback", "summarizer-fallback"} <= model_groups(
        config
    )
    for deployment in config["model_list"]:
        params = deployment["litellm_params"]
        assert params["timeout"] > 0 and "max_retries" in params and "cooldown_time" in params
    primary = [
        d["litellm_params"]["model"] for d in config["model_list"] if d["model_name"] == "responder"
    ]
    assert primary == ["gemini/gemini-2.5-flash"]
    fallbacks = config["router_settings"]["fallbacks"]
    assert {"responder": ["responder-fallback"]} in fallbacks
    # the worst case (primary timeout, then the fallback's) fits in the default 20 s budget
    timeouts = {d["model_name"]: d["litellm_params"]["timeout"] for d in config["model_list"]}
    assert timeouts["responder"] + timeouts["responder-fallback"] < 20


def test_bad_configs_are_refused_clearly(tmp_path: Path) -> None:
    missing = tmp_path / "no-list.yaml"
    missing.write_text("router_settings: {}\n")
    with pytest.raises(ValueError, match="model_list"):
        load_router_config(missing)
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text("model_list:\n  - litellm_params: {model: openai/x}\n")
    with pytest.raises(ValueError, match="model_name"):
        load_router_config(nameless)


def test_auto_mode_needs_some_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATIENDE_TEST_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    config = keyed_config(tmp_path / "keys.yaml")
    assert llm_enabled(settings_for(config)) is False
    monkeypatch.setenv("ATIENDE_TEST_KEY", "secret")
    assert llm_enabled(settings_for(config)) is True
    assert llm_enabled(settings_for(config, llm_mode="extractive")) is False
    monkeypatch.delenv("ATIENDE_TEST_KEY")
    assert llm_enabled(settings_for(config, llm_mode="llm")) is True


def test_a_key_only_in_the_settings_env_file_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ATIENDE_TEST_KEY", raising=False)
    config = keyed_config(tmp_path / "keys.yaml")
    settings = settings_for(config, openai_api_key="sk-from-dotenv")
    usable = usable_model_list(load_router_config(config), settings)
    assert [d["model_name"] for d in usable] == ["responder-fallback"]
    assert usable[0]["litellm_params"]["api_key"] == "sk-from-dotenv"


def test_api_base_alone_makes_a_deployment_usable(tmp_path: Path) -> None:
    path = tmp_path / "local.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "model_list": [
                    {
                        "model_name": "responder",
                        "litellm_params": {
                            "model": "openai/llama",
                            "api_base": "http://127.0.0.1:9/v1",
                        },
                    }
                ]
            }
        )
    )
    assert llm_enabled(settings_for(path)) is True


def test_model_group_override(tmp_path: Path, server: FakeOpenAIServer) -> None:
    config = load_router_config(write_litellm_config(server, tmp_path / "c.yaml"))
    assert choose_model_group(config, "responder", "") == "responder"
    assert choose_model_group(config, "responder", "responder-premium") == "responder-premium"
    assert choose_model_group(config, "responder", "no-such-group") == "responder"


def test_extractive_mode_has_no_chat_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_MODE", "extractive")
    get_settings.cache_clear()
    try:
        assert llm.get_chat_model("responder") is None
    finally:
        get_settings.cache_clear()


async def test_chat_model_answers_with_usage_cost_and_callbacks(
    server: FakeOpenAIServer, llm_on: Path
) -> None:
    class Seen(AsyncCallbackHandler):
        def __init__(self) -> None:
            self.started: list[str] = []
            self.ended: list[LLMResult] = []

        async def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
            self.started.append(str(kwargs.get("invocation_params", {}).get("model_group")))

        async def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
            self.ended.append(response)

    model = llm.get_chat_model("responder")
    assert isinstance(model, LiteLLMRouterChat) and model.model_group == "responder"
    server.script("primary", Answer("hola", prompt_tokens=50, completion_tokens=5))
    seen = Seen()
    reply = await model.ainvoke(
        [SystemMessage("sé breve"), HumanMessage("hola")], config={"callbacks": [seen]}
    )
    assert reply.text == "hola"
    assert reply.usage_metadata == {"input_tokens": 50, "output_tokens": 5, "total_tokens": 55}
    assert reply.response_metadata["model_name"] == "openai/gpt-4o-mini"
    assert reply.response_metadata["cost_usd"] > 0
    assert seen.started == ["responder"] and seen.ended
    [request] = server.requests("primary")
    assert [m["role"] for m in request.messages] == ["system", "user"]


async def test_override_group_falls_back_to_the_standard_group(
    server: FakeOpenAIServer, llm_on: Path
) -> None:
    model = llm.get_chat_model("responder", "responder-premium")
    assert isinstance(model, LiteLLMRouterChat) and model.fallbacks == ["responder"]
    server.script("premium", Fail(500))
    server.script("primary", Answer("desde el grupo estándar"))
    reply = await model.ainvoke([HumanMessage("hola")])
    assert reply.text == "desde el grupo estándar"
    assert [r.route for r in server.requests()] == ["premium", "primary"]


async def test_closing_releases_the_routers_and_a_new_call_rebuilds_them(
    server: FakeOpenAIServer, llm_on: Path
) -> None:
    model = llm.get_chat_model("responder")
    assert model is not None
    await model.ainvoke([HumanMessage("uno")])
    assert str(llm_on) in llm_router._routers
    await llm.close_llm_clients()
    assert llm_router._routers == {}
    server.script("primary", Answer("dos"))
    assert (await model.ainvoke([HumanMessage("dos")])).text == "dos"
    assert [r.route for r in server.requests()] == ["primary", "primary"]


def test_a_reply_without_a_message_is_a_provider_error() -> None:
    model = LiteLLMRouterChat(model_group="responder", config_path="unused.yaml")

    class Empty:
        choices = ()

    with pytest.raises(ProviderResponseError):
        model._to_result(Empty())


async def test_shipped_router_settings_work_with_litellm(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped config, its deployments pointed at the fake server (api_base), routes a
    failing primary to its fallback."""
    shipped = load_router_config(DEFAULT_LITELLM_CONFIG)
    routes = {"responder": "primary", "responder-fallback": "fallback"}
    for deployment in shipped["model_list"]:
        params = deployment["litellm_params"]
        params["api_base"] = server.base(routes.get(deployment["model_name"], "other"))
        params["model"] = "openai/" + params["model"].split("/", 1)[1]
    path = tmp_path / "shipped.yaml"
    path.write_text(yaml.safe_dump(shipped))
    monkeypatch.setenv("LITELLM_CONFIG", str(path))
    monkeypatch.setenv("LLM_MODE", "llm")
    get_settings.cache_clear()
    try:
        server.script("primary", Fail(500))
        server.script("fallback", Answer("respaldo"))
        model = llm.get_chat_model("responder")
        assert model is not None
        assert (await model.ainvoke([HumanMessage("hola")])).text == "respaldo"
        assert [r.route for r in server.requests()] == ["primary", "fallback"]
        assert server.requests("primary")[0].body["max_tokens"] == 400
    finally:
        await llm.close_llm_clients()
        get_settings.cache_clear()


async def test_warm_up_without_credentials_logs_instead_of_failing_the_start(
    tmp_path, caplog, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from config.settings import Settings
    from tools.llm import warm_up_llm

    config = tmp_path / "litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: responder\n    litellm_params:\n"
        "      model: openai/gpt-4o-mini\n      api_key: os.environ/ATIENDE_TEST_MISSING_KEY\n"
    )
    monkeypatch.delenv("ATIENDE_TEST_MISSING_KEY", raising=False)
    settings = Settings(_env_file=None, llm_mode="llm", litellm_config=config)  # type: ignore[call-arg]
    await warm_up_llm(settings)
    assert "llm_router_unavailable" in caplog.text
