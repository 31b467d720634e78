"""The throwaway cluster: its own port, killed for real (connections die), restarted on the
same port with every committed row."""

from __future__ import annotations

import psycopg
import pytest
from throwaway_postgres import ThrowawayCluster

pytestmark = [pytest.mark.slow, pytest.mark.faults]


def test_a_killed_cluster_restarts_on_its_port_with_its_committed_data(
    cluster: ThrowawayCluster,
) -> None:
    assert cluster.port != 5432
    url = cluster.create_database("throwaway_check")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (1), (2)")
    survivor = psycopg.connect(url, autocommit=True)
    cluster.kill()
    assert not cluster.is_up()
    with pytest.raises(psycopg.OperationalError):
        survivor.execute("SELECT 1")
    cluster.start()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (2,)
    survivor.close()
