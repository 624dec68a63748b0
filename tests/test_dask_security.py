"""The local Dask cluster is not open to other local users (issue 14, item 10): it speaks TLS with credentials
made for it, and a client without them (any other process on the machine) cannot connect, so it cannot run
code in the workers. Before, any process could connect to its tcp:// address and submit functions."""

from __future__ import annotations

import distributed
import pytest
from distributed.security import Security

import workbench
from workbench.parallel import cluster


@pytest.fixture(scope="module")
def local():
    connection = cluster.connect(None, 1, 60)
    yield connection
    cluster.close_local_cluster()


def outsider(address: str, security: Security | None = None) -> distributed.Client:
    return distributed.Client(address, timeout=5, set_as_default=False, security=security)


def test_the_local_cluster_speaks_tls_only(local):
    address = local.client.scheduler.address
    assert address.startswith("tls://127.0.0.1:"), address
    assert all(w.startswith("tls://127.0.0.1:") for w in local.workers())


@pytest.mark.parametrize("how", ["plain tcp", "no credentials", "credentials of its own"])
def test_another_process_cannot_connect_or_run_code(local, how):
    address = local.client.scheduler.address
    if how == "plain tcp":
        address, security = address.replace("tls://", "tcp://"), None
    elif how == "no credentials":
        security = None
    else:
        security = Security.temporary()  # valid TLS, but not the certificate this cluster trusts
    with pytest.raises(Exception) as info:  # distributed raises several kinds, all refusals
        client = outsider(address, security)
        try:
            client.submit(lambda: "ran in the worker").result(timeout=5)
        finally:
            client.close()
    assert not isinstance(info.value, AssertionError)


def test_starting_the_local_cluster_ahead_reuses_it_and_warms_its_workers(local):
    """What `workbench serve` calls at start-up: the process's cluster (not a second one), whose workers have
    then imported the pulse simulator, so the first job does not pay for it."""
    import sys

    timings = cluster.start_local_cluster(workers=1)
    assert set(timings) == {"start", "warm"} and timings["warm"] > 0
    assert cluster._local["client"] is local.client  # reused, not restarted

    def imported() -> bool:
        return "workbench.executors.qutip.propagate" in sys.modules

    assert list(local.client.run(imported).values()) == [True]


def test_runs_on_the_secured_cluster_equal_serial_runs(local):
    serial = workbench.run("rabi", "qutip-1q", shots=100, seed=4)
    parallel = workbench.run("rabi", "qutip-1q", shots=100, seed=4, parallel=True)
    assert parallel.counts_list() == serial.counts_list()
    assert parallel.trace["parallel"]["where"] != "client", parallel.trace["parallel"]
    assert "tls://127.0.0.1" in parallel.trace["parallel"]["scheduler"]
