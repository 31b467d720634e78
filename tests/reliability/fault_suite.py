"""The fault suite's table: for each fault, the customers' messages sent, answered, handed
over, duplicated and lost, and what the conversation record shows of the fault.

    .venv/bin/python tests/reliability/fault_suite.py            # every fault (about 2 minutes)
    .venv/bin/python tests/reliability/fault_suite.py llm sigkill

Runs on its own throwaway Postgres cluster (initdb + pg_ctl), never the machine's server.
Prints the table, then JSON as its last line; exits 1 when a fault lost or duplicated a
message. The same faults run under pytest in test_fault_suite.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script: import the fakes like pytest does
    sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from fault_record import FaultRow
from fault_scenarios import FAULTS, Fault, play
from throwaway_postgres import ThrowawayCluster

COLUMNS = ("fault", "sent", "answered", "handed over", "duplicated", "lost", "visible in record")


def table(rows: Sequence[FaultRow]) -> str:
    lines = [
        (
            row.fault,
            str(row.sent),
            str(row.answered),
            str(row.handed_over),
            str(row.duplicated),
            str(row.lost),
            row.visible_text(),
        )
        for row in rows
    ]
    widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(COLUMNS)]

    def fmt(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        middle = [cell.rjust(widths[i + 1]) for i, cell in enumerate(cells[1:-1])]
        return "  ".join([first, *middle, cells[-1]])

    return "\n".join([fmt(COLUMNS), *(fmt(line) for line in lines)])


def row_json(row: FaultRow) -> dict[str, Any]:
    return {
        "fault": row.fault,
        "sent": row.sent,
        "answered": row.answered,
        "handed_over": row.handed_over,
        "duplicated": row.duplicated,
        "lost": row.lost,
        "visible": row.visible,
        **row.details,
    }


def summary(rows: Sequence[FaultRow], seconds: float) -> dict[str, Any]:
    sent = sum(r.sent for r in rows)
    covered = sum(r.answered + r.handed_over for r in rows)
    return {
        "faults": [row_json(r) for r in rows],
        "sent": sent,
        "lost": sum(r.lost for r in rows),
        "duplicated": sum(r.duplicated for r in rows),
        "answered_or_handed_over_pct": round(100 * covered / sent, 1) if sent else None,
        "wall_seconds": round(seconds, 1),
    }


def run(faults: Sequence[Fault]) -> list[FaultRow]:
    """Play `faults` on a throwaway cluster of their own."""
    print(f"... {', '.join(fault.label for fault in faults)}", file=sys.stderr, flush=True)
    with ThrowawayCluster.create() as cluster, tempfile.TemporaryDirectory() as workdir:
        return play(faults, cluster, Path(workdir))


def main(argv: Sequence[str] | None = None) -> int:
    names = [fault.name for fault in FAULTS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("faults", nargs="*", metavar="FAULT", help=f"some of: {', '.join(names)}")
    chosen = parser.parse_args(argv).faults or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    began = time.monotonic()
    rows = run([fault for fault in FAULTS if fault.name in chosen])
    print(table(rows))
    print(json.dumps(summary(rows, time.monotonic() - began), ensure_ascii=False))
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
