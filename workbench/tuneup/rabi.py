"""Rabi amplitude: the pi and pi/2 pulse amplitudes from amplitude sweeps of the calibrated pulses.

On resonance a pulse of fixed shape rotates the qubit by an angle proportional to its amplitude,
so the excited population is ``(1 - cos(pi a / a_pi)) / 2``: a cosine in the amplitude whose half
period is the pi amplitude. The phase of that cosine is not a free parameter (no pulse, no
rotation), which keeps the fit honest. Each pulse is swept with its own shape (the ``sx`` pulse may
carry another DRAG ``beta``), to about two and a half rotations' worth of amplitude so that a
starting value 20% off still shows a full period; ``sx`` gets half of its own pi amplitude.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench.devices.model import Device
from workbench.errors import JobError
from workbench.executors.base import Progress
from workbench.tuneup.base import (
    DEFAULT_SHOTS,
    CalibrationResult,
    IQStats,
    Series,
    Update,
    builder,
    check_shots,
    fine_grid,
    finish,
    measure,
    play,
    pulse_qubit,
    resolve_device,
    round_sig,
    run_schedules,
)
from workbench.tuneup.fitting import Fit, Param, Quality, assess, cosine, fit_curve, grid_search, weights_of

NAME = "rabi"
MAX_RELATIVE_ERROR = 0.02  # a pi amplitude known to worse than 2% is not worth writing


def rabi(
    device: str | Device | None = None,
    *,
    qubit: int = 0,
    points: int = 31,
    span: float = 2.5,
    shots: int = DEFAULT_SHOTS,
    seed: int | None = None,
    config: str | os.PathLike[str] | None = None,
    options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CalibrationResult:
    """Sweep the amplitude of ``drive.x`` (and ``drive.sx``) from 0 to ``span`` times the rotation
    each should make (capped at 1), fit the Rabi cosines, propose ``drive.x.amp`` and ``drive.sx.amp``."""
    dev, source = resolve_device(device, config)
    q = pulse_qubit(dev, qubit)
    shots = check_shots(shots)
    if not isinstance(points, int) or points < 8:
        raise JobError(f"points must be an integer >= 8, got {points!r}", "points")
    pulses = [("x", q.drive.x, math.pi)]
    if q.drive.sx is not None:
        pulses.append(("sx", q.drive.sx, math.pi / 2))
    schedules, sweeps = [], {}
    d = f"d{q.index}"
    for name, cal, angle in pulses:
        top = math.copysign(min(span * abs(cal.amp) * math.pi / angle, 1.0), cal.amp or 1.0)
        amps = np.linspace(0.0, top, points)
        sweeps[name] = amps
        for k, a in enumerate(amps):
            b = builder(dev, f"rabi-{name}-{k:03d}", amp=float(a), pulse=name)
            measure(b, q, play(b, 0, d, cal, float(a)))
            schedules.append(b.build())
    result = run_schedules(dev, schedules, name=f"tuneup-rabi-q{q.index}", shots=shots, seed=seed, options=options,
                           progress=progress, cancel=cancel)
    stats = IQStats.of(result)
    ground = [i * points for i in range(len(pulses))]  # amplitude 0: nothing played
    signal, err, _ = stats.project(ground=ground)
    series, fits, updates, lines = [], {}, [], []
    quality = Quality()
    measured: dict[str, Param] = {}
    for i, (name, cal, angle) in enumerate(pulses):
        rows = slice(i * points, (i + 1) * points)
        amps = sweeps[name]
        fit, pi_amp = _fit(amps, signal[rows], err[rows])
        fits[name] = fit.as_dict()
        top = abs(amps[-1])
        value = pi_amp.value * angle / math.pi
        ok_range = 0 < abs(pi_amp.value) <= top * 1.02 and abs(value) <= 1
        quality = quality.merged(assess(fit, label=name, checks=[
            (ok_range, f"the pi amplitude {pi_amp.value:.4g} lies outside the swept range (0, {top:.4g}] "
                       "or would need |amp| > 1"),
            (pi_amp.relative <= MAX_RELATIVE_ERROR,
             f"the pi amplitude is uncertain by {100 * pi_amp.relative:.1f}% (at most {100 * MAX_RELATIVE_ERROR:g}%)"),
        ]))
        new = round_sig(math.copysign(abs(value), cal.amp or 1.0))
        updates.append(Update(q.index, ("drive", name, "amp"), cal.amp, new, pi_amp.stderr * angle / math.pi))
        measured[f"{name}_pi_amplitude"] = pi_amp
        lines.append(f"{name}: pi amplitude {pi_amp} (R² {fit.r2:.4f}); {name} rotates by "
                     f"{180 / math.pi * angle:g}° at amp {new:.6g} (was {cal.amp:.6g})")
        fx = fine_grid(amps)
        series.append(Series(name, amps, stats.mean[rows], signal[rows], err[rows], fx, fit.curve(fx)))
    markers = [{"series": u.path[1], "x": u.new, "label": f"{u.path[1]} amp {u.new:.4g}"} for u in updates]
    return finish(NAME, dev, q.index, series=series, x_label="drive amplitude", fits=fits, quality=quality,
                  updates=updates, measured=measured, runs=[result], lines=lines, markers=markers, config=source,
                  parameters={"points": points, "span": span, "shots": shots})


def _fit(amps: np.ndarray, y: np.ndarray, err: np.ndarray) -> tuple[Fit, Param]:
    """Cosine in the amplitude (even, so a negative sweep needs no care); the period from a grid search,
    then a weighted least-squares fit."""
    top = float(np.max(np.abs(amps))) or 1.0
    sign = 1.0 if amps[-1] >= 0 else -1.0
    w = weights_of(err, len(y))
    periods = np.linspace(0.3 * top, 8 * top, 600)
    period, coef = grid_search(periods, lambda p: (np.cos(2 * np.pi * amps / p), np.ones_like(amps)), y, w)
    fit = fit_curve(cosine, amps, y, err, [period, coef[0], coef[1]], ("period", "A", "B"),
                    model="b + a cos(2 pi amp / period)",
                    bounds=([0.05 * top, -np.inf, -np.inf], [50 * top, np.inf, np.inf]))
    period_fit = fit["period"]
    return fit, Param(sign * period_fit.value / 2, period_fit.stderr / 2)


__all__: Sequence[str] = ["rabi"]
