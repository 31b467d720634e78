"""`atiende eval conversations`: the shipped scenarios, the runner, its output and errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.openai_server import Answer, FakeOpenAIServer, write_litellm_config

from config.settings import get_settings
from evals.conversations import DEFAULT_DATA, check_turn, main, read_scenarios

KNOWLEDGE = [
    {
        "id": "envios",
        "title": "Envíos",
        "text": "Hacemos envíos a todo México. El envío estándar cuesta 99 pesos.",
    }
]


def write(path: Path, *rows: dict) -> Path:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def last_json(output: str) -> dict:  # type: ignore[type-arg]
    return json.loads(output.strip().splitlines()[-1])


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_shipped_scenarios_cover_the_issue() -> None:
    scenarios = read_scenarios(DEFAULT_DATA)
    assert len(scenarios) >= 40
    assert {s.lang for s in scenarios} == {"es", "en"}
    expects = [t.expect for s in scenarios for t in s.turns]
    assert {e["reason"] for e in expects if "reason" in e} == {
        "sentiment",
        "explicit",
        "fallbacks",
        "loop",
    }
    kinds = {e.get("kind") for e in expects}
    assert {"answer", "clarification", "fallback", "refusal", "small_talk"} <= kinds
    assert sum(s.offline for s in scenarios) >= 40


def test_offline_scenarios_all_pass_in_extractive_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--mode", "extractive"]) == 0
    output = capsys.readouterr().out
    summary = last_json(output)
    assert summary["mode"] == "extractive" and summary["n"] >= 40
    assert summary["pass_rate"] == 1.0, summary["failed"]
    assert summary["skipped"] == sum(not s.offline for s in read_scenarios(DEFAULT_DATA))
    assert "es-handoff-bucle" in output and "pass" in output


def test_trust_scenarios_all_pass_in_extractive_mode(capsys: pytest.CaptureFixture[str]) -> None:
    trust = DEFAULT_DATA.with_name("trust.jsonl")
    scenarios = read_scenarios(trust)
    assert len(scenarios) >= 60 and all(s.offline for s in scenarios)
    assert {s.lang for s in scenarios} == {"es", "en"}
    assert main(["--data", str(trust), "--mode", "extractive"]) == 0
    summary = last_json(capsys.readouterr().out)
    assert summary["n"] == len(scenarios)
    assert summary["pass_rate"] == 1.0, summary["failed"]


def test_a_failing_expectation_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(
        tmp_path / "s.jsonl",
        {
            "id": "ok",
            "lang": "es",
            "offline": True,
            "knowledge": KNOWLEDGE,
            "turns": [{"user": "¿cuánto cuesta el envío?", "expect": {"contains": ["99 pesos"]}}],
        },
        {
            "id": "wrong",
            "lang": "es",
            "offline": True,
            "knowledge": KNOWLEDGE,
            "turns": [
                {"user": "quiero hablar con un agente", "expect": {"handoff": False}},
                {"user": "¿sigues ahí?", "expect": {"contains": ["hola"]}},
            ],
        },
        {"id": "online-only", "lang": "en", "offline": False, "turns": [{"user": "hi"}]},
    )
    main(["--data", str(data), "--mode", "extractive"])
    output = capsys.readouterr().out
    summary = last_json(output)
    assert (summary["n"], summary["passed"], summary["skipped"]) == (2, 1, 1)
    assert summary["pass_rate"] == 0.5 and summary["failed"] == ["wrong"]
    assert "turn 1: handoff True, expected False" in output


def test_llm_mode_runs_every_scenario_through_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(
        tmp_path / "s.jsonl",
        {
            "id": "llm-only",
            "lang": "en",
            "offline": False,
            "knowledge": KNOWLEDGE,
            "turns": [
                {
                    "user": "How much is standard shipping?",
                    "expect": {"contains": ["99 pesos"], "kind": "answer", "sources": ["envios"]},
                }
            ],
        },
    )
    reply = {"kind": "answer", "reply": "Standard shipping costs 99 pesos.", "sources": ["envios"]}
    with FakeOpenAIServer() as server:
        server.always("primary", Answer(json.dumps(reply)))
        monkeypatch.setenv("LITELLM_CONFIG", str(write_litellm_config(server, tmp_path / "c.yaml")))
        main(["--data", str(data), "--mode", "llm"])
        assert server.requests("primary")
    summary = last_json(capsys.readouterr().out)
    assert (summary["mode"], summary["n"], summary["pass_rate"]) == ("llm", 1, 1.0)


def test_checks_ignore_case_and_accents() -> None:
    observed = {
        "reply": "El envío cuesta 99 PESOS",
        "handoff": False,
        "reasons": [],
        "kind": "answer",
        "sources": ["envios"],
    }
    assert check_turn({"contains": ["envio", "99 pesos"], "sources": ["envios"]}, observed) == []
    assert check_turn({"not_contains": ["ENVÍO"], "reason": "loop"}, observed) == [
        "reply has 'ENVÍO'",
        "reasons [] lack 'loop'",
    ]


def test_reasons_must_match_exactly() -> None:
    observed = {"reply": "", "handoff": True, "reasons": ["fallbacks"], "kind": "", "sources": []}
    assert check_turn({"reasons": ["fallbacks"]}, observed) == []
    assert check_turn({"reasons": ["fallbacks", "loop"]}, observed) == [
        "reasons ['fallbacks'], expected ['fallbacks', 'loop']"
    ]


def test_a_scenario_tenant_sets_its_handoff_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(
        tmp_path / "s.jsonl",
        {
            "id": "patient-tenant",
            "lang": "es",
            "offline": True,
            "tenant": {"handoff": {"max_fallbacks": 0}},
            "knowledge": KNOWLEDGE,
            "turns": [
                {
                    "user": "¿venden bicicletas de montaña?",
                    "expect": {"handoff": True, "reasons": ["fallbacks"]},
                }
            ],
        },
    )
    main(["--data", str(data), "--mode", "extractive"])
    assert last_json(capsys.readouterr().out)["pass_rate"] == 1.0


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("not json", "not JSON"),
        (json.dumps({"lang": "es", "turns": [{"user": "x"}]}), "needs an id"),
        (json.dumps({"id": "a", "turns": []}), "needs turns"),
        (
            json.dumps({"id": "a", "turns": [{"user": "x", "expect": {"contain": []}}]}),
            "expect keys",
        ),
        (
            json.dumps({"id": "a", "turns": [{"user": "x", "expect": {"reason": "bored"}}]}),
            "reason",
        ),
        (
            json.dumps({"id": "a", "turns": [{"user": "x", "expect": {"reasons": ["bored"]}}]}),
            "reason",
        ),
        (
            json.dumps({"id": "a", "tenant": {"handoff": 3}, "turns": [{"user": "x"}]}),
            "tenant handoff",
        ),
        (
            json.dumps({"id": "a", "knowledge": [{"title": "t"}], "turns": [{"user": "x"}]}),
            "knowledge",
        ),
    ],
)
def test_bad_scenario_files_fail_clearly(
    line: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text("\n" + line + "\n", "utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(data)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"{data}:2:" in error and problem in error
