"""Runs prepared jobs one after another on a background thread, so a notebook stays responsive.

Runs queue in submission order (FIFO) behind one worker thread: an instrument is used by one run at
a time, and results arrive in the order they were asked for. Each run is a :class:`RunRecord` that
reports its state, per-experiment progress and, when it fails, one line (never a traceback): a
failing run changes nothing but its own record, so earlier results stay where they are.

Observers (:attr:`Runner.observers`) are called as ``observer(record, event)`` with ``event`` one of
``queued``, ``started``, ``progress``, ``finished`` (whatever the outcome: look at ``record.state``).
They run on the worker thread, before :meth:`Runner.wait` returns.

Credentials are handed to :meth:`Runner.submit` as :class:`~workbench.options.Secret` values, kept in
the record only until its run ends (or is cancelled) and then dropped.

Other work that uses the instrument (a tune-up routine, writing its calibration) joins the same queue
through :meth:`Runner.submit_task`: a task is a callable ``task(progress, cancel)`` whose return value
lands in ``record.value``, with the same progress, cancel and one-line error handling as a run.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.api import execute
from workbench.core import Prepared
from workbench.errors import CancelledError, WorkbenchError
from workbench.executors.base import Progress
from workbench.options import Secret
from workbench.results.result import Result

log = logging.getLogger("workbench.ui")

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED_STATES = (DONE, FAILED, CANCELLED)

Task = Callable[[Progress, threading.Event], Any]  # runs on the worker thread; raises CancelledError when told


def one_line_error(exc: BaseException) -> str:
    """What a user sees for a failed run: the workbench's own message, or one line naming an internal error."""
    if isinstance(exc, WorkbenchError):
        return " ".join(str(exc).split())
    message = " ".join(str(exc).split())[:300]
    return f"internal error ({type(exc).__name__}: {message})"


