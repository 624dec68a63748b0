"""The executor contract: the one small class every backend implements.

An executor receives IR schedules (never job files) and validated options, and returns
:class:`ExecutionData`: per-shot IQ points and/or bits per memory slot. The core turns that into the
result Dataset (discrimination with the device's calibration, averaging, counts), so executors do
not each re-implement result handling.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from workbench.devices.model import Device
from workbench.errors import UnsupportedError
from workbench.options import OptionSpec, ResolvedOptions, Secret
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


class QuantumExecutor(ABC):
    """Base class of all executors. Use as a context manager: ``with Executor(device) as ex: ...``.

    Subclasses set ``type`` (the name devices refer to), ``title``, the option specs they add to the
    common ones and the ``measure_levels`` they produce; they implement :meth:`run`.
    """

    type: ClassVar[str]
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
            raise ConfigError(f"executor '{cls.type}' takes no executor_config (got {keys})")

    @classmethod
    def versions(cls) -> dict[str, str]:
        """Versions of the libraries this executor runs on, for the trace."""
        return {}

    def check(self, schedules: Sequence[Schedule], options: ResolvedOptions) -> None:
        """Reject what this executor cannot run before anything runs (raise :class:`UnsupportedError`)."""
        if options["meas_level"] not in self.measure_levels:
            levels = ", ".join(str(x) for x in self.measure_levels)
            raise UnsupportedError(
                f"meas_level {options['meas_level']} is not supported by executor '{self.type}' "
                f"(supported: {levels})"
            )
        known = {q.index for q in self.device.qubits} or set(range(self.device.qubit_count))
        for i, program in enumerate(schedules):
            for q in program.qubits:
                if q not in known:
                    raise UnsupportedError(f"qubit {q} does not exist on device '{self.device.name}' "
                                           f"({self.device.qubit_count} qubits)", f"experiments[{i}]")

    def effective_options(self, programs: Sequence[Any], options: ResolvedOptions) -> Mapping[str, Any]:
        """Values this executor decides itself (e.g. ``method: automatic`` -> ``stabilizer``).

        They replace the given values in ``execution-options.json``, so passing that file back runs the
        same way even if the executor's automatic choice changes in a later version.
        """
        return {}

    def prepare(self) -> None:
        """Connect to instruments or build models; called once before the first run."""
        self._prepared = True

    @abstractmethod
    def run(
        self,
        schedules: Sequence[Schedule],
        options: ResolvedOptions,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> ExecutionData:
        """Execute the schedules with validated options."""

    def close(self) -> None:
        """Release what :meth:`prepare` acquired; must be safe to call twice."""
        self._prepared = False

    def __enter__(self) -> QuantumExecutor:
        if not self._prepared:
            self.prepare()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
