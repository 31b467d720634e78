"""The memory eval's scenarios pass on SQLite and Postgres; the scenario file stays valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes.recording_chat import RecordingChat

from evals.memory import DEFAULT_DATA, main, read_scenarios, run_memory_eval
from tools import llm


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "sqlite" else str(request.getfixturevalue("fresh_postgres_url"))


async def test_every_scenario_passes_offline(
    database_url: str | None, tmp_path: Path, offline: None
) -> None:
    results = await run_memory_eval(read_scenarios(DEFAULT_DATA), database_url, tmp_path)
    assert [r.problems for r in results] == [[] for _ in results]
    assert len(results) >= 4


async def test_the_model_is_given_the_remembered_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = RecordingChat(summary="Ana López preguntó por su pedido 4411.")
    monkeypatch.setattr(llm, "get_chat_model", lambda *args, **kwargs: model)
    [scenario] = [s for s in read_scenarios(DEFAULT_DATA) if s.id == "es-order-and-name"]
    [result] = await run_memory_eval([scenario], None, tmp_path)
    assert "Ana López" in result.memory and "4411" in result.memory
    assert any("¿y mi pedido?" in p and "4411" in p for p in model.responder_prompts())


def test_a_failing_scenario_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], offline: None
) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text(
        json.dumps(
            {
                "id": "forgets",
                "customer": "cli:zoe",
                "conversations": [
                    {"turns": ["hola"], "close": "resolved"},
                    {"turns": ["¿y mi pedido?"]},
                ],
                "expect": {"memory_contains": ["9999"]},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    assert main(["--data", str(data)]) == 1
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["failed"] == ["forgets"] and summary["passed"] == 0


def test_malformed_scenarios_are_refused(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": "x", "customer": "cli:a", "conversations": [{"turns": ["hola"]}]}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        read_scenarios(data)
