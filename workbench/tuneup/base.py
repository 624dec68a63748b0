"""What every tune-up routine shares: building its jobs, running them, reading IQ, and its result.

A routine measures like an experimentalist: it builds ordinary schedules (IR) from the device's
*current* calibration, exports them as one PulseQobj and runs that through
:func:`workbench.api.run` on the device's own executor, so the jobs are ordinary runs (they can
be viewed, exported and rerun like any other). It reads integrated IQ (``meas_level 1``, one point
per shot), because a device being tuned up may have no trustworthy discriminator yet, fits the
data, and returns a :class:`CalibrationResult`: the data, the fit and its uncertainty in one
Dataset, the calibration values it proposes, and the verdict on whether they may be written.
Nothing is written here: :mod:`workbench.tuneup.writeback` does that, and only for a result whose
quality passed.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.analysis.base import AnalysisResult, Series, as_json
from workbench.analysis.fitting import Param, Quality
from workbench.devices.model import Device, PulseCalibration, Qubit
from workbench.errors import UnsupportedError
from workbench.executors.base import Progress
from workbench.executors.registry import load_catalogue
from workbench.jobs.to_qobj import schedules_to_qobj
from workbench.pulses.shapes import calibrated, sample
from workbench.results.dataset import json_text
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.ir import Schedule
from workbench.tuneup.updates import Update, with_updates

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import xarray as xr

    from workbench.results.result import Result
    from workbench.tuneup.writeback import WriteOutcome

log = logging.getLogger("workbench.tuneup")

SCHEMA = "workbench-tuneup/1"
DEFAULT_SHOTS = 1024


# ----------------------------------------------------------------------------------------- devices


def resolve_device(device: str | Device | None,
                   config: str | os.PathLike[str] | None = None) -> tuple[Device, str | None]:
    """The device to tune and the config file it came from (None: built-in or given as an object)."""
    if isinstance(device, Device):
        return device, str(config) if config is not None else None
    catalogue = load_catalogue(config)
    return catalogue.get(device), catalogue.config_path


def pulse_qubit(device: Device, qubit: int) -> Qubit:
    """The qubit, with errors that say what to do instead of a KeyError."""
    if not device.is_pulse_device:
        raise UnsupportedError(f"'{device.name}' is a gate-level device: tune-up needs a pulse device")
    try:
        return device.qubit(int(qubit))
    except KeyError:
        known = sorted(q.index for q in device.qubits)
        raise UnsupportedError(f"device '{device.name}' has no qubit {qubit}; it has {known}") from None


# ----------------------------------------------------------------------------------------- schedules


def play(b: ScheduleBuilder, t0: int, channel: str, cal: PulseCalibration, amp: float | None = None,
         **changes: Any) -> int:
    """Play a calibrated pulse (optionally another amplitude or other parameters); returns its end."""
    pulse = cal.model_copy(update=changes) if changes else cal
    b.play(t0, channel, calibrated(pulse, amp), f"{channel}-{pulse.shape}", shape=pulse.shape,
           parameters=pulse.parameters(amp))
    return t0 + pulse.duration


def measure(b: ScheduleBuilder, q: Qubit, t0: int, slot: int = 0) -> int:
    """The device's readout of ``q`` at ``t0`` (its pulse on ``m<i>`` and the acquisition); returns the end."""
    ro = q.readout
    b.play(t0, f"m{q.index}", calibrated(ro.pulse), f"m{q.index}-readout", shape=ro.pulse.shape,
           parameters=ro.pulse.parameters())
    b.acquire(t0 + ro.acquire_delay, ro.acquire_duration, q.index, slot)
    return t0 + max(ro.pulse.duration, ro.acquire_delay + ro.acquire_duration)


def builder(device: Device, name: str, **metadata: Any) -> ScheduleBuilder:
    return ScheduleBuilder(name, device.dt, device.frame_frequencies(), 1, dict(metadata))


def sampled(shape: str, **parameters: Any) -> np.ndarray:
    return sample(shape, parameters)