@dataclass(eq=False)
class RunRecord:
    """One submitted run (or task): its state, progress over experiments, and its result or error."""

    id: int
    label: str
    total: int  # experiments (0 while a task does not know yet)
    state: str = QUEUED
    done: int = 0
    result: Result | None = None  # a run's Result
    value: Any = None  # what a task returned
    error: str | None = None
    seconds: float | None = None  # duration of the run, for the status line only
    _prepared: Prepared | None = field(default=None, repr=False)
    _task: Task | None = field(default=None, repr=False)
    _credentials: dict[str, Secret] | None = field(default=None, repr=False)
    _parallel: Any = field(default=None, repr=False)  # passed to api.execute: None (serial), True, an address
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _settled: threading.Event = field(default_factory=threading.Event, repr=False)  # finished, observers told

    def __reduce__(self):  # may hold credentials until it has run
        raise TypeError("a RunRecord cannot be pickled")

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until this record has finished and its observers were told; False on timeout."""
        return self._settled.wait(timeout)

    def describe(self) -> str:
        """One line for a status display."""
        head = f"#{self.id} {self.label}"
        if self.state == QUEUED:
            return f"{head}: queued"
        if self.state == RUNNING:
            return f"{head}: running, {self.done}/{self.total} experiments" if self.total else f"{head}: running"
        if self.state == DONE:
            took = f" in {self.seconds:.1f} s" if self.seconds is not None else ""
            return f"{head}: done{took}"
        if self.state == CANCELLED:
            return f"{head}: cancelled"
        return f"{head}: failed: {self.error}"


class Runner:
    """A FIFO queue of prepared runs executed by one background thread."""

    def __init__(self, name: str = "workbench-runner"):
        self.observers: list[Callable[[RunRecord, str], None]] = []
        self._name = name
        self._queue: deque[RunRecord] = deque()
        self._records: list[RunRecord] = []
        self._current: RunRecord | None = None
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._paused = False
        self._closing = False

    def __repr__(self) -> str:
        return f"<Runner {self.status}>"

    # -- submitting -----------------------------------------------------------------------------
    def submit(self, prepared: Prepared, *, credentials: Mapping[str, Any] | None = None,
               label: str | None = None, parallel: Any = None) -> RunRecord:
        """Queue a run; it starts when the runs before it have finished. ``parallel`` is
        :func:`workbench.api.execute`'s: the run's experiments spread over Dask workers."""
        if self._closing:
            raise WorkbenchError("the runner is closed")
        secrets_ = {k: v if isinstance(v, Secret) else Secret(v) for k, v in (credentials or {}).items()}
        record = RunRecord(next(self._ids), label or f"{prepared.job.name} on {prepared.device.name}",
                           len(prepared.programs), _prepared=prepared, _credentials=secrets_ or None,
                           _parallel=parallel)
        return self._enqueue(record)

    def submit_task(self, task: Task, *, label: str, total: int = 0) -> RunRecord:
        """Queue other work that needs the instrument (see the module doc); ``total`` experiments if known."""
        if self._closing:
            raise WorkbenchError("the runner is closed")
        return self._enqueue(RunRecord(next(self._ids), label, total, _task=task))

    def _enqueue(self, record: RunRecord) -> RunRecord:
        with self._condition:
            self._queue.append(record)
            self._records.append(record)
            self._ensure_thread()
            self._condition.notify_all()
        self._notify(record, "queued")
        return record

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
            self._thread.start()

    # -- control --------------------------------------------------------------------------------
    def cancel(self, record: RunRecord | None = None) -> bool:
        """Cancel one run (default: the running one). A queued run never starts; a running one stops at
        the executor's next check. Returns False when there was nothing to cancel."""
        with self._condition:
            target = record or self._current
            if target is None or target.finished:
                return False
            target._cancel.set()
            if target.state == QUEUED and target in self._queue:
                self._queue.remove(target)
                self._finish(target, CANCELLED)
                queued_cancel = True
            else:
                queued_cancel = False
            self._condition.notify_all()
        if queued_cancel:
            self._notify(target, "finished")
            target._settled.set()
            with self._condition:
                self._condition.notify_all()
        return True

    def cancel_all(self) -> int:
        """Cancel the running run and everything queued; returns how many runs were cancelled."""
        with self._condition:
            targets = [r for r in [self._current, *self._queue] if r is not None and not r.finished]
        return sum(self.cancel(r) for r in targets)

    def pause(self) -> None:
        """Hold the queue: the running run finishes, the next ones wait for :meth:`resume`."""
        with self._condition:
            self._paused = True

    def resume(self) -> None:
        with self._condition:
            self._paused = False
            self._condition.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing runs and nothing queued can start (observers included); False on timeout.

        A held queue (:meth:`pause`) counts as settled once the running run has finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while self._current is not None or (self._queue and not self._paused):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True

    def close(self, timeout: float | None = None) -> None:
        """Cancel everything and stop the worker thread (bounded by ``timeout``)."""
        self.cancel_all()
        with self._condition:
            self._closing = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -- state ----------------------------------------------------------------------------------
    @property
    def current(self) -> RunRecord | None:
        return self._current

    @property
    def queued(self) -> list[RunRecord]:
        with self._condition:
            return list(self._queue)

    @property
    def records(self) -> list[RunRecord]:
        """Every run submitted, in order."""
        with self._condition:
            return list(self._records)

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._queue)

    @property
    def status(self) -> str:
        """One line: what runs now and how many wait, or how the last run ended."""
        with self._condition:
            current, waiting, records = self._current, len(self._queue), list(self._records)
        tail = f"; {waiting} queued" if waiting else ""
        if self._paused and waiting:
            tail += " (queue on hold)"
        if current is not None:
            return current.describe() + tail
        finished = [r for r in records if r.finished]
        if waiting:
            return f"waiting{tail}"
        if finished:
            return f"idle; last run {finished[-1].describe()}"
        return "idle"

    # -- worker ---------------------------------------------------------------------------------
    def _notify(self, record: RunRecord, event: str) -> None:
        for observer in list(self.observers):
            try:
                observer(record, event)
            except Exception:  # a broken view must not stop the queue
                log.exception("runner observer %r failed on %s", observer, event)

    def _finish(self, record: RunRecord, state: str, error: str | None = None) -> None:
        record.state = state
        record.error = error
        record._credentials = None  # dropped whatever happened
        record._prepared = None
        record._task = None

    def _work(self) -> None:
        while True:
            with self._condition:
                while not self._closing and (self._paused or not self._queue):
                    self._condition.wait()
                if self._closing:
                    return
                record = self._queue.popleft()
                self._current = record
                record.state = RUNNING
            try:
                self._notify(record, "started")
                self._run(record)
                self._notify(record, "finished")
            finally:
                record._settled.set()
                with self._condition:
                    self._current = None
                    self._condition.notify_all()

    def _run(self, record: RunRecord) -> None:
        prepared, credentials, task = record._prepared, record._credentials, record._task
        assert prepared is not None or task is not None
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            record.done, record.total = done, total
            self._notify(record, "progress")

        try:
            if record._cancel.is_set():
                raise CancelledError("run cancelled")
            if task is not None:
                record.value, result = task(progress, record._cancel), None
            else:
                result = execute(prepared, credentials=credentials, progress=progress, cancel=record._cancel,
                                 parallel=record._parallel)
        except CancelledError:
            self._finish(record, CANCELLED)
            log.info("run #%d cancelled", record.id)
        except Exception as exc:  # one line for the user; the traceback only in the debug log
            self._finish(record, FAILED, one_line_error(exc))
            log.warning("run #%d failed: %s", record.id, record.error)
            if not isinstance(exc, WorkbenchError):
                log.debug("run #%d internal error", record.id, exc_info=True)
        else:
            record.result = result
            record.done = record.total
            record.seconds = time.perf_counter() - started
            self._finish(record, DONE)
