"""An OpenQASM 3 + OpenPulse program as a :class:`~workbench.jobs.base.Job`.

The program is parsed and checked when the job is loaded (syntax, statements no device can run,
the ``workbench`` pragmas), so a bad program fails before a device is chosen, with its line. It is
run per device by :mod:`workbench.jobs.openpulse.interpreter`: ports, frames, ``dt`` and the
calibrations of gates without a ``defcal`` all come from the device.

``input`` parameters make sweeps: the execution option ``inputs`` binds each input to a value, or
to a list of values with one experiment per value (lists of several inputs are zipped and must be
equally long; a single value applies to every experiment). ``pragma workbench.inputs {...}`` in the
program gives defaults that the option overrides.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.errors import InputError, JobError, UnsupportedError
from workbench.jobs.base import Job
from workbench.jobs.pulse_job import unique_names

if TYPE_CHECKING:
    from workbench.devices.model import Device
    from workbench.options import OptionSpec
    from workbench.schedule.ir import Schedule

MAX_EXPERIMENTS = 100_000
INPUTS_HELP = ("values of the program's input parameters: {\"name\": value} or {\"name\": [values]} for one "
               "experiment per value")


class OpenPulseJob(Job):
    """A pulse program. Build it with :func:`workbench.jobs.loader.load_job` (or ``OpenPulseJob(text)``)."""

    kind: ClassVar[str] = "pulse"
    source_filename: ClassVar[str] = "program.qasm"

    def __init__(self, text: str, origin: str | None = None, name: str | None = None,
                 inputs: Mapping[str, Any] | None = None, *, _parsed: tuple[Any, Any] | None = None):
        from workbench.jobs.openpulse.analysis import summarize
        from workbench.jobs.openpulse.parse import parse_program

        stem = Path(origin).stem if origin else ""
        super().__init__(text, None, name or stem or "program")
        self.origin = origin
        with attributed(origin):
            if _parsed is None:
                program = parse_program(text.removeprefix("\ufeff"))
                _parsed = (program, summarize(program))
            self.program, self.summary = _parsed
            unknown = sorted(set(self.summary.input_defaults) - set(self.summary.inputs))
            if unknown:
                raise JobError(f"pragma workbench.inputs names {', '.join(unknown)}, which the program does not "
                               "declare as input")
            self.inputs = dict(self.summary.input_defaults if inputs is None else inputs)
            self._bindings = self._bind(self.inputs)
        self.backend_name: str | None = self.summary.device
        self.warnings: list[str] = list(self.summary.warnings)
        self._names = self._experiment_names()

    # --------------------------------------------------------------------------------- inputs
    def _bind(self, given: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One mapping of input values per experiment; an empty list when an input has no value yet."""
        declared = self.summary.inputs
        if not isinstance(given, Mapping):
            raise JobError(f"option inputs must be a mapping of input names to values, got {given!r}")
        unknown = sorted(set(given) - set(declared))
        if unknown:
            known = ", ".join(sorted(declared)) or "none"
            raise JobError(f"option inputs: {', '.join(map(str, unknown))} is not an input of the program "
                           f"(its inputs: {known})")
        lengths = {len(v) for v in given.values() if isinstance(v, list)}
        if len(lengths) > 1:
            raise JobError(f"option inputs: lists of values must have one length (one experiment each), got "
                           f"lengths {sorted(lengths)}")
        count = lengths.pop() if lengths else 1
        if not 0 < count <= MAX_EXPERIMENTS:
            raise JobError(f"option inputs: {count} experiments; give from 1 to {MAX_EXPERIMENTS} values")
        for key, value in given.items():
            for item in value if isinstance(value, list) else [value]:
                _check_input(key, item)
        if set(given) != set(declared):
            return []
        return [{k: (v[i] if isinstance(v, list) else v) for k, v in given.items()} for i in range(count)]

    def job_options(self) -> tuple[OptionSpec, ...]:
        if not self.summary.inputs:
            return ()
        from workbench.options import OptionSpec

        return (OptionSpec("inputs", dict, None, INPUTS_HELP, nullable=True),)

    def bind(self, options: Mapping[str, Any]) -> OpenPulseJob:
        inputs = options.get("inputs")
        if not self.summary.inputs or inputs is None or dict(inputs) == self.inputs:
            return self
        return OpenPulseJob(self.source, self.origin, self.name, inputs, _parsed=(self.program, self.summary))

    def _sweeps(self) -> list[str]:
        return [k for k, v in self.inputs.items() if isinstance(v, list)]

    def _experiment_names(self) -> list[str]:
        count = max(len(self._bindings), 1)
        headers = self.summary.headers
        if len(headers) == count:
            return unique_names([h.get("name") for h in headers])
        if count == 1:
            return [self.name]
        return unique_names([f"{self.name}-{i}" for i in range(count)])

    # ----------------------------------------------------------------------------------- Job
    @property
    def experiment_names(self) -> list[str]:
        return list(self._names)

    def option_defaults(self) -> dict[str, Any]:
        """``pragma workbench.options`` (shots, meas_level, meas_return, rep_time in s), the
        ``pragma workbench.inputs`` defaults, and meas_level 1 when results go to complex registers."""
        out: dict[str, Any] = {}
        if self.summary.complex_memory:
            out["meas_level"] = 1
        out.update(self.summary.options)
        if self.summary.input_defaults:
            out["inputs"] = dict(self.summary.input_defaults)
        return out

    def schedules(self, device: Device) -> list[Schedule]:
        from workbench.jobs.openpulse.interpreter import Interpreter

        if not device.is_pulse_device:
            raise UnsupportedError(f"device '{device.name}' is a gate-level device; an OpenPulse program needs a "
                                   "pulse device")
        bindings = self._bindings or [{}]
        headers = self.summary.headers if len(self.summary.headers) == len(bindings) else [None] * len(bindings)
        sweeps = self._sweeps()
        out = []
        with attributed(self.origin):
            for i, (values, header) in enumerate(zip(bindings, headers, strict=True)):
                metadata: dict[str, Any] = {"name": self._names[i]}
                metadata.update({k: values[k] for k in sweeps})
                experiment = Interpreter(self.program, device, self.summary.memory, values).run(
                    self._names[i], metadata, header)
                out.append(experiment.schedule)
                self.warnings.extend(w for w in experiment.warnings if w not in self.warnings)
        return out

    def __repr__(self) -> str:
        return f"<OpenPulseJob {self.name!r} experiments={len(self._names)}>"


@contextmanager
def attributed(origin: str | None) -> Iterator[None]:
    """Put the file name in front of every input error raised inside (unsupported statements too)."""
    try:
        yield
    except InputError as exc:
        if origin is None or exc.source is not None:
            raise
        raise type(exc)(exc.message, exc.location, origin) from None


def _check_input(name: str, value: Any) -> None:
    if isinstance(value, bool | int | str):
        return
    if isinstance(value, float) and math.isfinite(value):
        return
    raise JobError(f"option inputs: '{name}' takes numbers, true/false or durations such as \"100ns\" (or a list "
                   f"of them), got {value!r}")
