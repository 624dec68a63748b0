"""The executor core: job -> IR -> executor -> Dataset, in this process.

:mod:`workbench.api` is what the CLI, the widgets, tune-up and scripts call: it adds the choice
between this serial path and Dask (:mod:`workbench.parallel`), which both build on this module.

Everything that can be wrong with the input (job, device, options) is checked before the executor
starts, so a bad input never costs a run and never produces a partial result.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench import budgets
from workbench._version import __version__
from workbench.circuits.program import CircuitProgram
from workbench.devices.catalogue import Catalogue
from workbench.devices.model import Device
from workbench.errors import InputError, JobError, UnsupportedError, WorkbenchError
from workbench.executors.base import ExecutionData, Progress, QuantumExecutor
from workbench.executors.registry import executor_class, load_catalogue
from workbench.jobs import Job, load_job
from workbench.jobs.loader import source_kind
from workbench.options import COMMON_OPTIONS, OptionSpec, ResolvedOptions, Secret, resolve_options, without_credentials
from workbench.readout import discriminate_slots
from workbench.results.dataset import build_dataset, unstorable
from workbench.results.qhana import new_run_id, output_options, qpu_type
from workbench.results.result import Result
from workbench.schedule.cost import estimates
from workbench.schedule.detuning import far_frame_warnings
from workbench.schedule.ir import Schedule

log = logging.getLogger("workbench")


def new_tuid(now: dt.datetime | None = None) -> str:
    """A quantify-core style time-based unique id: ``20261121-213000-123-a1b2c3``."""
    now = now or dt.datetime.now()
    return f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}-{secrets.token_hex(3)}"


def option_specs(executor: type[QuantumExecutor]) -> tuple[OptionSpec, ...]:
    """Common options plus the executor's own (an executor may redefine a common one)."""
    own = {s.name for s in executor.options}
    return tuple(s for s in COMMON_OPTIONS if s.name not in own) + tuple(executor.options)


@contextmanager
def about_job(job: Job) -> Iterator[None]:
    """Put the job's file name in front of input errors located in it (``experiments[0]: ...``).

    Executors and the device translation know experiments by index, not the file they came from; the
    user reading the one-line error needs both.
    """
    try:
        yield
    except InputError as exc:
        origin = getattr(job, "origin", None)
        if origin is None or exc.source is not None or not (exc.location or "").startswith("experiments["):
            raise
        raise type(exc)(exc.message, exc.location, origin) from None


def _is_example_name(source: Any) -> bool:
    return isinstance(source, str) and source_kind(source) == "example"


@dataclass
class Prepared:
    """A job ready to run: everything validated, nothing executed yet."""

    job: Job
    device: Device
    executor: type[QuantumExecutor]
    options: ResolvedOptions
    programs: list[Schedule] | list[CircuitProgram]  # what the executor consumes (see QuantumExecutor.consumes)
    compile_seconds: float
    warnings: tuple[str, ...] = ()  # found while preparing (frames far from the device), reported by the run


def job_and_device(
    job: Job | str | os.PathLike[str] | Mapping[str, Any],
    device: str | Device | None = None,
    *,
    config: str | os.PathLike[str] | None = None,
    catalogue: Catalogue | None = None,
) -> tuple[Job, Device]:
    """The job loaded and the device it runs on: the given one, else the job's backend when the
    catalogue has it, else ``aer-simulator`` for circuits and ``qutip-1q`` for pulse jobs. Examples are
    built for the device. What :func:`prepare` starts with; the schedule views stop here."""
    if isinstance(device, Device):
        dev = device
    else:
        catalogue = catalogue or load_catalogue(config)
        dev = None
        if device is None and not _is_example_name(job) and not isinstance(job, Job):
            job = load_job(job)
        if device is None and isinstance(job, Job):
            hinted = getattr(job, "backend_name", None)
            dev = catalogue.get(hinted) if hinted in catalogue.names() else None
            if dev is None and job.kind == "circuit":
                dev = catalogue.get("aer-simulator")  # the documented default for circuits (qutip-1q for pulses)
        dev = dev or catalogue.get(device)
    if _is_example_name(job):
        from workbench.examples import build

        name = str(job)
        try:
            job = load_job(build(name, dev))
        except UnsupportedError as exc:  # too few qubits, no CZ coupling...: say where it runs
            raise _naming_devices(exc, catalogue or load_catalogue(config), lambda d: bool(build(name, d))) from None
    return load_job(job), dev