def run_schedules(device: Device, schedules: Sequence[Schedule], *, name: str, shots: int, seed: int | None,
                  options: Mapping[str, Any] | None = None, progress: Progress | None = None,
                  cancel: threading.Event | None = None) -> Result:
    """Run tune-up schedules as one ordinary job (PulseQobj) through the core, reading per-shot IQ."""
    from workbench.api import run

    qobj = schedules_to_qobj(schedules, shots=shots, meas_level=1, meas_return="single", qobj_id=name,
                             backend_name=device.name)
    opts = dict(options or {})
    opts.update({"meas_level": 1, "meas_return": "single"})
    log.info("tune-up %s: %d experiments x %d shots on %s", name, len(schedules), shots, device.name)
    return run(qobj, device, shots=shots, seed=seed, options=opts, progress=progress, cancel=cancel)


@dataclass
class CalibrationResult:
    """A routine's measurement, fit, proposed calibration and verdict.

    ``dataset`` is self-contained (its attributes hold the fit, the verdict and the proposed
    updates as JSON strings) so that the history keeps exactly what justified a change;
    ``figure`` is drawn from it. ``measured`` holds physics the routine measured but never writes
    (T1, T2*, the qubit frequency): calibration is what tune-up changes, physics is what it learns.
    """

    routine: str
    device: Device
    qubit: int
    dataset: xr.Dataset
    updates: list[Update]
    quality: Quality
    measured: dict[str, Param] = field(default_factory=dict)
    runs: list[Result] = field(default_factory=list)
    config: str | None = None

    @property
    def ok(self) -> bool:
        """True when the quality rules passed and there is something to write."""
        return self.quality.ok

    @cached_property
    def figure(self) -> go.Figure:
        from workbench.views.tuneup_figures import tuneup_figure

        return tuneup_figure(self.dataset)

    def updated_device(self) -> Device:
        """The device with this result's updates applied in memory (whatever the verdict)."""
        return with_updates(self.device, self.updates)

    def write(self, config: str | os.PathLike[str] | None = None, *, dry_run: bool = False) -> WriteOutcome:
        """Write the updates into the config file as a new version (see :mod:`workbench.tuneup.writeback`)."""
        from workbench.tuneup.writeback import write_back

        return write_back(self, config if config is not None else self.config, dry_run=dry_run)

    def summary(self) -> str:
        return str(self.dataset.attrs.get("summary", ""))

    def __repr__(self) -> str:
        verdict = "ok" if self.ok else "rejected"
        return f"<CalibrationResult {self.routine} on {self.device.name} q{self.qubit}: {verdict}>"

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(self.summary()) + "</pre>"


def format_summary(routine: str, device: Device, qubit: int, lines: Sequence[str], updates: Sequence[Update],
                   quality: Quality) -> str:
    out = [f"{routine} on {device.name}, qubit {qubit}", *(f"  {line}" for line in lines)]
    if updates:
        out.append("  proposed calibration:")
        for u in updates:
            err = f" (± {u.stderr:.2g})" if u.stderr is not None else ""
            out.append(f"    {u.key}: {_short(u.old)} -> {_short(u.new)}{err}")
    else:
        out.append("  nothing to write: this routine measures physics, not calibration")
    if quality.ok:
        out.append("  verdict: the fit passes the quality rules" + (" and may be written" if updates else ""))
    else:
        out.append("  verdict: REJECTED, nothing will be written:")
        out.extend(f"    - {r}" for r in quality.reasons)
    return "\n".join(out)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return repr(value) if value is not None else "none"


