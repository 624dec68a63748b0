"""Jobs and sweeps spread over Dask workers, with the results a serial run gives.

``workbench.run(job, parallel=True)`` (or ``workbench run --parallel``) cuts a job into tasks of
experiments, runs them on a Dask cluster (a ``LocalCluster`` of worker processes on this machine, or an
existing cluster by scheduler address) and merges the parts into one Dataset in experiment order.
``workbench.run_batch`` / ``workbench.execute_batch`` (:mod:`workbench.api`, which decides between a
serial run and this package) do the same for several jobs at once.

Why the results are identical to a serial run: every executor draws the random numbers of experiment
``e`` from ``(seed, e)`` with ``e`` the experiment's place in the job (executors get it as
``experiment_ids``), and an executor that computes experiments together (the pulse simulator shares
propagators within a batch) names its batches (``batch_plan``), which are never cut or merged.

What never runs on a worker: executors of kind ``hardware`` (an instrument is driven from this process,
one job at a time; a Qblox dummy's twin simulation does go to the workers) and runs with credentials
(secrets never leave this process).

Dask is imported on first use only, so ``import workbench`` stays light. See docs/parallel.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.parallel.spec import ENV_SCHEDULER, Parallel, ParallelSpec, resolve

__all__ = ["ENV_SCHEDULER", "Parallel", "ParallelSpec", "close_local_cluster", "execute_parallel", "resolve"]

if TYPE_CHECKING:
    from workbench.parallel.cluster import close_local_cluster
    from workbench.parallel.runner import execute_parallel

_LAZY = {
    "execute_parallel": "workbench.parallel.runner",
    "close_local_cluster": "workbench.parallel.cluster",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.parallel' has no attribute '{name}'")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
