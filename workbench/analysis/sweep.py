"""Sweeps: which one or two parameters a job's experiments differ by, from their metadata or their schedules.

A job whose experiments differ by one or two parameters is a sweep, and everything a person looks
at should lead with it (a Rabi job is P(1) against the amplitude, not "experiment 0"). The parameters
come from two places:

* **metadata** (``header.metadata`` of each experiment; the built-in examples and tune-up write
  ``{"amp": ...}``, ``{"delay": ...}``): numeric keys whose values vary. When there are any, they win.
* **the schedules** (IR), for jobs that say nothing: every play is described by a few numbers (its
  amplitude, duration, flat-top width, other parametric parameters, the gap since the previous play
  ended, its frame frequency and phase), keyed by channel and position on the channel; the numbers
  that vary are the candidates.

Several numbers usually vary together (a longer delay also moves the measurement; a Ramsey delay
also changes the virtual-detuning phase; a wider flat top also lengthens the pulse), so candidates
that split the experiments into the same groups are one parameter, named after the most telling of
them (amplitude before frequency before duration before delay before phase). Three or more
independent parameters are not a sweep. Everything is a few Python operations per play, so a
1000-experiment job is detected in milliseconds (``benchmarks/bench_sweep.py``).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

    from workbench.schedule.ir import Schedule

MAX_SWEPT = 2  # a job differing in more parameters is a set of experiments, not a sweep

#: Kinds of schedule features, most telling first, with their units (values are stored in SI units).
KIND_UNITS: dict[str, str] = {"amp": "", "frequency": "Hz", "beta": "", "angle": "rad", "sigma": "s",
                              "duration": "s", "width": "s", "delay": "s", "phase": "rad"}
_PRIORITY = {kind: i for i, kind in enumerate(KIND_UNITS)}
_TIME_KEYS = {"delay", "duration", "time", "tau", "t", "wait", "length"}  # "width" is often in samples
_FREQUENCY_KEYS = {"frequency", "freq", "detuning", "f"}


@dataclass(frozen=True)
class SweptParameter:
    """One swept parameter: a name (the Dataset coordinate), one value per experiment, a unit, where it
    was found (``metadata`` or ``schedule``) and, for schedules, the channel it was found on."""

    name: str
    values: tuple[float, ...]
    unit: str = ""
    source: str = "metadata"
    channel: str | None = None

    @property
    def distinct(self) -> int:
        return len(set(self.values))


def unit_of(name: str) -> str:
    """The unit a metadata key is assumed to have (seconds for delays, Hz for frequencies)."""
    key = name.lower()
    if key in _TIME_KEYS:
        return "s"
    if key in _FREQUENCY_KEYS:
        return "Hz"
    if key in ("phase", "angle"):
        return "rad"
    return ""


def _labels(values: Sequence[float]) -> np.ndarray:
    """Group labels in order of first appearance: equal labels for equal values (to 12 significant digits)."""
    array = np.asarray(values, dtype=float)
    scale = float(np.max(np.abs(array))) if array.size else 0.0
    rounded = np.round(array / scale, 12) if scale > 0 else array
    _, first, inverse = np.unique(rounded, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.reshape(-1)]


def _grouped(candidates: Mapping[Any, Sequence[float]]) -> list[list[Any]]:
    """Varying candidates grouped by the partition of the experiments they induce, in first-seen order.

    A group whose value is fixed by another group's (a Ramsey phase wrapped to 2 pi repeats where the
    delay does not) depends on it and is dropped: it is not a parameter of its own."""
    groups: dict[bytes, list[Any]] = {}
    partitions: dict[bytes, np.ndarray] = {}
    for key, values in candidates.items():
        labels = _labels(values)
        if labels.size and labels.max() > 0:
            token = labels.tobytes()
            groups.setdefault(token, []).append(key)
            partitions[token] = labels
    return [groups[p] for p in groups
            if not any(q != p and _depends(partitions[p], partitions[q]) for q in groups)]


def _depends(p: np.ndarray, q: np.ndarray) -> bool:
    """True when the labels ``p`` are a function of the labels ``q`` (equal q, equal p)."""
    return np.unique(p * (int(q.max()) + 1) + q).size == int(q.max()) + 1


def from_metadata(metadata: Sequence[Mapping[str, Any]]) -> list[SweptParameter]:
    """Numeric metadata keys, present in every experiment, that vary (grouped as described above)."""
    if len(metadata) < 2:
        return []
    candidates: dict[str, list[float]] = {}
    for key in metadata[0]:
        if not isinstance(key, str) or not key.isidentifier():
            continue
        values = [m.get(key) for m in metadata]
        if all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            candidates[key] = [float(v) for v in values]
    groups = _grouped(candidates)
    if len(groups) > MAX_SWEPT:
        return []
    return [SweptParameter(g[0], tuple(candidates[g[0]]), unit_of(g[0])) for g in groups]


def _amp(parameters: Mapping[str, Any]) -> float | None:
    amp = parameters.get("amp")
    if isinstance(amp, list | tuple) and len(amp) == 2:
        amp = complex(float(amp[0]), float(amp[1]))
    if isinstance(amp, complex):
        return float(amp.real) if amp.imag == 0 else abs(amp)
    if isinstance(amp, int | float) and not isinstance(amp, bool):
        return float(amp)
    return None


def play_features(schedule: Schedule) -> dict[tuple[str, str, int], float]:
    """The numbers describing each play, keyed by (kind, channel, position on the channel)."""
    dt = schedule.dt
    features: dict[tuple[str, str, int], float] = {}
    position: dict[str, int] = {}
    latest = 0  # the latest end of the plays before, which the gap (a delay) is measured from
    ended: list[int] = []
    plays = schedule.plays
    if any(a.t0 > b.t0 for a, b in itertools.pairwise(plays)):
        plays = tuple(sorted(plays, key=lambda p: p.t0))
    for play in plays:
        c, t0 = play.channel, play.t0
        k = position.get(c, 0)
        position[c] = k + 1
        params = play.parameters
        amp = _amp(params) if params else None
        features[("amp", c, k)] = amp if amp is not None else float(np.max(np.abs(play.samples)))
        features[("duration", c, k)] = play.duration * dt
        for name, value in params.items():
            if name in ("amp", "duration") or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            features[(name if name in KIND_UNITS else f"param-{name}", c, k)] = (
                float(value) * dt if name in ("width", "sigma") else float(value))
        if ended and min(ended) <= t0:
            latest = max(e for e in ended if e <= t0)
        features[("delay", c, k)] = (t0 - latest) * dt if ended else t0 * dt
        features[("frequency", c, k)] = play.frequency
        features[("phase", c, k)] = play.phase
        ended.append(t0 + play.duration)
    return features


def from_schedules(schedules: Sequence[Schedule]) -> list[SweptParameter]:
    """The one or two parameters the schedules differ by, read from their plays (empty if none or more)."""
    if len(schedules) < 2:
        return []
    first = play_features(schedules[0])
    columns: dict[tuple[str, str, int], list[float]] = {key: [value] for key, value in first.items()}
    for schedule in schedules[1:]:
        features = play_features(schedule)
        for key in list(columns):
            value = features.get(key)
            if value is None:
                del columns[key]  # a play some experiments lack: not comparable
            else:
                columns[key].append(value)
    groups = _grouped(columns)
    if not groups or len(groups) > MAX_SWEPT:
        return []
    chosen = [min(g, key=lambda key: (_PRIORITY.get(key[0], len(_PRIORITY)), key[1], key[2])) for g in groups]
    kinds = [key[0].removeprefix("param-") for key in chosen]
    out = []
    for key, kind in zip(chosen, kinds, strict=True):
        name = kind if kinds.count(kind) == 1 else f"{kind}_{key[1]}"
        out.append(SweptParameter(name, tuple(columns[key]), KIND_UNITS.get(kind, ""), "schedule", key[1]))
    return out


def detect(schedules: Sequence[Any]) -> list[SweptParameter]:
    """The swept parameters of a job: from its metadata when that names any, else from its schedules.

    Items that are not schedules (circuits, for gate-level executors) only offer their metadata."""
    from workbench.schedule.ir import Schedule

    metadata = [dict(getattr(s, "metadata", None) or {}) for s in schedules]
    found = from_metadata(metadata)
    if found:
        return found
    if schedules and all(isinstance(s, Schedule) for s in schedules):
        return from_schedules(schedules)
    return []


# ------------------------------------------------------------------------------------------- Datasets


def swept(ds: xr.Dataset) -> list[str]:
    """The swept coordinates of a result Dataset: ``attrs["sweep"]`` as recorded when the Dataset was built,
    else (older Datasets) the numeric coordinates along ``experiment`` that vary."""
    raw = ds.attrs.get("sweep")
    if isinstance(raw, str):
        try:
            names = json.loads(raw)
        except ValueError:
            names = []
        if isinstance(names, list):
            return [str(n) for n in names if str(n) in ds.coords and ds[str(n)].dims == ("experiment",)]
    if ds.sizes.get("experiment", 0) < 2:
        return []
    candidates = {}
    for name, coord in ds.coords.items():
        if name in ("experiment", "experiment_name") or coord.dims != ("experiment",):
            continue
        values = np.asarray(coord.values)
        if values.dtype.kind in "iuf" and np.all(np.isfinite(values)):
            candidates[str(name)] = [float(v) for v in values]
    groups = _grouped(candidates)
    return [g[0] for g in groups] if len(groups) <= MAX_SWEPT else []


def series_coordinate(ds: xr.Dataset) -> str | None:
    """A text coordinate along ``experiment`` that varies (``pulse``, ``sequence``): it names curves."""
    for name, coord in ds.coords.items():
        if name in ("experiment", "experiment_name") or coord.dims != ("experiment",):
            continue
        values = np.asarray(coord.values)
        if values.dtype.kind in "UO" and len(set(values.tolist())) > 1:
            return str(name)
    return None


def value_label(name: str, value: float, unit: str | None = None) -> str:
    """``amp = 0.4768``, ``delay = 12.5 us``, ``frequency = 4.8012 GHz``: a swept value as people read it."""
    unit = unit_of(name) if unit is None else unit
    if unit == "s":
        scaled, shown = _scaled(value, ((1e-9, "ns"), (1e-6, "us"), (1e-3, "ms"), (1.0, "s")))
        return f"{name} = {scaled:.4g} {shown}"
    if unit == "Hz":
        scaled, shown = _scaled(value, ((1.0, "Hz"), (1e3, "kHz"), (1e6, "MHz"), (1e9, "GHz")))
        return f"{name} = {scaled:.7g} {shown}"
    if unit:
        return f"{name} = {value:.4g} {unit}"
    return f"{name} = {value:.4g}"


def _scaled(value: float, steps: Sequence[tuple[float, str]]) -> tuple[float, str]:
    size = abs(value)
    chosen = steps[0]
    for step in steps:
        if size >= step[0]:
            chosen = step
    return value / chosen[0], chosen[1]


def axis_scale(name: str, values: np.ndarray, unit: str | None = None) -> tuple[float, str]:
    """A factor and a unit for an axis of these values: delays in us or ns, frequencies in MHz or GHz."""
    unit = unit_of(name) if unit is None else unit
    finite = np.abs(values[np.isfinite(values)]) if values.size else np.zeros(0)
    top = float(finite.max()) if finite.size else 0.0
    if unit == "s":
        if top < 1e-6:
            return 1e9, "ns"
        return (1e6, "us") if top < 1e-2 else (1.0, "s")
    if unit == "Hz":
        if top >= 1e8:
            return 1e-9, "GHz"
        return (1e-6, "MHz") if top >= 1e5 else (1.0, "Hz")
    return 1.0, unit
