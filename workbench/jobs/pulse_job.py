"""A PulseQobj as a :class:`~workbench.jobs.base.Job`: validated once, translated per device.

Everything that does not depend on the device is checked when the job is built (types, instruction
names, acquire lists, memory slots, and every parametric pulse is sampled), so that a bad file fails
on load, before any device is chosen. :meth:`PulseJob.schedules` adds what only a device can tell:
which channels and qubits exist, the default frame frequencies and ``dt`` (a PulseQobj carries none:
its times are in samples of whatever device runs it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from workbench import budgets
from workbench.errors import JobError
from workbench.jobs.base import Job
from workbench.jobs.pulseqobj import (
    AcquireInstruction,
    DelayInstruction,
    Experiment,
    FrequencyChange,
    LibraryPlay,
    ParametricPulse,
    ParsedDocument,
    PhaseChange,
    PulseQobj,
    parse_document,
)
from workbench.pulses.shapes import sample, unit_and_scale
from workbench.schedule.builder import ScheduleBuilder, check_samples, with_other_pulses
from workbench.schedule.ir import channel_sort_key

if TYPE_CHECKING:
    from workbench.devices.model import Device
    from workbench.schedule.ir import Schedule

GHZ = 1e9
MICROSECONDS_PER_SECOND = 1e6
_PHASE_KIND = {"setp": "setp", "fc": "shiftp"}  # OpenPulse's "frame change" is a phase shift
_TEMPLATES = 256  # schedules kept as templates while a job's experiments are built (forgotten when full)


@contextmanager
def attributed(origin: str | None) -> Iterator[None]:
    """Put the file name in front of JobErrors raised inside, so a message alone says which file."""
    try:
        yield
    except JobError as exc:
        if origin is None or exc.source is not None:
            raise
        raise type(exc)(exc.message, exc.location, origin) from None


def unique_names(names: list[str | None]) -> list[str]:
    """Header names made unique: missing -> ``experiment-<i>``, repeats -> ``<name>-2``, ``-3`` ...

    Results are indexed by experiment name, so two equal names would merge two experiments' data.
    The first occurrence keeps its name and no generated name takes one that appears in the file.
    """
    bases = [n if isinstance(n, str) and n.strip() else f"experiment-{i}" for i, n in enumerate(names)]
    reserved = set(bases)
    taken: set[str] = set()
    out: list[str] = []
    for base in bases:
        name = base
        if name in taken:
            n = 2
            while f"{base}-{n}" in reserved or f"{base}-{n}" in taken:
                n += 1
            name = f"{base}-{n}"
        taken.add(name)
        out.append(name)
    return out


def _freeze(value: Any) -> Any:
    """A hashable, type-exact image of a parameter value: ``1``, ``1.0``, ``True`` and ``"1"`` differ."""
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((str(k), type(k).__name__, _freeze(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("seq", tuple(_freeze(v) for v in value))
    return (type(value).__name__, repr(value))


_ATOMS = frozenset({str, int, float, bool, type(None)})


def _flat_key(parameters: Any) -> Any:
    """:func:`_freeze` for the usual flat ``{name: number}`` parameters, three times faster (a 100 000-pulse
    job computes one per pulse); floats by ``repr`` so that ``-0.0`` and ``0.0`` stay apart. Anything
    else (nested values, lists, non-string names) takes :func:`_freeze`, whose keys have another shape."""
    if parameters.__class__ is not dict:
        return _freeze(parameters)
    items = []
    for name, value in parameters.items():
        kind = value.__class__
        if kind not in _ATOMS or name.__class__ is not str:
            return _freeze(parameters)
        items.append((name, kind, repr(value) if kind is float else value))
    items.sort()  # names are unique: the sort never compares the types
    return tuple(items)


def _cache_key(ins: ParametricPulse) -> Any:
    return (ins.pulse_shape, _flat_key(ins.parameters))


def _sample(ins: ParametricPulse, where: str, cache: dict[Any, np.ndarray]) -> np.ndarray:
    """The samples of one pulse. An amplitude sweep's pulses differ only in ``amp`` (or ``angle``): shapes
    that are ``amp e^(i angle)`` times an envelope are sampled once at amp 1, angle 0 and scaled
    (bit-identical; a 200-point Rabi job loads several times faster); other pulses are sampled as given."""
    split = unit_and_scale(ins.pulse_shape, ins.parameters, where)
    if split is None:
        return sample(ins.pulse_shape, ins.parameters, where)
    unit_params, scale = split
    key = ("unit", ins.pulse_shape, _freeze(unit_params))
    unit = cache.get(key)
    if unit is None:  # charged to the budget once per distinct pulse, as a pulse sampled directly
        unit = cache[key] = sample(ins.pulse_shape, unit_params, where)
    else:
        budgets.charge_samples(unit.size, f"{where}.parameters.duration")
    with np.errstate(all="ignore"):
        samples = scale * unit
    if not np.all(np.isfinite(samples)):
        return sample(ins.pulse_shape, ins.parameters, where)  # raises the overflow error, naming the parameter
    return samples


class PulseJob(Job):
    """An OpenPulse job. Build it with :func:`workbench.jobs.loader.load_job` or :meth:`from_data`."""

    kind: ClassVar[str] = "pulse"
    source_filename: ClassVar[str] = "job.json"

    def __init__(self, document: ParsedDocument, source: str, name: str | None = None,
                 origin: str | None = None):
        qobj = document.qobj
        super().__init__(source, document.job_id, name or document.job_id or qobj.qobj_id or "pulse-job")
        self.document = document
        self.qobj: PulseQobj = qobj
        self.origin = origin  # file name put in front of error messages, None for text and mappings
        self.backend_name: str | None = qobj.header.backend_name
        self.warnings: list[str] = list(document.warnings)
        self._names = unique_names([e.header.name for e in qobj.experiments])
        with attributed(origin):
            self._waveforms = self._sample_parametric()

    @classmethod
    def from_data(cls, data: Any, source: str, name: str | None = None,
                  origin: str | None = None) -> PulseJob:
        """Validate a decoded document (bare qobj or Tergite envelope) into a job."""
        with attributed(origin):
            document = parse_document(data)
        return cls(document, source, name, origin)

    def _sample_parametric(self) -> dict[tuple[int, int], np.ndarray]:
        """Sample every parametric pulse now: shapes are device-independent and errors belong to load."""
        cache: dict[Any, np.ndarray] = {}
        out: dict[tuple[int, int], np.ndarray] = {}
        for e, experiment in enumerate(self.qobj.experiments):
            for k, ins in enumerate(experiment.instructions):
                if isinstance(ins, ParametricPulse):
                    key = _cache_key(ins)
                    if key not in cache:
                        samples = _sample(ins, f"experiments[{e}].instructions[{k}]", cache)
                        samples.setflags(write=False)  # shared by every identical pulse of the job
                        cache[key] = samples
                    out[(e, k)] = cache[key]
        return out

    @property
    def experiment_names(self) -> list[str]:
        return list(self._names)

    def option_defaults(self) -> dict[str, Any]:
        config = self.qobj.config
        out: dict[str, Any] = {}
        for key in ("shots", "meas_level", "meas_return"):
            value = getattr(config, key)
            if value is not None:
                out[key] = value
        if config.rep_time is not None:
            out["rep_time"] = config.rep_time / MICROSECONDS_PER_SECOND
        return out

    def schedules(self, device: Device) -> list[Schedule]:
        """Each experiment's schedule. An experiment that differs from an earlier one only in its pulses'
        values (a sweep's points) is made from that one's schedule (:func:`with_other_pulses`): the same
        schedule a build gives, after the same checks, at a fifth of the cost."""
        templates: dict[Any, Schedule] = {}
        out = []
        with attributed(self.origin):
            for e, experiment in enumerate(self.qobj.experiments):
                frequencies = self._frequencies(experiment, device)
                key = self._structure(e, experiment, frequencies)
                template = templates.get(key)
                if template is None:
                    schedule = self._schedule(e, experiment, device, frequencies)
                    if len(templates) >= _TEMPLATES:
                        templates.clear()
                    templates[key] = schedule
                else:
                    schedule = self._like(template, e, experiment)
                out.append(schedule)
        return out

    def _structure(self, e: int, experiment: Experiment, frequencies: Mapping[str, float]) -> Any:
        """Everything a schedule builder's result depends on except the values of the pulses' samples and
        parameters: times, channels, labels, frame changes (floats by ``repr``: ``-0.0`` stays itself),
        acquisitions, the number of samples of each pulse and which pulses share one array."""
        items: list[Any] = []
        first: dict[int, int] = {}
        for k, ins in enumerate(experiment.instructions):
            if isinstance(ins, ParametricPulse):
                samples = self._waveforms[(e, k)]
                items.append((0, ins.t0, ins.ch, ins.text_label, ins.pulse_shape, samples.shape[0],
                              first.setdefault(id(samples), k)))
            elif isinstance(ins, LibraryPlay):
                items.append((1, ins.t0, ins.ch, ins.text_label, ins.name))
            elif isinstance(ins, FrequencyChange):
                items.append((2, ins.t0, ins.ch, ins.name, repr(ins.frequency)))
            elif isinstance(ins, PhaseChange):
                items.append((3, ins.t0, ins.ch, ins.name, repr(ins.phase)))
            elif isinstance(ins, DelayInstruction):
                items.append((4, ins.t0, ins.ch, ins.duration))
            elif isinstance(ins, AcquireInstruction):
                items.append((5, ins.t0, ins.duration, tuple(ins.qubits), tuple(ins.memory_slot),
                              None if ins.register_slot is None else tuple(ins.register_slot)))
            else:
                items.append((6, ins.name))
        return (tuple(items), self.document.memory_slots[e], _creg_sizes(experiment.header),
                tuple((ch, repr(f)) for ch, f in frequencies.items()))

    def _like(self, template: Schedule, e: int, experiment: Experiment) -> Schedule:
        """Experiment ``e`` from the schedule of an experiment of the same :meth:`_structure`. New samples
        are checked in instruction order, as a builder would, so the first bad pulse is the one named."""
        instructions = experiment.instructions
        pulses = []
        fresh = []
        for play in template.plays:
            ins = instructions[play.source]
            if isinstance(ins, ParametricPulse):
                samples = self._waveforms[(e, play.source)]
                if samples is not play.samples:
                    fresh.append((play.source, play.name, samples))
                pulses.append((samples, dict(ins.parameters)))
            else:  # a library pulse: the same array for every experiment
                pulses.append((play.samples, {}))
        for k, name, samples in sorted(fresh, key=lambda item: item[0]):
            check_samples(samples, name, f"experiments[{e}].instructions[{k}]")
        return with_other_pulses(template, self._names[e], self._metadata(experiment), pulses)

    @staticmethod
    def _metadata(experiment: Experiment) -> dict[str, Any]:
        header = experiment.header
        metadata: dict[str, Any] = dict(header.metadata or {})
        if header.name is not None:
            metadata.setdefault("name", header.name)
        return metadata

    def experiment_schedule(self, device: Device, index: int) -> Schedule | None:
        """Only that experiment is built (a report of a 200-point sweep shows one of them)."""
        experiments = self.qobj.experiments
        if not experiments:
            return None
        e = min(max(index, 0), len(experiments) - 1)
        with attributed(self.origin):
            return self._schedule(e, experiments[e], device)

    def _frequencies(self, experiment: Experiment, device: Device) -> dict[str, float]:
        """Device calibration, then the job's LO frequencies, then the experiment's (GHz -> Hz).

        An LO entry for a qubit the device does not have is dropped: Qiskit writes one entry per
        qubit of the backend it assembled for, which may be larger than the device running the job.
        An entry of 0.0 means "not set" (the Tergite SDK writes ``[0.0] * n`` and sets every carrier
        with ``setf``), so the frame keeps the device's frequency.
        """
        freqs = device.frame_frequencies()
        for config in (self.qobj.config, experiment.config):
            if config is None:
                continue
            for values, prefix in ((config.qubit_lo_freq, "d"), (config.meas_lo_freq, "m")):
                for i, ghz in enumerate(values or ()):
                    if ghz != 0.0 and f"{prefix}{i}" in freqs:
                        freqs[f"{prefix}{i}"] = ghz * GHZ
        return freqs

    def _schedule(self, e: int, experiment: Experiment, device: Device,
                  frequencies: dict[str, float] | None = None) -> Schedule:
        builder = ScheduleBuilder(
            name=self._names[e],
            dt=device.dt,
            frequencies=self._frequencies(experiment, device) if frequencies is None else frequencies,
            memory_slots=self.document.memory_slots[e] or 0,
            metadata=self._metadata(experiment),
            creg_sizes=_creg_sizes(experiment.header),
        )
        qubits = sorted(q.index for q in device.qubits)
        channels = _device_channels(device)
        library = self.document.library
        for k, ins in enumerate(experiment.instructions):
            where = f"experiments[{e}].instructions[{k}]"
            channel = getattr(ins, "ch", None)
            if channel is not None and channel not in channels:
                raise JobError(f"channel '{channel}' does not exist on device '{device.name}' "
                               f"(it has {', '.join(_sorted_channels(channels))})", f"{where}.ch")
            if isinstance(ins, ParametricPulse):
                builder.play(ins.t0, ins.ch, self._waveforms[(e, k)], ins.text_label or ins.pulse_shape,
                             shape=ins.pulse_shape, parameters=ins.parameters, where=where, source=k)
            elif isinstance(ins, LibraryPlay):
                builder.play(ins.t0, ins.ch, library[ins.name], ins.name, where=where, source=k)
            elif isinstance(ins, FrequencyChange):
                builder.frame(ins.t0, ins.ch, ins.name, ins.frequency * GHZ, where=where, source=k)
            elif isinstance(ins, PhaseChange):
                builder.frame(ins.t0, ins.ch, _PHASE_KIND[ins.name], ins.phase, where=where, source=k)
            elif isinstance(ins, DelayInstruction):
                builder.delay(ins.t0, ins.ch, ins.duration, where=where, source=k)
            elif isinstance(ins, AcquireInstruction):
                for j, qubit in enumerate(ins.qubits):
                    if qubit not in qubits:
                        raise JobError(f"qubit {qubit} does not exist on device '{device.name}' "
                                       f"(qubits: {', '.join(map(str, qubits))})", f"{where}.qubits[{j}]")
                    register = ins.register_slot[j] if ins.register_slot is not None else None
                    builder.acquire(ins.t0, ins.duration, qubit, ins.memory_slot[j], register, where=where, source=k)
            # snapshots: recorded as a warning when the job was loaded, nothing to schedule
        return builder.build()


def _device_channels(device: Device) -> set[str]:
    """Channels a device has: d/m/a per qubit, u per coupling."""
    names = {f"{kind}{q.index}" for q in device.qubits for kind in "dma"}
    return names | {c.channel for c in device.couplings}


def _sorted_channels(channels: set[str]) -> list[str]:
    """Playable channels in lane order, for messages (acquire channels are implied by qubits)."""
    return sorted((c for c in channels if not c.startswith("a")), key=channel_sort_key)


def _creg_sizes(header: Any) -> tuple[tuple[str, int], ...]:
    """Qiskit's ``creg_sizes`` header entry (``[["c", 2], ["d", 1]]``), when well formed; else none.

    It only changes how count keys are printed, so a malformed one is ignored rather than rejected.
    """
    raw = getattr(header, "creg_sizes", None) or (header.model_extra or {}).get("creg_sizes")
    if not isinstance(raw, list):
        return ()
    out = []
    for entry in raw:
        if (isinstance(entry, list | tuple) and len(entry) == 2 and isinstance(entry[0], str)
                and isinstance(entry[1], int) and not isinstance(entry[1], bool) and entry[1] >= 0):
            out.append((entry[0], entry[1]))
        else:
            return ()
    return tuple(out)
