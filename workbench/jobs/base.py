"""What every job kind provides to the core, whatever file it came from."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from workbench.circuits.program import CircuitProgram
    from workbench.devices.model import Device
    from workbench.options import OptionSpec
    from workbench.schedule.ir import Schedule


class Job(ABC):
    """A loaded, validated job.

    ``source`` is the job's text exactly as given, so that an output folder carries the job that
    produced it (``source_filename`` names that copy). ``option_defaults`` are the execution options
    the job file itself sets (PulseQobj ``config.shots`` ...): they rank above device defaults and
    below options files and flags.
    """

    kind: ClassVar[str]  # "pulse" or "circuit"
    source_filename: ClassVar[str]

    def __init__(self, source: str, job_id: str | None, name: str):
        self.source = source
        self.job_id = job_id
        self.name = name

    @property
    @abstractmethod
    def experiment_names(self) -> list[str]:
        """Names of the experiments, in order (unique)."""

    @abstractmethod
    def option_defaults(self) -> dict[str, Any]:
        """Execution options set by the job file itself."""

    @abstractmethod
    def schedules(self, device: Device) -> list[Schedule]:
        """The job in the IR, on this device's channels and calibrations."""

    def experiment_schedule(self, device: Device, index: int) -> Schedule | None:
        """The schedule of one experiment (``index`` clamped to the job's), None when the job has none.
        For views that show one experiment: a job that can builds only that one."""
        schedules = self.schedules(device)
        return schedules[min(max(index, 0), len(schedules) - 1)] if schedules else None

    def job_options(self) -> tuple[OptionSpec, ...]:
        """Execution options the job itself reads (an OpenPulse program's ``inputs``); none for most jobs."""
        return ()

    def bind(self, options: Mapping[str, Any]) -> Job:
        """The job as these resolved option values make it (``inputs`` choose an OpenPulse program's
        experiments); a job that reads no options returns itself."""
        return self

    def circuits(self) -> list[CircuitProgram]:
        """The job as gate-level circuits, for executors that consume circuits."""
        from workbench.errors import UnsupportedError

        raise UnsupportedError(f"a {self.kind} job cannot run on a gate-level device")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} experiments={len(self.experiment_names)}>"
