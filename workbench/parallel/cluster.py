"""Reaching a Dask cluster: a ``LocalCluster`` on 127.0.0.1 kept for the process, or a scheduler by address.

The local cluster speaks TLS with credentials made for it when it starts (``Security.temporary()``: a
self-signed certificate kept in this process's memory and handed to its workers), and requires them of
every peer: on a shared machine another user can reach 127.0.0.1 too, and a Dask scheduler runs any
function a client sends it in the workers. A scheduler given by address is secured by whoever runs it
(docs/security.md); the client then takes its TLS settings from Dask's configuration, or is given.

The local cluster is started once and reused: worker processes pay for their imports (numpy, scipy,
qiskit) on their first task, so a notebook or the widgets running several jobs should not pay again for
each. Connecting to a scheduler by address is bounded by a timeout and checked before anything is
submitted: a scheduler without workers would otherwise hold the tasks forever, and workers with another
workbench version could compute other results.
"""

from __future__ import annotations

import atexit
import logging
import os
import platform
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ExecutionError

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"

_lock = threading.Lock()
_local: dict[str, Any] = {}
_atexit_registered = False


@dataclass
class Connection:
    """A client to run tasks with, what to call it in the trace, and whether this run must close it."""

    client: Any
    description: str
    owned: bool = False
    warnings: list[str] = field(default_factory=list)

    def worker_slots(self) -> int:
        """Threads over all workers: how many tasks run at once."""
        try:
            return max(1, sum(self.client.nthreads().values()))
        except Exception:  # a scheduler that went away; the run loop reports it
            return 1

    def workers(self) -> list[str]:
        try:
            return sorted(self.client.nthreads())
        except Exception:
            return []

    def close(self) -> None:
        if self.owned:
            try:
                self.client.close()
            except Exception as exc:  # closing must not hide the run's own outcome
                log.debug("closing the Dask client failed: %s", exc)


def usable_cores() -> int:
    """Cores this process may run on (a container or taskset may allow fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def worker_facts() -> dict[str, str]:
    """Runs on every worker of a remote cluster: what decides whether its results match this machine's."""
    import numpy

    from workbench._version import __version__

    return {"workbench": __version__, "python": platform.python_version(), "numpy": numpy.__version__}


def connect(scheduler: str | None, workers: int | None, timeout: float, client: Any = None) -> Connection:
    """A connection for one run: the given client, a scheduler by address, or the local cluster."""
    if client is not None:
        connection = Connection(client, f"given client of the scheduler at {client.scheduler.address}")
        _check_workers(connection, timeout, "the given Dask client's scheduler")
        return connection
    if scheduler is not None:
        return _remote(scheduler, timeout)
    return _local_connection(workers)


def _remote(address: str, timeout: float) -> Connection:
    from distributed import Client

    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError):
        raise ExecutionError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s (is 'dask scheduler' "
                             "running there, and is its port open to this machine?)") from None
    connection = Connection(client, f"scheduler at {address}", owned=True)
    try:
        _check_workers(connection, timeout, f"the Dask scheduler at {address}")
    except BaseException:
        connection.close()
        raise
    return connection


def _check_workers(connection: Connection, timeout: float, what: str) -> None:
    client = connection.client
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (TimeoutError, OSError):
        raise ExecutionError(f"{what} has no workers (waited {timeout:g} s); start some with "
                             f"'dask worker {client.scheduler.address}'") from None
    mine = worker_facts()
    try:
        facts: dict[str, dict[str, str]] = client.run(worker_facts)
    except Exception as exc:
        first = " ".join(str(exc).split())[:200]
        raise ExecutionError(f"the workers of {what} cannot run the workbench ({type(exc).__name__}: {first}); "
                             f"install quantum-executor-workbench {mine['workbench']} on every worker") from None
    for address, theirs in sorted(facts.items()):
        if theirs.get("workbench") != mine["workbench"]:
            raise ExecutionError(f"worker {address} has workbench {theirs.get('workbench')}, this machine "
                                 f"{mine['workbench']}; install the same version on every worker")
        for key in ("python", "numpy"):
            if theirs.get(key) != mine[key]:
                connection.warnings.append(f"worker {address} runs {key} {theirs.get(key)}, this machine {mine[key]}: "
                                           "results may differ from a serial run here in the last digits")
    for text in connection.warnings:
        log.warning(text)


def _local_connection(workers: int | None) -> Connection:
    """The process's LocalCluster (started on first use, restarted when another size is asked for)."""
    global _atexit_registered
    n = workers or usable_cores()
    with _lock:
        client = _local.get("client")
        if client is not None and (_local.get("workers") != n or client.status != "running"):
            _close_local_locked()
            client = None
        if client is None:
            from distributed import Client, LocalCluster

            try:
                security = local_security()
                # everything on loopback; the dashboard on a free port (None would take 8787, False 0.0.0.0)
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host=LOOPBACK,
                                       dashboard_address=f"{LOOPBACK}:0", silence_logs=logging.ERROR,
                                       protocol="tls", security=security)
            except Exception as exc:
                first = " ".join(str(exc).split())[:200]
                raise ExecutionError(f"cannot start a local Dask cluster ({type(exc).__name__}: {first})") from None
            client = Client(cluster, security=security, set_as_default=False)
            _local.update(cluster=cluster, client=client, workers=n)
            if not _atexit_registered:
                atexit.register(close_local_cluster)
                _atexit_registered = True
            log.info("started a local Dask cluster at %s with %d worker processes", cluster.scheduler_address, n)
        address = _local["cluster"].scheduler_address
    return Connection(client, f"LocalCluster at {address}, {n} worker process{'es' if n != 1 else ''}")


def start_local_cluster(workers: int | None = None, warm: bool = True) -> dict[str, float]:
    """Start (or reuse) the process's LocalCluster now, and warm its workers: seconds each step took.

    For a long-running process that will send many small jobs (``workbench serve``): the cluster's start
    and every worker's first-task imports are paid once, up front, instead of by the first jobs. Warming
    runs a one-shot pulse simulation on every worker (:func:`workbench.parallel.tasks.warm_worker`); its
    failure only costs the first real job those imports again.
    """
    t0 = time.perf_counter()
    connection = _local_connection(workers)
    timings = {"start": time.perf_counter() - t0}
    if warm:
        from workbench.parallel.tasks import warm_worker

        t1 = time.perf_counter()
        try:
            connection.client.run(warm_worker)
        except Exception as exc:
            log.warning("warming the local Dask workers failed (%s: %s)", type(exc).__name__, exc)
        timings["warm"] = time.perf_counter() - t1
    return timings


def local_security() -> Any:
    """Fresh TLS credentials for a cluster this process starts: encryption required, and only peers holding
    this certificate (this process and the workers it starts) are accepted."""
    from distributed.security import Security

    return Security.temporary()


def close_local_cluster() -> None:
    """Stop the local cluster this process started (if any); the next parallel run starts a new one."""
    with _lock:
        _close_local_locked()


def _close_local_locked() -> None:
    client, cluster = _local.pop("client", None), _local.pop("cluster", None)
    _local.pop("workers", None)
    for thing in (client, cluster):
        if thing is not None:
            try:
                thing.close()
            except Exception as exc:
                log.debug("closing the local Dask cluster: %s", exc)
