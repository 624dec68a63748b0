"""Jobs cut into Dask tasks, run, and merged back into the Results a serial run gives.

Where each job runs is decided before anything is submitted:

* ``workers``: a simulator's experiments in tasks. An executor whose ``run`` takes ``experiment_ids``
  is split: into its own batches when it names them (``batch_plan``: the pulse simulator shares
  propagators inside a batch, so a batch is never cut or merged, which keeps results bit-identical),
  else into chunks of about four tasks per worker. Any other executor runs each job as one task.
* ``client``: executors of kind ``hardware`` (one instrument, driven from this process, one job at a
  time: a lab's cluster is reachable from the lab machine, and its lock is a lock of this machine) and
  runs with credentials (secrets are never pickled to a worker).
* ``twin``: a Qblox dummy cluster. Its digital twin's simulation (``twin_job``) goes to the workers as
  tasks; the dummy cluster, which lives in a process, then runs here with the twin's data.

The calling thread waits for events on one queue (task futures finishing, progress and results of the
jobs run here on a helper thread), so ``progress`` is always called from the caller's thread and
``cancel`` is looked at every 0.1 s.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from workbench.core import Prepared, build_result, run_secrets
from workbench.errors import CancelledError, ExecutionError, WorkbenchError
from workbench.executors.base import ExecutionData, Progress, QuantumExecutor
from workbench.parallel.cluster import Connection, connect
from workbench.parallel.merge import merge
from workbench.parallel.spec import Parallel
from workbench.parallel.tasks import TaskResult, run_task
from workbench.results.result import Result

log = logging.getLogger(__name__)

POLL = 0.1  # s between looks at ``cancel`` while waiting
WATCH = 2.0  # s between checks that the cluster still has workers
TASKS_PER_SLOT = 4  # chunks per worker thread for freely split executors: balance against per-task overhead

WORKERS, CLIENT, TWIN = "workers", "client", "twin"
_run_ids = itertools.count(1)


def ranges(ids: Sequence[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2,5"``: which experiments a task held, short enough for the trace."""
    out: list[str] = []
    ordered = sorted(ids)
    start = prev = None
    for i in [*ordered, None]:
        if start is not None and (i is None or i != prev + 1):
            out.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = None
        if i is not None and start is None:
            start = i
        prev = i
    return ",".join(out)


@dataclass(eq=False)
class _Job:
    index: int
    prepared: Prepared
    secrets: dict[str, Any]
    where: str = WORKERS
    reason: str = ""
    task_executor: type[QuantumExecutor] | None = None  # what the worker tasks run: the job's executor or its twin's
    task_options: Any = None
    split: bool = False  # tasks get experiment_ids
    units: list[list[int]] = field(default_factory=list)
    parts: dict[int, tuple[list[int], ExecutionData]] = field(default_factory=dict)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    resubmitted: int = 0
    done: int = 0
    data: ExecutionData | None = None
    error: BaseException | None = None
    finished_at: float | None = None
    twin_data: ExecutionData | None = None
    twin_ready: threading.Event = field(default_factory=threading.Event)

    @property
    def size(self) -> int:
        return len(self.prepared.programs)

    @property
    def finished(self) -> bool:
        return self.data is not None or self.error is not None

    @property
    def name(self) -> str:
        return self.prepared.job.name


def _place(job: _Job) -> None:
    """Decide where a job runs (no cluster needed yet)."""
    cls = job.prepared.executor
    if job.secrets:
        job.where, job.reason = CLIENT, "the run has credentials, which never leave this process"
        return
    if cls.kind == "hardware":
        twin = cls(job.prepared.device).twin_simulation(job.prepared.programs, job.prepared.options)
        if twin is None:
            job.where, job.reason = CLIENT, "hardware: driven from this process, one hardware job at a time"
            return
        job.where = TWIN
        job.reason = "dummy instrument: its twin's simulation on the workers, the instrument in this process"
        job.task_executor, job.task_options = twin.executor, twin.options
        probe = job.task_executor(job.prepared.device)
        probe.check(job.prepared.programs, job.task_options)  # what the twin itself checks in a serial run
        return
    job.where, job.task_executor, job.task_options = WORKERS, cls, job.prepared.options
    job.reason = ("experiments in tasks" if cls.runs_experiment_subsets
                  else "the whole job in one task (its executor does not run experiment subsets)")