def prepare(
    job: Job | str | os.PathLike[str] | Mapping[str, Any],
    device: str | Device | None = None,
    *,
    shots: int | None = None,
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
    options_source: str = "options",
    flags: Mapping[str, Any] | None = None,
    config: str | os.PathLike[str] | None = None,
    catalogue: Catalogue | None = None,
) -> Prepared:
    """Load and validate everything a run needs; raises :class:`~workbench.errors.InputError` subclasses.

    ``job`` is a Job, a path, JSON/QASM text, a PulseQobj mapping or a built-in example name
    (``"x-gate"``, ``"rabi"``...). ``options`` play the role of an options file; ``shots``, ``seed``
    and ``flags`` the role of command-line flags, which win.
    """
    started = time.perf_counter()
    top: dict[str, Any] = dict(flags or {})
    if shots is not None:
        top["shots"] = shots
    if seed is not None:
        top["seed"] = seed
    # The budgets come from the user's options and flags only (never from the job file or a device
    # config, which may come by mail), and are in effect before the job file is even read.
    limits = budgets.limits_from([(options_source, options), ("flags", top)])
    with budgets.metering(limits):
        return _prepare(job, device, started, top, limits, options, options_source, config, catalogue)


def _prepare(job: Any, device: str | Device | None, started: float, top: dict[str, Any], limits: budgets.Limits,
             options: Mapping[str, Any] | None, options_source: str, config: str | os.PathLike[str] | None,
             catalogue: Catalogue | None) -> Prepared:
    job, dev = job_and_device(job, device, config=config, catalogue=catalogue)
    if not dev.available:
        raise UnsupportedError(f"device '{dev.name}' is marked unavailable in its configuration")
    cls = executor_class(dev.executor)
    if job.kind not in cls.job_kinds:
        raise JobError(f"device '{dev.name}' (executor {cls.name}) does not run {job.kind} jobs; "
                       f"it accepts: {', '.join(cls.job_kinds)}")
    device_defaults, from_device = budgets.without_budgets(dev.defaults)
    job_defaults, from_job = budgets.without_budgets(job.option_defaults())
    resolved = resolve_options(option_specs(cls) + job.job_options() + budgets.BUDGET_OPTIONS, [
        (f"device {dev.name} defaults", device_defaults),
        ("job file", job_defaults),
        (options_source, options),
        ("flags", top),
    ], credentials=cls.needs_credentials)
    ignored = tuple(f"budget option '{name}' in the {where} ignored: budgets are set by the options or flags only"
                    for where, names in (("device defaults", from_device), ("job file", from_job)) for name in names)
    try:
        with about_job(job):
            job = job.bind(resolved.values)
            programs = job.circuits() if cls.consumes == "circuit" else job.schedules(dev)
            _check_storable(job, programs)
            probe = cls(dev)
            probe.check(programs, resolved)
            check_budgets(job, programs, probe, resolved, limits)
            decided = probe.effective_options(programs, resolved)
    except UnsupportedError as exc:  # a circuit too big for the device: say which devices can run it
        needed = getattr(getattr(job, "circuit", None), "num_qubits", 0)
        if needed <= dev.qubit_count:
            raise
        raise _naming_devices(exc, catalogue or load_catalogue(config), lambda d: d.qubit_count >= needed and
                              job.kind in executor_class(d.executor).job_kinds) from None
    if decided:
        resolved = resolved.with_values(decided, f"executor {cls.name}")
    warnings = ignored + (() if cls.consumes == "circuit" else tuple(far_frame_warnings(programs, dev)))
    return Prepared(job, dev, cls, resolved, programs, time.perf_counter() - started, warnings)