def finish(
    routine: str,
    device: Device,
    qubit: int,
    *,
    series: Sequence[Series],
    x_label: str,
    signal_label: str = "IQ projected on the states' axis (a.u.)",
    fits: Mapping[str, Any],
    quality: Quality,
    updates: Sequence[Update],
    measured: Mapping[str, Param],
    runs: Sequence[Result],
    lines: Sequence[str],
    markers: Sequence[Mapping[str, Any]] = (),
    extra: Mapping[str, tuple[tuple[str, ...], np.ndarray]] | None = None,
    extra_coords: Mapping[str, Any] | None = None,
    config: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    analysis: AnalysisResult | None = None,
) -> CalibrationResult:
    """Assemble the result Dataset and the :class:`CalibrationResult` every routine returns.

    Dimensions: ``series`` x ``point`` for the measured curves and ``series`` x ``fine`` for the fitted
    ones (shorter series are padded with NaN). Attributes are plain strings or JSON strings, as in
    result Datasets (netCDF cannot hold mappings).
    """
    import xarray as xr

    from workbench.core import new_tuid

    n = max((len(s.x) for s in series), default=0)
    m = max((len(s.fit_x) for s in series if s.fit_x is not None), default=0)

    def padded(values: np.ndarray | None, size: int, dtype: Any = float) -> np.ndarray:
        out = np.full(size, np.nan, dtype=dtype) if dtype is not complex else np.full(size, np.nan + 1j * np.nan)
        if values is not None:
            out[: len(values)] = values
        return out

    variables: dict[str, Any] = {}
    coords: dict[str, Any] = {}
    if series:
        coords["series"] = np.array([s.name for s in series], dtype=object).astype(str)
        coords["point"] = np.arange(n)
        variables["x"] = (("series", "point"), np.stack([padded(s.x, n) for s in series]))
        variables["iq_mean"] = (("series", "point"), np.stack([padded(s.iq_mean, n, complex) for s in series]))
        variables["signal"] = (("series", "point"), np.stack([padded(s.signal, n) for s in series]))
        variables["signal_err"] = (("series", "point"), np.stack([padded(s.signal_err, n) for s in series]))
        if m:
            coords["fine"] = np.arange(m)
            variables["fit_x"] = (("series", "fine"), np.stack([padded(s.fit_x, m) for s in series]))
            variables["fit"] = (("series", "fine"), np.stack([padded(s.fit_y, m) for s in series]))
    for name, (dims, array) in (extra or {}).items():
        variables[name] = (dims, array)
    coords.update(extra_coords or {})
    ds = xr.Dataset(variables, coords=coords)
    summary = format_summary(routine, device, qubit, lines, updates, quality)
    ds.attrs = {
        "schema": SCHEMA,
        "tuid": new_tuid(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "routine": routine,
        "device": device.name,
        "qubit": int(qubit),
        "x_label": x_label,
        "signal_label": signal_label,
        "summary": summary,
        "fits": json_text(fits),
        "quality": json_text(quality.as_dict()),
        "updates": json_text([u.as_dict() for u in updates]),
        "measured": json_text({k: v.as_dict() for k, v in measured.items()}),
        "markers": json_text(list(markers)),
        "parameters": json_text(dict(parameters or {})),
        "runs": json_text([{"tuid": r.tuid, "seed": r.options.get("seed"), "shots": r.options.get("shots"),
                        "executor": r.executor, "experiments": len(r.experiment_names)} for r in runs]),
        "device_config": json_text(device.model_dump(mode="json")),
    }
    if analysis is not None:
        ds.attrs["analysis"] = as_json(analysis, indent=None)
    for name, text in (("x", x_label), ("signal", signal_label), ("signal_err", "standard error of signal"),
                       ("iq_mean", "mean integrated IQ over the shots")):
        if name in ds:
            ds[name].attrs["long_name"] = text
    log.info("%s", summary)
    return CalibrationResult(routine, device, int(qubit), ds, list(updates), quality, dict(measured), list(runs),
                             config)


def round_sig(value: float, digits: int = 6) -> float:
    """A value rounded to ``digits`` significant digits: what the YAML shows, far below any fit's error."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.{digits}g}")


def fine_grid(x: np.ndarray, points: int = 400) -> np.ndarray:
    return np.linspace(float(np.min(x)), float(np.max(x)), points)


def check_shots(shots: Any) -> int:
    from workbench.errors import OptionsError

    if isinstance(shots, bool) or not isinstance(shots, int | np.integer) or shots < 16:
        raise OptionsError(f"must be an integer >= 16 (a tune-up averages shots), got {shots!r}", "shots")
    return int(shots)
