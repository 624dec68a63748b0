"""The executor contract: the one small class every backend implements.

An executor receives IR schedules (never job files) and validated options, and returns
:class:`ExecutionData`: per-shot IQ points and/or bits per memory slot. The core turns that into the
result Dataset (discrimination with the device's calibration, averaging, counts), so executors do
not each re-implement result handling.
"""

from __future__ import annotations

import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from workbench.devices.model import Device
from workbench.errors import UnsupportedError
from workbench.options import OptionSpec, ResolvedOptions, Secret
from workbench.schedule.checks import TimingRules
from workbench.schedule.ir import Schedule

Progress = Callable[[int, int], None]  # (experiments done, experiments total)


@dataclass
class ExecutionData:
    """What an executor measured, for ``E`` experiments, ``S`` shots and ``M`` memory slots.

    ``iq`` (E, S, M) complex: integrated IQ per shot, NaN where a slot was never acquired.
    ``memory`` (E, S, M) int8: bits per shot, when the backend discriminates itself.
    ``iq_mean`` (E, M) complex: shot-averaged IQ, when the backend only returns averages.
    ``extras``: further variables for the Dataset as ``name -> (dims, array)``, e.g. the exact
    level populations a simulator knows. ``statevector`` per experiment where the executor has one.
    """

    slot_qubit: np.ndarray  # (E, M) int, qubit acquired into each slot, -1 if none
    iq: np.ndarray | None = None
    memory: np.ndarray | None = None
    iq_mean: np.ndarray | None = None
    extras: dict[str, tuple[tuple[str, ...], np.ndarray]] = field(default_factory=dict)
    statevector: list[np.ndarray] | None = None
    warnings: list[str] = field(default_factory=list)
    qpu_seconds: float | None = None
    info: dict[str, Any] = field(default_factory=dict)  # JSON-able facts for the trace
    artifacts: dict[str, str | bytes] = field(default_factory=dict)  # files for the output folder


@dataclass(frozen=True)
class TwinSimulation:
    """The part of a run that another executor can compute ahead of time, anywhere.

    A hardware executor whose instrument is a dummy (a Qblox dummy cluster) gets its data from a
    simulation of the same schedules. Declaring it lets a parallel run spread that simulation over
    workers and hand the result back to :meth:`QuantumExecutor.run` as ``twin_data``, while the
    instrument itself stays in the calling process.
    """

    executor: type[QuantumExecutor]
    options: ResolvedOptions


