"""Runs stored jobs off the request threads: dispatch threads fed by a queue of job ids.

Each dispatch thread claims a job in the store (``queued`` -> ``running``, one SQL statement, so a job
runs once), prepares it like the CLI does, runs it through :func:`workbench.api.execute` and keeps the
run in the data directory. The run itself goes through the Dask path (docs/parallel.md): the process's
LocalCluster by default, started with the server and kept until it stops (its worker processes compute
on every core, which threads of one interpreter cannot), or the ``--scheduler`` given; ``--executor-pool
threads`` runs jobs in the dispatch threads instead. ``execute`` returns only when the run is over, so
the thread waits meanwhile and the lock it holds covers the whole run: jobs on a hardware device run one
at a time behind that device's lock (the Qblox executor also takes its cluster's file lock). Credentials
are kept here, in memory, for one run; they never reach the store (nor a worker: runs with credentials
stay in this process, see :mod:`workbench.parallel`).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Mapping
from typing import Any

from workbench.errors import CancelledError, CredentialsRejectedError, WorkbenchError
from workbench.options import Secret
from workbench.parallel.spec import ENV_SCHEDULER
from workbench.serve.settings import Settings
from workbench.serve.store import (
    AWAITING_AUTH,
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    STOPPED_REASON,
    JobRecord,
    JobStore,
)

log = logging.getLogger("workbench.serve")


def job_from_text(text: str, origin: str) -> Any:
    """A Job from request text, never from a path: JSON (PulseQobj or Tergite envelope) or OpenQASM."""
    from workbench.jobs.loader import load_job, load_qasm, source_kind

    kind = source_kind(text, pasted=True)
    if kind == "json":
        return load_job(text)
    return load_qasm(text, origin)


def prepare_record(rec: JobRecord, catalogue: Any) -> Any:
    """The job of a record prepared exactly as ``workbench run`` would (raises InputError)."""
    from workbench.core import prepare

    job = job_from_text(rec.source or "", rec.request.get("origin", "job"))
    return prepare(job, rec.device, options=rec.request.get("options") or None,
                   options_source=rec.request.get("options_source", "options"),
                   flags=rec.request.get("flags") or None, catalogue=catalogue)


def parallel_of(settings: Settings) -> Any:
    """What the runs' ``parallel=`` is: the scheduler given, else the local cluster (``True``, which takes
    ``$WORKBENCH_DASK_SCHEDULER`` when set, as everywhere), or None for in-process runs (``threads``)."""
    if settings.scheduler:
        return settings.scheduler
    return True if settings.pool == "dask" else None


class JobRunner:
    """The server's queue and workers."""

    def __init__(self, store: JobStore, settings: Settings, catalogue: Any):
        self.store = store
        self.settings = settings
        self.catalogue = catalogue
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._credentials: dict[str, dict[str, Secret]] = {}
        self._cancels: dict[str, threading.Event] = {}
        self._device_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self.parallel = parallel_of(settings)
        self.local_cluster = self.parallel is True and not os.environ.get(ENV_SCHEDULER, "").strip()
        self.cluster_timings: dict[str, float] = {}

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        if self.local_cluster:  # in the background: the server answers at once, early jobs wait for it
            threading.Thread(target=self._start_cluster, name="workbench-serve-cluster", daemon=True).start()
        for job_id in self.store.recover():
            self._queue.put(job_id)
        for i in range(max(1, self.settings.workers)):
            t = threading.Thread(target=self._work, name=f"workbench-serve-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def _start_cluster(self) -> None:
        from workbench.parallel.cluster import start_local_cluster

        try:
            self.cluster_timings = start_local_cluster()
        except WorkbenchError as exc:  # every job will fail with this line; the server keeps answering
            log.error("%s", exc)
            return
        log.info("local Dask cluster ready: started in %.1f s, workers warmed in %.1f s",
                 self.cluster_timings["start"], self.cluster_timings.get("warm", 0.0))

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the workers: running jobs are cancelled and marked failed (server stopped), queued ones stay
        queued for the next start."""
        self._stopping = True
        with self._lock:
            for event in self._cancels.values():
                event.set()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()
        if self.local_cluster:  # its worker processes end with the server
            from workbench.parallel.cluster import close_local_cluster

            close_local_cluster()

    # -- requests -------------------------------------------------------------------------------
    def enqueue(self, job_id: str, credentials: Mapping[str, Any] | None = None) -> None:
        """Queue a job already in state ``queued``; credentials are held for its run only."""
        if credentials:
            with self._lock:
                self._credentials[job_id] = {k: v if isinstance(v, Secret) else Secret(v)
                                             for k, v in credentials.items()}
        self._queue.put(job_id)

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job at once, a running one at its executor's next check; False when final."""
        if self.store.transition(job_id, (QUEUED, "registered", "awaiting-auth"), CANCELLED,
                                 error="cancelled before it ran"):
            with self._lock:
                self._credentials.pop(job_id, None)
            return True
        with self._lock:
            event = self._cancels.get(job_id)
        if event is not None:
            event.set()
            return True
        return False

    # -- work -----------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None or self._stopping:
                return
            if not self.store.transition(job_id, (QUEUED,), RUNNING):
                continue  # cancelled meanwhile, or a duplicate entry in the queue
            with self._lock:
                credentials = self._credentials.pop(job_id, None)
                cancel = self._cancels.setdefault(job_id, threading.Event())
            try:
                self._run(self.store.get(job_id), credentials, cancel)
            finally:
                with self._lock:
                    self._cancels.pop(job_id, None)

    def _device_lock(self, name: str) -> threading.Lock:
        with self._lock:
            return self._device_locks.setdefault(name, threading.Lock())

    def _run(self, rec: JobRecord, credentials: Mapping[str, Secret] | None, cancel: threading.Event) -> None:
        from workbench.api import execute

        try:
            prepared = prepare_record(rec, self.catalogue)
            missing = [n for n in prepared.executor.needs_credentials
                       if n not in (credentials or {}) and n not in prepared.options.secrets]
            if missing and rec.api == "qhana":  # credentials are never stored: after a restart, ask again
                self.store.transition(rec.id, (RUNNING,), AWAITING_AUTH)
                self.store.append_log(rec.id, "Started authentication task (credentials needed again)")
                return
            parallel = self.parallel
            if prepared.executor.kind == "hardware":
                with self._device_lock(prepared.device.name):  # execute returns when the run is over
                    started = time.time()
                    result = execute(prepared, credentials=credentials, cancel=cancel, parallel=parallel)
                    finished = time.time()
            else:
                started = time.time()
                result = execute(prepared, credentials=credentials, cancel=cancel, parallel=parallel)
                finished = time.time()
            folder = result.to_datadir(self.settings.datadir)
            from workbench.results.tergite import tergite_result

            document = tergite_result(result) or {}
            document["seed"] = result.options.get("seed")
            document["shots"] = result.options.get("shots")
            document["started"], document["finished"] = started, finished  # the run, seconds since the epoch
            self.store.transition(rec.id, (RUNNING,), DONE, tuid=result.tuid, folder=str(folder),
                                  document=document)
            self.store.append_log(rec.id, "Finished running the job.")
        except CancelledError:
            if self._stopping:
                self._fail(rec, STOPPED_REASON)
            else:
                self.store.transition(rec.id, (RUNNING,), CANCELLED, error="cancelled while running")
        except CredentialsRejectedError as exc:
            if rec.api == "qhana":  # the plugin's authentication step again, with the reason in the log
                self.store.transition(rec.id, (RUNNING,), AWAITING_AUTH)
                self.store.append_log(rec.id, f"credentials rejected: {exc}; started authentication task again")
            else:
                self._fail(rec, str(exc))
        except WorkbenchError as exc:
            self._fail(rec, str(exc))
        except Exception as exc:  # a bug: the job fails with one line, the log keeps the traceback
            log.exception("job %s failed with an internal error", rec.id)
            self._fail(rec, f"internal error ({type(exc).__name__}: {' '.join(str(exc).split())[:300]})")

    def _fail(self, rec: JobRecord, message: str) -> None:
        self.store.transition(rec.id, (RUNNING,), FAILED, error=message)
        self.store.append_log(rec.id, f"error: {message}")
