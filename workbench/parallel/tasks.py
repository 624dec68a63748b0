"""What runs on a Dask worker: one task of experiments through an ordinary executor.

Tasks receive plain objects (executor class, device, options without secrets, IR programs) and return
the executor's :class:`ExecutionData` for their experiments. A worker never sees credentials, and a
task is a pure function of its arguments, so Dask may run it again elsewhere when a worker dies.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbench.executors.base import ExecutionData

CANCEL_POLL = 0.25  # s between looks at the run's cancel flag on the scheduler


@dataclass
class TaskResult:
    """A task's data and where and how long it ran (for the trace)."""

    data: ExecutionData
    worker: str
    pid: int
    seconds: float


class RemoteCancel:
    """A ``threading.Event`` look-alike for executors on a worker, set from the client through a Dask Event.

    Executors look at ``cancel.is_set()`` between batches and blocks of steps; asking the scheduler each
    time would cost a round trip per look, so the answer is refreshed at most every ``CANCEL_POLL`` s.
    """

    def __init__(self, name: str):
        self.name = name
        self._set = False
        self._checked = float("-inf")
        self._event: Any = None

    def is_set(self) -> bool:
        if self._set:
            return True
        now = time.monotonic()
        if now - self._checked >= CANCEL_POLL:
            self._checked = now
            try:
                if self._event is None:
                    from distributed import Event

                    self._event = Event(self.name)
                self._set = bool(self._event.is_set())
            except Exception:  # no scheduler to ask (outside a worker, or it went away): keep running
                self._set = False
        return self._set

    def set(self) -> None:  # the executor contract only reads it; present for duck typing
        self._set = True


def run_task(executor: type, device: Any, options: Any, programs: Sequence[Any],
             experiment_ids: Sequence[int] | None, cancel_name: str | None) -> TaskResult:
    """Run ``programs`` (experiments ``experiment_ids`` of their job) and return their data.

    ``experiment_ids`` is None for executors that only run whole jobs: the task then holds the job.
    """
    started = time.perf_counter()
    cancel = RemoteCancel(cancel_name) if cancel_name else None
    kwargs = {} if experiment_ids is None else {"experiment_ids": list(experiment_ids)}
    with executor(device) as ex:
        data = ex.run(list(programs), options, None, cancel, **kwargs)
    try:
        from distributed import get_worker

        worker = get_worker().address
    except (ImportError, ValueError):
        worker = "not a worker"
    return TaskResult(data, worker, os.getpid(), time.perf_counter() - started)


def warm_worker() -> float:
    """Run on every worker of a fresh cluster: a one-shot pulse simulation, so that the imports and
    first-call costs (numpy, scipy, the simulator's modules) are paid before the first real job."""
    started = time.perf_counter()
    from workbench.core import prepare

    prepared = prepare("x-gate", "qutip-1q", shots=1, seed=0)
    with prepared.executor(prepared.device) as ex:
        ex.run(prepared.programs, prepared.options, None, None)
    return time.perf_counter() - started