class QuantumExecutor(ABC):
    """Base class of all executors. Use as a context manager: ``with Executor(device) as ex: ...``.

    Subclasses set ``name`` (what a device's ``executor:`` refers to), ``title``, the option specs they
    add to the common ones and the ``measure_levels`` they produce; they implement :meth:`run`.

    What the rest of the workbench may ask of an executor is declared here, with defaults that suit a
    simple backend, so that built-ins and plugins share one contract and nothing is discovered by
    inspecting signatures (docs/configuration.md, "Writing an executor"):

    * ``runs_experiment_subsets``: :meth:`run` honours ``experiment_ids``, so a parallel run may give
      a task any subset of a job's experiments and still get the rows the whole job would give;
    * :meth:`batch_plan`: groups of experiments that must stay together in one task;
    * ``info_merge``: how the ``info`` of several tasks combines into one run's;
    * :meth:`twin_simulation`: a simulation a parallel run may compute on workers beforehand;
    * :meth:`timing_rules`: what the instrument requires of a schedule's timing, for the schedule view.
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""
    kind: ClassVar[str] = "simulator"  # or "hardware": what result-trace.json calls qpuType
    options: ClassVar[tuple[OptionSpec, ...]] = ()
    measure_levels: ClassVar[tuple[int, ...]] = (1, 2)
    job_kinds: ClassVar[tuple[str, ...]] = ("pulse",)
    # What run() receives: "schedule" (IR schedules; circuits are compiled to pulses with the device's
    # calibrations first) or "circuit" (CircuitProgram objects, for gate-level executors).
    consumes: ClassVar[str] = "schedule"
    needs_credentials: ClassVar[tuple[str, ...]] = ()  # e.g. ("username", "password")
    tags: ClassVar[tuple[str, ...]] = ()
    # Capabilities for parallel runs (workbench/parallel); the defaults run a job as one task.
    runs_experiment_subsets: ClassVar[bool] = False
    info_merge: ClassVar[Mapping[str, str]] = {}  # info key -> "experiments" | "sum" | "max" | "union"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        legacy = cls.__dict__.get("type")
        if isinstance(legacy, str) and "name" not in cls.__dict__:  # plugins written before the rename
            warnings.warn(f"{cls.__qualname__}: the executor attribute 'type' is now called 'name'",
                          DeprecationWarning, stacklevel=2)
            cls.name = legacy

    def __init__(self, device: Device, credentials: Mapping[str, Secret] | None = None):
        self.device = device
        self._credentials = dict(credentials or {})
        self._prepared = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} device={self.device.name!r}>"

    @classmethod
    def validate_device(cls, device: Device) -> None:
        """Check ``device.executor_config`` when the catalogue loads, so a bad config file fails early.

        Raise :class:`~workbench.errors.ConfigError` with the location inside ``executor_config``
        (the catalogue prefixes the device). Must not import heavy libraries. The default accepts
        an empty ``executor_config`` only, so a typo'd setting on a device is never silently ignored.
        """
        if device.executor_config:
            from workbench.errors import ConfigError

            keys = ", ".join(sorted(device.executor_config))
            raise ConfigError(f"executor '{cls.name}' takes no executor_config (got {keys})")

    @classmethod
    def timing_rules(cls, device: Device) -> TimingRules:
        """The timing rules the schedule view marks for schedules on ``device`` (it never rejects).

        The default suits a simulator: a qubit driven during its own readout or during a two-qubit
        pulse on its coupler, and frames more than 500 MHz from the calibrated frequency. An
        instrument with a time grid, minimum spacings or a limited NCO declares them here
        (:class:`~workbench.schedule.checks.TimingRules`). Must not import heavy libraries.
        """
        return TimingRules()

    @classmethod
    def versions(cls) -> dict[str, str]:
        """Versions of the libraries this executor runs on, for the trace."""
        return {}

    def check(self, schedules: Sequence[Schedule], options: ResolvedOptions) -> None:
        """Reject what this executor cannot run before anything runs (raise :class:`UnsupportedError`)."""
        if options["meas_level"] not in self.measure_levels:
            levels = ", ".join(str(x) for x in self.measure_levels)
            raise UnsupportedError(
                f"meas_level {options['meas_level']} is not supported by executor '{self.name}' "
                f"(supported: {levels})"
            )
        known = {q.index for q in self.device.qubits} or set(range(self.device.qubit_count))
        for i, program in enumerate(schedules):
            for q in program.qubits:
                if q not in known:
                    raise UnsupportedError(f"qubit {q} does not exist on device '{self.device.name}' "
                                           f"({self.device.qubit_count} qubits)", f"experiments[{i}]")

    def cost(self, programs: Sequence[Any], options: ResolvedOptions) -> Mapping[str, float]:
        """This executor's own estimates of a run's work, keyed by budget option (``max_sim_steps``...).

        Called by the core after :meth:`check` and before anything runs; the estimates are compared
        with the user's budgets (docs/budgets.md). Must be cheap: counted from the programs, never by
        running or compiling them. The default estimates nothing beyond what the core counts itself
        (samples, shots x experiments x slots, output size).
        """
        return {}

    def effective_options(self, programs: Sequence[Any], options: ResolvedOptions) -> Mapping[str, Any]:
        """Values this executor decides itself (e.g. ``method: automatic`` -> ``stabilizer``).

        They replace the given values in ``execution-options.json``, so passing that file back runs the
        same way even if the executor's automatic choice changes in a later version.
        """
        return {}

    def prepare(self) -> None:
        """Connect to instruments or build models; called once before the first run."""
        self._prepared = True

    def batch_plan(self, programs: Sequence[Any], options: ResolvedOptions) -> list[list[int]] | None:
        """Experiments that must run together (each list whole in one task), or None: cut freely.

        Only asked when ``runs_experiment_subsets`` is true. An executor that computes experiments
        together, with results that depend on the group at the level of rounding, names its groups here
        so that a parallel run gives bit-identical results.
        """
        return None

    def twin_simulation(self, programs: Sequence[Any], options: ResolvedOptions) -> TwinSimulation | None:
        """The simulation :meth:`run` would otherwise do itself before driving its instrument, or None.

        When given, a parallel run runs ``TwinSimulation.executor`` with its options on the workers and
        passes the resulting :class:`ExecutionData` to :meth:`run` as ``twin_data``.
        """
        return None

    @abstractmethod
    def run(
        self,
        programs: Sequence[Any],
        options: ResolvedOptions,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        *,
        experiment_ids: Sequence[int] | None = None,
        twin_data: ExecutionData | None = None,
    ) -> ExecutionData:
        """Execute the programs (IR schedules, or circuits when ``consumes == "circuit"``).

        ``experiment_ids`` (only passed when ``runs_experiment_subsets``): the programs' places in their
        job, which choose each experiment's random numbers. ``twin_data`` (only passed after
        :meth:`twin_simulation` returned a simulation): that simulation's result.
        """

    def close(self) -> None:
        """Release what :meth:`prepare` acquired; must be safe to call twice."""
        self._prepared = False

    def __enter__(self) -> QuantumExecutor:
        if not self._prepared:
            self.prepare()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