def _check_storable(job: Job, programs: Sequence[Any]) -> None:
    """Every text of the job the result will hold (its name and ID, experiment names, text metadata that
    becomes a sweep coordinate) must be storable in dataset.nc: refused here, not after the run."""
    origin = getattr(job, "origin", None)
    for where, text in (("job name", job.name), ("qobj_id", job.job_id)):
        why = unstorable(str(text or ""))
        if why is not None:
            raise JobError(f"{where} {why}", where, origin)
    for i, name in enumerate(job.experiment_names):
        why = unstorable(str(name))
        if why is not None:
            raise JobError(f"experiment name {why}", f"experiments[{i}].header.name")
    for i, program in enumerate(programs):
        for key, value in dict(getattr(program, "metadata", None) or {}).items():
            for text, what in ((key, "key"), (value, "value")):
                why = unstorable(text) if isinstance(text, str) else None
                if why is not None:
                    raise JobError(f"metadata {what} {why}", f"experiments[{i}].header.metadata")


def _naming_devices(exc: UnsupportedError, catalogue: Catalogue, fits: Any) -> UnsupportedError:
    """``exc`` with the catalogue's devices that can run the job named (those for which ``fits`` holds)."""
    names = []
    for name in catalogue.names():
        try:
            device = catalogue.get(name)
            if device.available and fits(device):
                names.append(name)
        except WorkbenchError:  # this device cannot, for whatever reason
            continue
    hint = f"devices that can run it: {', '.join(names)}" if names else "no device in the catalogue can run it"
    return UnsupportedError(f"{exc.message}; {hint}", exc.location, exc.source)


def check_budgets(job: Job, programs: Sequence[Any], executor: QuantumExecutor, options: ResolvedOptions,
                  limits: budgets.Limits) -> None:
    """Cost the run before it happens (docs/budgets.md): the shared estimates, then the executor's own.

    Raises :class:`~workbench.errors.BudgetError` naming the estimate, the limit and the option that
    raises it; runs before any output folder exists and before the executor starts, for every caller.
    """
    shared = estimates(programs, shots=options["shots"], meas_level=options["meas_level"],
                       meas_return=options["meas_return"], source_bytes=len(job.source or ""))
    origin = getattr(job, "origin", None)
    budgets.check_all(shared, limits, source=origin)
    budgets.check_all(executor.cost(programs, options), limits, source=origin)


def _versions(executor: type[QuantumExecutor]) -> dict[str, str]:
    import xarray

    versions = {"workbench": __version__, "python": platform.python_version(), "numpy": np.__version__,
                "xarray": xarray.__version__}
    versions.update(executor.versions())
    return versions


def _postprocess(data: ExecutionData, prepared: Prepared) -> ExecutionData:
    """Discriminate and average in one place, with the device's calibration, for every executor."""
    level = prepared.options["meas_level"]
    if level == 2 and data.memory is None and data.iq is not None:
        data.memory = discriminate_slots(data.iq, data.slot_qubit, prepared.device)
    if level == 1 and prepared.options["meas_return"] == "avg" and data.iq_mean is None and data.iq is not None:
        with np.errstate(invalid="ignore"):
            data.iq_mean = np.nanmean(data.iq, axis=1) if data.iq.shape[1] else data.iq[:, 0, :]
    if level == 1:
        data.memory = None
    return data


def _shareable_device_config(dev: Device) -> dict[str, Any]:
    """The device as the result records it: its option defaults without credentials (a config file may hold
    a token for its executor; the result goes to colleagues)."""
    config = dev.model_dump(mode="json")
    if isinstance(config.get("defaults"), dict):
        config["defaults"] = without_credentials(config["defaults"])
    return config


def run_secrets(prepared: Prepared, credentials: Mapping[str, Any] | None) -> dict[str, Secret]:
    """The secrets an executor gets: those among the options, overridden by explicit credentials."""
    secrets_ = dict(prepared.options.secrets)
    secrets_.update({k: v if isinstance(v, Secret) else Secret(v) for k, v in (credentials or {}).items()})
    return secrets_


