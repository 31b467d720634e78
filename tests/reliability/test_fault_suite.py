"""The fault suite (issue 11, item 10): each fault against a real server on a throwaway
Postgres cluster; afterwards every customer message is answered or handed over, none
reaches the customer twice, and the fault shows in the conversation record. `tests/reliability/fault_suite.py` prints the same as a table.

The selected faults are played once, together (an outage waits beside the others), by the
module's fixture; each test checks one fault's row."""

from __future__ import annotations

import json

import pytest
from fault_record import FaultRow
from fault_scenarios import FAULTS, Fault, play
from fault_suite import row_json, table
from throwaway_postgres import ThrowawayCluster

pytestmark = [pytest.mark.slow, pytest.mark.faults]


@pytest.fixture(scope="module")
def rows(
    request: pytest.FixtureRequest,
    cluster: ThrowawayCluster,
    tmp_path_factory: pytest.TempPathFactory,
    played: list[FaultRow],
) -> dict[str, FaultRow]:
    """The row of every fault this session selected (played on first use)."""
    selected: set[str] = set()
    for item in request.session.items:
        spec = getattr(item, "callspec", None)
        chosen = spec.params.get("fault") if spec is not None else None
        if isinstance(chosen, Fault):
            selected.add(chosen.name)
    faults = [fault for fault in FAULTS if fault.name in selected]
    found = play(faults, cluster, tmp_path_factory.mktemp("faults"))
    played.extend(found)
    return {fault.name: row for fault, row in zip(faults, found, strict=True)}


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_every_message_is_answered_or_handed_over_exactly_once(
    fault: Fault, rows: dict[str, FaultRow]
) -> None:
    row = rows[fault.name]
    outcome = f"\n{table([row])}\n{json.dumps(row_json(row), ensure_ascii=False)}"
    assert "crashed" not in row.details, outcome
    assert row.details["refused_webhooks"] == 0, outcome
    assert row.sent > 0, outcome
    assert row.lost == 0, outcome
    assert row.duplicated == 0, outcome
    assert row.answered + row.handed_over == row.sent, outcome
    assert any(row.visible.values()), outcome  # the fault shows in the conversation record
