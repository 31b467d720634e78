"""The offline sentiment benchmark command: a table, then JSON with the figures, last."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.bench_sentiment import main, percentile


def test_prints_a_table_then_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repeat", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("messages x repeat")
    figures = json.loads(lines[-1])
    assert figures["n"] == 15 and figures["repeat"] == 2
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
    assert 0 < figures["intent_p50_ms"] <= figures["intent_p95_ms"]


def test_reads_a_jsonl_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "messages.jsonl"
    rows = [{"text": "pésimo servicio 😡", "lang": "es"}, {"text": "great, thanks!"}, {"text": ""}]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert main(["--data", str(data), "--repeat", "1"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["n"] == 3
    with pytest.raises(SystemExit):
        main(["--repeat", "0"])


def test_percentile() -> None:
    assert percentile([], 0.95) == 0.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 0.95) == 95.0
