from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from evals.handoff import format_table, main, run_handoff_eval


def write(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_metrics_on_a_known_confusion(tmp_path: Path) -> None:
    # detector says yes for texts starting with "y": tp 2, fn 1, fp 1, tn 4
    rows = [
        {"text": "y1", "handoff": True},
        {"text": "y2", "handoff": True},
        {"text": "n1", "handoff": True},
        {"text": "y3", "handoff": False},
        *({"text": f"n{i}", "handoff": False} for i in range(2, 6)),
    ]
    result = run_handoff_eval(write(tmp_path / "h.jsonl", rows), lambda t: t.startswith("y"))
    assert (result["tp"], result["fn"], result["fp"], result["tn"]) == (2, 1, 1, 4)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 3)
    assert result["f1"] == pytest.approx(2 / 3)
    assert result["false_positive_rate"] == pytest.approx(1 / 5)
    assert result["n"] == 8


def test_default_detector(tmp_path: Path) -> None:
    rows = [
        {"text": "quiero hablar con un asesor", "handoff": True},
        {"text": "I want to talk to a human", "handoff": True},
        {"text": "soy agente de viajes", "handoff": False},
        {"text": "where is my order?", "handoff": False},
    ]
    result = run_handoff_eval(write(tmp_path / "h.jsonl", rows))
    assert result["f1"] == 1.0 and result["false_positive_rate"] == 0.0
    assert "false-positive rate" in format_table(result)


def test_no_positives_at_all(tmp_path: Path) -> None:
    result = run_handoff_eval(write(tmp_path / "h.jsonl", [{"text": "hola", "handoff": False}]))
    assert result["precision"] == result["recall"] == result["f1"] == 0.0


def test_cli_prints_a_table_then_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "h.jsonl", [{"text": "operator please", "handoff": True}])
    assert main(["--data", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert json.loads(lines[-1])["recall"] == 1.0


def test_rejects_a_non_boolean_label(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"h\.jsonl:1"):
        run_handoff_eval(write(tmp_path / "h.jsonl", [{"text": "hola", "handoff": "yes"}]))
