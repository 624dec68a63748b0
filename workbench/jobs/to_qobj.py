"""Schedules (the IR) -> a bare PulseQobj dict, the job format the workbench and Tergite accept.

Exporting is the inverse of :class:`~workbench.jobs.pulse_job.PulseJob`: loading the result with
:func:`~workbench.jobs.loader.load_job` and translating it for the same device gives back the same
schedules, play for play and sample for sample, with the same frame frequencies, phases and carrier
offsets. That is what makes a compiled circuit a reproducible artefact: running the file gives the
same data as running the circuit (the simulator's random numbers are per experiment).

Three details carry the round trip:

* a play whose ``shape`` the waveform library knows is written as a ``parametric_pulse`` only when
  re-sampling its parameters gives exactly its samples; anything else (hand-made samples under a
  shape's name) goes to ``pulse_library`` as ``[re, im]`` pairs, deduplicated by samples;
* the IR keeps plays and frame changes in separate lists, but a frame change at the very sample a
  play starts on may come before or after it (Qiskit writes both). The order is recovered from the
  frame each play recorded;
* Hz become GHz by a division that is checked to multiply back to the same float. For about 5% of
  arbitrary frequencies no float in GHz does (``x * 1e9`` skips some doubles); those come back one
  unit in the last place off (1e-16 relative). Device calibrations such as 4.9 GHz come back exactly.

Control channels (``u<k>``) have no LO field in a PulseQobj: their frames start at the calibration
of the device that loads the file, as they did in the device the schedules were built for.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench.errors import JobError, UnsupportedError
from workbench.jobs.pulseqobj import INSTRUCTION_NAMES
from workbench.pulses.shapes import SHAPES, sample
from workbench.schedule.ir import FrameChange, Play, Schedule, parse_channel

SCHEMA_VERSION = "1.3.0"
MEMORY_SLOT_SIZE = 100
GHZ = 1e9
_RESERVED = frozenset(INSTRUCTION_NAMES) | {"pv"}
_FRAME_NAMES = {"setf": "setf", "shiftf": "shiftf", "setp": "setp", "shiftp": "fc"}


def hz_to_ghz(hz: float) -> float:
    """GHz that loads back (``ghz * 1e9``) as exactly ``hz`` whenever any float does.

    ``hz / 1e9 * 1e9`` is off by one unit in the last place for some values; a frame one ulp away is
    physically nothing, but it would make a re-loaded schedule differ from the one exported.
    """
    ghz = hz / GHZ
    for candidate in (ghz, math.nextafter(ghz, math.inf), math.nextafter(ghz, -math.inf)):
        if candidate * GHZ == hz:
            return candidate
    return ghz


def _jsonable(value: Any) -> Any:
    """JSON-native Python values (complex as ``[re, im]``); raises ``TypeError``/``ValueError`` otherwise."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{number} is not valid JSON")
        return number
    if isinstance(value, complex | np.complexfloating):
        return [_jsonable(float(value.real)), _jsonable(float(value.imag))]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    raise TypeError(f"{type(value).__name__} is not JSON")


def _metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-able part of a schedule's metadata; other entries (objects, NaN) are left out."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        try:
            out[str(key)] = _jsonable(value)
        except (TypeError, ValueError):
            continue
    return out


def _pairs(samples: np.ndarray) -> list[list[float]]:
    return np.ascontiguousarray(samples, dtype=np.complex128).view(np.float64).reshape(-1, 2).tolist()


class _Pulses:
    """Decides per play between ``parametric_pulse`` and a ``pulse_library`` entry, with caches."""

    def __init__(self) -> None:
        self.library: list[dict[str, Any]] = []
        self._by_samples: dict[bytes, str] = {}
        self._names: set[str] = set()
        self._sampled: dict[tuple[str, str], np.ndarray | None] = {}
        # id(samples) -> (samples, parameter key, verdict); the array is kept so its id stays unique
        self._verdicts: dict[int, tuple[np.ndarray, tuple[str, str], dict[str, Any] | None]] = {}
        self.shapes: set[str] = set()

    def parametric(self, play: Play) -> dict[str, Any] | None:
        """JSON parameters if the play is exactly its parametric shape, else None."""
        if play.shape is None or play.shape not in SHAPES:
            return None
        try:
            params = _jsonable(dict(play.parameters))
            key = (play.shape, json.dumps(params, sort_keys=True))
        except (TypeError, ValueError):
            return None
        cached = self._verdicts.get(id(play.samples))
        if cached is not None and cached[1] == key:
            return cached[2]
        if key not in self._sampled:
            try:
                self._sampled[key] = sample(play.shape, params)
            except JobError:
                self._sampled[key] = None
        reference = self._sampled[key]
        ok = reference is not None and reference.shape == play.samples.shape and np.array_equal(
            reference, play.samples)
        verdict = params if ok else None
        self._verdicts[id(play.samples)] = (play.samples, key, verdict)
        if ok:
            self.shapes.add(play.shape)
        return verdict

    def waveform(self, play: Play) -> str:
        """The ``pulse_library`` name of the play's samples, adding the waveform the first time."""
        samples = np.ascontiguousarray(play.samples, dtype=np.complex128)
        key = samples.tobytes()
        name = self._by_samples.get(key)
        if name is not None:
            return name
        base = play.name.strip() if isinstance(play.name, str) and play.name.strip() else "waveform"
        name, n = base, 2
        while name in _RESERVED or name in self._names:
            name, n = f"{base}-{n}", n + 1
        self._names.add(name)
        self._by_samples[key] = name
        self.library.append({"name": name, "samples": _pairs(samples)})
        return name