def _cut(job: _Job, slots: int, chunk_size: int | None) -> None:
    """The tasks of a job that runs (or simulates its twin) on the workers."""
    assert job.task_executor is not None
    n = job.size
    job.split = job.task_executor.runs_experiment_subsets
    if not job.split or n <= 1:
        job.units = [list(range(n))]
        return
    plan = job.task_executor(job.prepared.device).batch_plan(job.prepared.programs, job.task_options)
    if plan is not None:
        job.units = [list(u) for u in plan if u]
        job.reason += " (the executor's own batches, never cut: bit-identical to a serial run)"
        return
    size = chunk_size or max(1, math.ceil(n / (TASKS_PER_SLOT * slots)))
    job.units = [list(range(i, min(i + size, n))) for i in range(0, n, size)]


class _Run:
    """One call of :func:`execute_parallel`."""

    def __init__(self, prepared: Sequence[Prepared], spec: Parallel, credentials: Mapping[str, Any] | None,
                 progress: Progress | None, cancel: threading.Event | None, errors: str):
        self.jobs = [_Job(i, p, run_secrets(p, credentials)) for i, p in enumerate(prepared)]
        self.spec = spec
        self.progress = progress
        self.cancel = cancel
        self.raise_errors = errors == "raise"
        self.events: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self.stop = threading.Event()  # tells the helper thread (and the executors it runs) to stop
        self.connection: Connection | None = None
        self.futures: dict[str, tuple[_Job, int, list[int], int, Any]] = {}
        self.token = f"{os.getpid()}-{next(_run_ids)}-{secrets.token_hex(3)}"
        self.cancel_name = f"workbench-cancel-{self.token}"
        self.helper: threading.Thread | None = None
        self.worker_count = 0
        self._reported = -1
        self._no_workers_since: float | None = None
        self._watched = 0.0

    # -------------------------------------------------------------------------------------------- run
    def run(self) -> list[Result | BaseException]:
        started_at = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        try:
            for job in self.jobs:
                self._guard(job, _place, job)
            if any(j.where != CLIENT and not j.finished for j in self.jobs):
                spec = self.spec
                self.connection = connect(spec.scheduler, spec.workers, spec.timeout, spec.client)
                slots = self.connection.worker_slots()
                self.worker_count = len(self.connection.workers())
                for job in self.jobs:
                    if job.where != CLIENT and not job.finished:
                        self._guard(job, _cut, job, slots, spec.chunk_size)
            t_ready = time.perf_counter()
            for job in self.jobs:
                if job.where != CLIENT and not job.finished:
                    for unit_no, ids in enumerate(job.units):
                        self._submit(job, unit_no, ids, 1)
            if any(j.where in (CLIENT, TWIN) and not j.finished for j in self.jobs):
                self.helper = threading.Thread(target=self._run_here, name="workbench-parallel-here", daemon=True)
                self.helper.start()
            self._loop()
        except BaseException:
            self._abort()
            raise
        finally:
            self._join_helper()
            if self.connection is not None:
                self.connection.close()
        return [self._result(job, started_at, t_ready - t0, t_ready) for job in self.jobs]

    def _guard(self, job: _Job, step: Callable[..., None], *args: Any) -> None:
        """Planning errors belong to their job (bad input found late, e.g. by the twin's check)."""
        try:
            step(*args)
        except WorkbenchError as exc:
            if self.raise_errors:
                raise
            job.error = exc

    def _loop(self) -> None:
        while not all(job.finished for job in self.jobs):
            if self.cancel is not None and self.cancel.is_set():
                raise CancelledError("run cancelled")
            try:
                event = self.events.get(timeout=POLL)
            except queue.Empty:
                event = None
            while event is not None:
                self._handle(event)
                try:
                    event = self.events.get_nowait()
                except queue.Empty:
                    event = None
            self._report()
            self._watch()
        self._report()

    # ------------------------------------------------------------------------------------------ tasks
    def _submit(self, job: _Job, unit_no: int, ids: list[int], attempt: int) -> None:
        assert self.connection is not None
        key = f"workbench-{self.token}-{job.index}-{unit_no}-{attempt}"
        programs = [job.prepared.programs[i] for i in ids]
        future = self.connection.client.submit(
            run_task, job.task_executor, job.prepared.device, job.task_options, programs,
            ids if job.split else None, self.cancel_name, key=key, pure=False, priority=-job.index, retries=0)
        self.futures[key] = (job, unit_no, ids, attempt, future)
        future.add_done_callback(lambda f: self.events.put(("task", f.key)))

    def _handle(self, event: tuple[Any, ...]) -> None:
        kind = event[0]
        if kind == "task":
            entry = self.futures.pop(event[1], None)
            if entry is not None:
                self._task_done(*entry)
        elif kind == "progress":
            job, done = event[1], event[2]
            job.done = max(job.done, min(int(done), job.size))
        elif kind == "done":
            job, data = event[1], event[2]
            if not job.finished:
                self._finish(job, data)
        elif kind == "failed":
            job, exc = event[1], event[2]
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise exc
            if not job.finished:
                self._fail(job, exc)

    def _task_done(self, job: _Job, unit_no: int, ids: list[int], attempt: int, future: Any) -> None:
        if job.finished:
            return
        status = future.status
        where = f"experiments {ranges(ids)} of job '{job.name}'"
        if status == "finished":
            try:
                result: TaskResult = future.result()
            except Exception as exc:  # the result could not be fetched (its worker died meanwhile)
                self._retry_or_fail(job, unit_no, ids, attempt, exc, where)
                return
            job.parts[unit_no] = (ids, result.data)
            job.tasks.append({"experiments": ranges(ids), "worker": result.worker, "seconds": round(result.seconds, 6),
                              "attempt": attempt})
            if job.where == WORKERS:
                job.done += len(ids)
            if len(job.parts) == len(job.units):
                merged = merge([job.parts[u] for u in sorted(job.parts)], job.size, job.task_executor.info_merge)
                if job.where == TWIN:
                    job.twin_data = merged
                    job.twin_ready.set()
                else:
                    self._finish(job, merged)
        elif status == "error":
            self._retry_or_fail(job, unit_no, ids, attempt, future.exception(), where)
        else:  # cancelled or lost: the scheduler forgot the task (it restarted, or we lost it)
            assert self.connection is not None
            if self.connection.client.status != "running":
                self._fail(job, ExecutionError(f"lost the connection to the Dask scheduler "
                                               f"({self.connection.description}) while running {where}"))
            else:
                self._fail(job, ExecutionError(f"the Dask task for {where} was {status} (the scheduler restarted?)"))

    def _retry_or_fail(self, job: _Job, unit_no: int, ids: list[int], attempt: int, exc: BaseException | None,
                       where: str) -> None:
        from distributed import KilledWorker

        if isinstance(exc, KilledWorker) or exc is None or isinstance(exc, OSError):
            if attempt <= self.spec.resubmits:
                log.warning("workers died while running %s; submitting it again", where)
                job.resubmitted += 1
                self._submit(job, unit_no, ids, attempt + 1)
                return
            exc = ExecutionError(f"Dask workers kept dying while running {where} ({type(exc).__name__}; "
                                 f"{attempt} submission(s)); look for memory limits or crashes in the worker logs")
        self._fail(job, exc)

    def _finish(self, job: _Job, data: ExecutionData) -> None:
        job.data = data
        job.done = job.size
        job.finished_at = time.perf_counter()
        job.twin_ready.set()

    def _fail(self, job: _Job, exc: BaseException) -> None:
        job.error = exc
        job.finished_at = time.perf_counter()
        job.twin_ready.set()
        mine = [key for key, entry in self.futures.items() if entry[0] is job]
        self._cancel_futures(mine)
        if self.raise_errors:
            raise exc

    def _cancel_futures(self, keys: list[str]) -> None:
        futures = [self.futures.pop(key)[4] for key in keys if key in self.futures]
        if futures and self.connection is not None:
            try:
                self.connection.client.cancel(futures, force=True)
            except Exception as exc:
                log.debug("cancelling Dask futures: %s", exc)

    def _watch(self) -> None:
        """Fail instead of waiting forever when the cluster has lost every worker (or its scheduler)."""
        now = time.monotonic()
        if self.connection is None or not self.futures or now - self._watched < WATCH:
            return
        self._watched = now
        try:
            workers = len(self.connection.client.nthreads())
        except Exception as exc:
            raise ExecutionError(f"lost the Dask scheduler ({self.connection.description}): "
                                 f"{type(exc).__name__}") from None
        if workers:
            self._no_workers_since = None
            return
        self._no_workers_since = self._no_workers_since or now
        if now - self._no_workers_since > self.spec.timeout:
            error = ExecutionError(f"the Dask cluster ({self.connection.description}) has had no workers for "
                                   f"{self.spec.timeout:g} s")
            for job in self.jobs:
                if not job.finished and any(entry[0] is job for entry in self.futures.values()):
                    self._fail(job, error)

    # --------------------------------------------------------------------------------- jobs run here
    def _run_here(self) -> None:
        """Hardware and credentialed jobs, one after another, in job order (never two at once)."""
        for job in self.jobs:
            if job.where not in (CLIENT, TWIN) or job.finished:
                continue
            if job.where == TWIN:
                while not job.twin_ready.wait(POLL):
                    if self.stop.is_set():
                        return
                if job.finished or job.twin_data is None:
                    continue
            if self.stop.is_set():
                return
            try:
                kwargs: dict[str, Any] = {}
                if job.where == TWIN:
                    kwargs["twin_data"] = job.twin_data
                with job.prepared.executor(job.prepared.device, job.secrets) as executor:
                    data = executor.run(job.prepared.programs, job.prepared.options,
                                        lambda done, total, job=job: self.events.put(("progress", job, done)),
                                        self.stop, **kwargs)
                self.events.put(("done", job, data))
            except BaseException as exc:  # handed to the calling thread, which decides
                self.events.put(("failed", job, exc))
                if not isinstance(exc, Exception):
                    return

    def _join_helper(self) -> None:
        if self.helper is None:
            return
        self.stop.set()
        while self.helper.is_alive():  # an instrument run stops at its next look at the flag
            self.helper.join(POLL)

    # ------------------------------------------------------------------------------------- the end
    def _abort(self) -> None:
        """Cancel: stop the helper thread, tell running tasks (through the Dask Event), drop queued ones."""
        self.stop.set()
        if self.connection is None:
            return
        try:
            from distributed import Event

            Event(self.cancel_name, client=self.connection.client).set()
        except Exception as exc:
            log.debug("setting the cancel event: %s", exc)
        self._cancel_futures(list(self.futures))

    def _report(self) -> None:
        if self.progress is None:
            return
        done = sum(job.size if job.finished else job.done for job in self.jobs)  # a failed job is done too
        if done != self._reported:
            self._reported = done
            self.progress(done, sum(job.size for job in self.jobs))

    def _result(self, job: _Job, started_at: dt.datetime, prepare_seconds: float,
                t_ready: float) -> Result | BaseException:
        if job.data is None:
            return job.error or ExecutionError(f"job '{job.name}' did not finish")
        connection = self.connection
        trace = {
            "scheduler": connection.description if connection is not None and job.where != CLIENT else None,
            "workers": self.worker_count if job.where != CLIENT else 0,
            "where": job.where,
            "reason": job.reason,
            "tasks": sorted(job.tasks, key=lambda t: int(t["experiments"].split(",")[0].split("-")[0])),
            "resubmitted": job.resubmitted,
            "seeds": "experiment e uses the seeds of its place e in the job, whichever task ran it",
        }
        if connection is not None and connection.warnings:
            trace["warnings"] = list(connection.warnings)
        finished = job.finished_at or time.perf_counter()
        return build_result(job.prepared, job.data, started_at=started_at, prepare_seconds=prepare_seconds,
                            run_seconds=max(0.0, finished - t_ready), trace_extra={"parallel": trace})


def execute_parallel(
    prepared: Sequence[Prepared],
    spec: Parallel,
    *,
    credentials: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    errors: Literal["raise", "return"] = "raise",
) -> list[Result | BaseException]:
    """Run prepared jobs on the Dask cluster ``spec`` describes (see :func:`workbench.api.execute_batch`)."""
    return _Run(prepared, spec, credentials, progress, cancel, errors).run()
