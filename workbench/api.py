"""What the CLI, the widgets, tune-up, scripts and services call to run jobs: serial or on Dask.

:mod:`workbench.core` runs a prepared job in this process; :mod:`workbench.parallel` spreads prepared
jobs over Dask workers. Both sit below this module, which only decides between them, so neither needs
the other and every caller gets the same behaviour from one place.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from workbench.core import Prepared, prepare
from workbench.core import execute as execute_here
from workbench.devices.model import Device
from workbench.errors import CancelledError
from workbench.executors.base import Progress
from workbench.jobs import Job
from workbench.parallel.spec import ParallelSpec, resolve
from workbench.results.result import Result

__all__ = ["analyse", "execute", "execute_batch", "prepare", "run", "run_batch"]

JobLike = Job | str | os.PathLike[str] | Mapping[str, Any]


def execute(
    prepared: Prepared,
    *,
    credentials: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    parallel: ParallelSpec = None,
) -> Result:
    """Run a prepared job and build its Result.

    ``parallel`` (``True``, a scheduler address ``"tcp://host:port"``, a ``distributed.Client`` or a
    :class:`workbench.parallel.Parallel`) spreads the experiments over Dask workers; the Result is the
    one a serial run gives (docs/parallel.md).
    """
    if resolve(parallel) is None:
        return execute_here(prepared, credentials=credentials, progress=progress, cancel=cancel)
    (result,) = execute_batch([prepared], credentials=credentials, progress=progress, cancel=cancel,
                              parallel=parallel)
    return result


def run(
    job: JobLike,
    device: str | Device | None = None,
    *,
    shots: int | None = None,
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
    config: str | os.PathLike[str] | None = None,
    credentials: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    parallel: ParallelSpec = None,
) -> Result:
    """Run a job on a device and return its :class:`~workbench.results.result.Result`.

    ``job`` is a path, JSON or OpenQASM text, a PulseQobj mapping, a :class:`~workbench.jobs.Job` or a
    built-in example name (:func:`workbench.jobs.loader.source_kind` says which). ``parallel=True``
    spreads the experiments over a local Dask cluster (a ``"tcp://host:port"`` scheduler address or a
    ``distributed.Client`` for an existing one) with the same result.

    >>> result = run("x-gate", device="qutip-1q", shots=1000, seed=7)  # doctest: +SKIP
    >>> result.counts()  # doctest: +SKIP
    {'1': 993, '0': 7}
    """
    prepared = prepare(job, device, shots=shots, seed=seed, options=options, config=config)
    return execute(prepared, credentials=credentials, progress=progress, cancel=cancel, parallel=parallel)


def execute_batch(
    prepared: Sequence[Prepared],
    *,
    credentials: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    parallel: ParallelSpec = True,
    errors: Literal["raise", "return"] = "raise",
) -> list[Any]:
    """Run prepared jobs, in parallel over Dask workers unless ``parallel`` is None/False.

    ``progress(done, total)`` counts experiments over all jobs. ``errors="raise"`` stops at the first
    failing job (cancelling the rest) and raises its error; ``"return"`` runs every job and puts a
    failed job's exception in its place in the list. A cancel always raises
    :class:`~workbench.errors.CancelledError`.
    """
    if errors not in ("raise", "return"):
        raise ValueError(f"errors must be 'raise' or 'return', got {errors!r}")
    spec = resolve(parallel)
    if spec is None:
        return _serial(prepared, credentials, progress, cancel, errors)
    from workbench.parallel.runner import execute_parallel  # Dask loads only when asked for

    return execute_parallel(prepared, spec, credentials=credentials, progress=progress, cancel=cancel, errors=errors)


def run_batch(
    jobs: Sequence[JobLike],
    device: str | Device | None = None,
    *,
    shots: int | None = None,
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
    config: str | os.PathLike[str] | None = None,
    credentials: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    parallel: ParallelSpec = True,
    errors: Literal["raise", "return"] = "raise",
) -> list[Any]:
    """Several jobs on one device with the same options, like ``workbench run A B C``.

    Every job is validated before any runs (bad input raises at once). Each job draws its own seed
    when none is given. Returns one Result per job, in order (or exceptions, with ``errors="return"``).
    """
    prepared = [prepare(job, device, shots=shots, seed=seed, options=options, config=config) for job in jobs]
    return execute_batch(prepared, credentials=credentials, progress=progress, cancel=cancel, parallel=parallel,
                         errors=errors)


def _serial(prepared: Sequence[Prepared], credentials: Mapping[str, Any] | None, progress: Progress | None,
            cancel: threading.Event | None, errors: str) -> list[Any]:
    total = sum(len(p.programs) for p in prepared)
    out: list[Any] = []
    base = 0
    for p in prepared:
        step = None
        if progress is not None:
            def step(done: int, _total: int, base: int = base) -> None:
                progress(base + done, total)
        try:
            out.append(execute_here(p, credentials=credentials, progress=step, cancel=cancel))
        except CancelledError:
            raise
        except Exception as exc:
            if errors == "raise":
                raise
            out.append(exc)
        base += len(p.programs)
        if progress is not None:
            progress(base, total)
    return out


def analyse(data: Any, analysis: str | None = None, **options: Any) -> Any:
    """Run an analysis on a Result (kept in it, so its export holds ``analysis.json``), a Dataset, or the
    path of an output folder, a ``dataset.nc`` or a tune-up history entry's ``dataset.nc``; returns the
    :class:`~workbench.analysis.base.AnalysisResult`. ``analysis`` names one of
    ``workbench.analysis.ANALYSES`` (default: the one the data calls for)."""
    from workbench.analysis import analyse as run_analysis
    from workbench.analysis import load

    if isinstance(data, Result):
        return data.analyse(analysis, **options)
    if isinstance(data, str | os.PathLike):
        ds = load(data)
        if str(ds.attrs.get("schema", "")).startswith("workbench-result/"):
            from workbench.results.dataset import decoded

            ds = decoded(ds)
        data = ds
    return run_analysis(data, analysis, **options)