def _lo_lists(schedule: Schedule) -> dict[str, list[float]]:
    """``qubit_lo_freq``/``meas_lo_freq`` (GHz) from the initial frames of ``d<i>``/``m<i>``.

    Entry ``i`` must exist for every ``i`` below the largest qubit; a gap (a device without that
    qubit) is filled with a neighbour's value, which the loader ignores for channels a device lacks.
    """
    out: dict[str, list[float]] = {}
    for kind, key in (("d", "qubit_lo_freq"), ("m", "meas_lo_freq")):
        found: dict[int, float] = {}
        for channel, (frequency, _phase) in schedule.initial_frames.items():
            try:
                k, index = parse_channel(channel)
            except ValueError:
                continue
            if k == kind:
                found[index] = hz_to_ghz(float(frequency))
        if not found:
            continue
        values: list[float] = []
        filler = found[min(found)]
        for i in range(max(found) + 1):
            filler = found.get(i, filler)
            values.append(filler)
        out[key] = values
    return out


def _before_play(schedule: Schedule) -> list[bool]:
    """For each frame change: does it act before the play starting on its channel at the same time?

    The builder accepts a frame change listed after a play that starts at the same sample (the play
    keeps the old frame). The IR does not keep that order, but every play recorded its frame: the
    changes before it are the shortest prefix that leads to that frame.
    """
    changes = schedule.frame_changes
    before = [True] * len(changes)
    starts = {(p.channel, p.t0): p for p in schedule.plays}
    by_channel: dict[str, list[int]] = defaultdict(list)
    for i, change in enumerate(changes):
        by_channel[change.channel].append(i)
    for channel, indices in by_channel.items():
        frequency, phase = schedule.initial_frames.get(channel, (math.nan, 0.0))
        state = (float(frequency), float(phase))
        k = 0
        while k < len(indices):
            t0 = changes[indices[k]].t0
            group = [indices[k]]
            k += 1
            while k < len(indices) and changes[indices[k]].t0 == t0:
                group.append(indices[k])
                k += 1
            states = [state] + [(changes[i].frequency, changes[i].phase) for i in group]
            play = starts.get((channel, t0))
            if play is not None:
                wanted = (play.frequency, play.phase)
                cut = next((j for j, s in enumerate(states) if s == wanted), len(group))
                for j, i in enumerate(group):
                    before[i] = j < cut
            state = states[-1]
    return before


def _frame_instruction(change: FrameChange) -> dict[str, Any]:
    name = _FRAME_NAMES[change.kind]
    if change.kind in ("setf", "shiftf"):
        return {"name": name, "t0": change.t0, "ch": change.channel, "frequency": hz_to_ghz(change.value)}
    return {"name": name, "t0": change.t0, "ch": change.channel, "phase": float(change.value)}


