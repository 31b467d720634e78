"""The fault suite's throwaway Postgres cluster (one per session), and its table printed at
the end of the pytest run."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fault_record import FaultRow
from fault_suite import table
from throwaway_postgres import ClusterUnavailable, ThrowawayCluster

PLAYED: list[FaultRow] = []
"""The rows of the faults played in this session, for the summary."""


@pytest.fixture(scope="session")
def cluster() -> Iterator[ThrowawayCluster]:
    """A Postgres cluster of its own (initdb + pg_ctl); skipped locally without the Debian
    binaries, but FAILS when CI is set (the fault suite must run in CI)."""
    try:
        made = ThrowawayCluster.create()
    except ClusterUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"{error} (CI is set: the fault suite must run)")
        pytest.skip(str(error))
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture(scope="session")
def played() -> list[FaultRow]:
    """Where the fault tests put their rows, for the table at the end of the run."""
    return PLAYED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if PLAYED:
        terminalreporter.write_sep("-", "fault suite")
        terminalreporter.write_line(table(PLAYED))