def execute(
    prepared: Prepared,
    *,
    credentials: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    """Run a prepared job in this process and build its Result (:func:`workbench.api.execute` also
    spreads runs over Dask)."""
    secrets_ = run_secrets(prepared, credentials)
    started_at = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    with about_job(prepared.job), prepared.executor(prepared.device, secrets_) as executor:
        t_prepared = time.perf_counter()
        data = executor.run(prepared.programs, prepared.options, progress, cancel)
    t_run = time.perf_counter()
    return build_result(prepared, data, started_at=started_at, prepare_seconds=t_prepared - t0,
                        run_seconds=t_run - t_prepared)


def build_result(
    prepared: Prepared,
    data: ExecutionData,
    *,
    started_at: dt.datetime,
    prepare_seconds: float,
    run_seconds: float,
    trace_extra: Mapping[str, Any] | None = None,
) -> Result:
    """The Result of what an executor returned for a prepared job, however it was run.

    Serial and parallel runs share it, so their Datasets differ only in what ``trace_extra`` adds and
    in timings.
    """
    data = _postprocess(data, prepared)
    job, dev, opts = prepared.job, prepared.device, prepared.options
    tuid = new_tuid()
    warnings = (list(opts.warnings) + list(getattr(job, "warnings", [])) + list(prepared.warnings)
                + list(data.warnings))
    run_id = new_run_id()
    qobj = getattr(job, "qobj", None)
    total = round(prepare_seconds + run_seconds + prepared.compile_seconds, 6)
    qpu_seconds = round(data.qpu_seconds if data.qpu_seconds is not None else run_seconds, 6)
    qpu = {"qpuType": qpu_type(prepared.executor.kind), "qpuVendor": dev.vendor, "qpuName": dev.name,
           "qpuVersion": __version__}
    trace = {
        "jobId": job.job_id or tuid,
        "qobjId": (getattr(qobj, "qobj_id", None) or "") if qobj is not None else "",
        "tuid": tuid,
        "jobName": job.name,
        "jobKind": job.kind,
        "device": dev.name,
        "executor": prepared.executor.name,
        **qpu,
        "seed": opts["seed"],
        "shots": opts["shots"],
        "measLevel": opts["meas_level"],
        "experiments": len(prepared.programs),
        "instructions": sum(p.instruction_count() for p in prepared.programs),
        "date": started_at.isoformat(timespec="seconds"),
        "timeTaken": total,
        "timeTakenIdle": 0,
        "timeTakenCompile": round(prepared.compile_seconds, 6),
        "timeTakenPrepare": round(prepare_seconds, 6),
        "timeTakenQpu": qpu_seconds,
        "timeTakenQpuPrepare": round(max(total - qpu_seconds, 0.0), 6),
        "timeTakenQpuExecute": qpu_seconds,
        "optionSources": dict(opts.sources),
        "versions": _versions(prepared.executor),
        "executorInfo": data.info,
        "warnings": warnings,
        **dict(trace_extra or {}),
    }
    trace["ID"] = run_id  # last, as QHAna's executors write it; the same ID is in execution-options.json
    for w in warnings:
        log.warning(w)
    attrs = {
        "tuid": tuid,
        "name": job.name,
        "job_id": job.job_id or "",
        "device": dev.name,
        "executor": prepared.executor.name,
        "job_kind": job.kind,
        "job_filename": job.source_filename,
        "job_source": job.source,
        "options": output_options(opts.echo, run_id, prepared.executor.name, qpu),
        "trace": trace,
        "device_config": _shareable_device_config(dev),
        "artifacts": {k: v for k, v in data.artifacts.items() if isinstance(v, str)},
    }
    ds = build_dataset(experiment_names=job.experiment_names, schedules=prepared.programs, data=data,
                       meas_level=opts["meas_level"], meas_return=opts["meas_return"], attrs=attrs)
    if data.statevector is not None:
        width = max(len(v) for v in data.statevector)
        table = np.full((len(data.statevector), width), np.nan, dtype=complex)
        for i, v in enumerate(data.statevector):
            table[i, : len(v)] = v
        ds["statevector"] = (("experiment", "basis_state"), table)
    log.info("run %s finished in %.3f s", tuid, trace["timeTaken"])
    return Result(ds, schedules=prepared.programs if prepared.executor.consumes == "schedule" else None)