def _acquires(schedule: Schedule) -> dict[int, list[dict[str, Any]]]:
    """Acquisitions grouped into ``acquire`` instructions: same start and duration, no repeated qubit
    or slot in one instruction (the loader rejects those)."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for acq in schedule.acquires:
        has_register = acq.register_slot is not None
        target = None
        for ins in out[acq.t0]:
            if (ins["duration"] == acq.duration and ("register_slot" in ins) == has_register
                    and acq.qubit not in ins["qubits"] and acq.memory_slot not in ins["memory_slot"]):
                target = ins
                break
        if target is None:
            target = {"name": "acquire", "t0": acq.t0, "duration": acq.duration, "qubits": [], "memory_slot": []}
            if has_register:
                target["register_slot"] = []
            out[acq.t0].append(target)
        target["qubits"].append(acq.qubit)
        target["memory_slot"].append(acq.memory_slot)
        if has_register:
            target["register_slot"].append(acq.register_slot)
    return out


def _instructions(schedule: Schedule, pulses: _Pulses) -> list[dict[str, Any]]:
    """Instructions sorted by time; at one time: frame changes that precede plays, plays, the other
    frame changes, delays, acquires. Each list of the IR keeps its own order, so a reload rebuilds
    the same tuples."""
    buckets: dict[int, list[list[dict[str, Any]]]] = defaultdict(lambda: [[], [], [], [], []])
    for change, first in zip(schedule.frame_changes, _before_play(schedule), strict=True):
        buckets[change.t0][0 if first else 2].append(_frame_instruction(change))
    for play in schedule.plays:
        params = pulses.parametric(play)
        if params is not None:
            ins: dict[str, Any] = {"name": "parametric_pulse", "t0": play.t0, "ch": play.channel,
                                   "pulse_shape": play.shape, "parameters": params}
            if play.name != play.shape:
                ins["label"] = play.name
        else:
            ins = {"name": pulses.waveform(play), "t0": play.t0, "ch": play.channel}
        buckets[play.t0][1].append(ins)
    for delay in schedule.delays:
        buckets[delay.t0][3].append({"name": "delay", "t0": delay.t0, "ch": delay.channel,
                                     "duration": delay.duration})
    for t0, acquires in _acquires(schedule).items():
        buckets[t0][4].extend(acquires)
    return [ins for t0 in sorted(buckets) for bucket in buckets[t0] for ins in bucket]


def schedules_to_qobj(
    schedules: Sequence[Schedule],
    *,
    shots: int,
    meas_level: int = 2,
    meas_return: str = "single",
    qobj_id: str | None = None,
    backend_name: str | None = None,
) -> dict[str, Any]:
    """A bare PulseQobj (JSON-native dict) with one experiment per schedule.

    ``backend_name`` goes into the header so that ``workbench run`` picks that device by itself.
    ``qobj_id`` defaults to the first schedule's name: the same schedules give the same file.
    """
    schedules = list(schedules)
    if not schedules:
        raise UnsupportedError("a PulseQobj needs at least one schedule")
    if isinstance(shots, bool) or not isinstance(shots, int | np.integer) or shots < 1:
        raise JobError(f"shots must be a positive integer, got {shots!r}", "shots")
    if isinstance(meas_level, bool) or meas_level not in (0, 1, 2):
        raise JobError(f"meas_level must be 0, 1 or 2, got {meas_level!r}", "meas_level")
    if meas_return not in ("single", "avg"):
        raise JobError(f"meas_return must be 'single' or 'avg', got {meas_return!r}", "meas_return")
    dts = {s.dt for s in schedules}
    if len(dts) > 1:
        raise UnsupportedError(f"schedules with different dt ({', '.join(map(str, sorted(dts)))} s) cannot share "
                               "one PulseQobj: its times are in samples of one device's dt")
    pulses = _Pulses()
    los = [_lo_lists(s) for s in schedules]
    experiments = []
    for schedule, lo in zip(schedules, los, strict=True):
        header: dict[str, Any] = {"name": schedule.name, "memory_slots": int(schedule.memory_slots)}
        if schedule.creg_sizes:
            header["creg_sizes"] = [[str(name), int(size)] for name, size in schedule.creg_sizes]
        header["metadata"] = _metadata(schedule.metadata)
        experiment: dict[str, Any] = {"header": header}
        if lo != los[0]:
            experiment["config"] = dict(lo)
        experiment["instructions"] = _instructions(schedule, pulses)
        experiments.append(experiment)
    config: dict[str, Any] = {
        "shots": int(shots),
        "meas_level": int(meas_level),
        "meas_return": meas_return,
        "memory_slots": max(int(s.memory_slots) for s in schedules),
        "memory_slot_size": MEMORY_SLOT_SIZE,
        **los[0],
        "pulse_library": pulses.library,
        "parametric_pulses": sorted(pulses.shapes),
    }
    qobj_header: dict[str, Any] = {}
    if backend_name is not None:
        qobj_header["backend_name"] = str(backend_name)
    return {
        "qobj_id": str(qobj_id) if qobj_id is not None else schedules[0].name,
        "type": "PULSE",
        "schema_version": SCHEMA_VERSION,
        "header": qobj_header,
        "config": config,
        "experiments": experiments,
    }


__all__ = ["hz_to_ghz", "schedules_to_qobj"]
