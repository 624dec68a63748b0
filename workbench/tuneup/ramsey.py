"""Ramsey: the drive-frequency error to a few kHz, and T2*, from two pi/2 pulses around a delay.

Acquire two series with virtual detunings ``+delta`` and ``-delta`` (below), analyse them with
:func:`workbench.analysis.ramsey.ramsey` (which states the phase convention and how the two series
tell the sign of the error), update ``drive.frequency`` to ``f_drive - Delta``. T2* is physics:
reported, never written.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.analysis.ramsey import ramsey as analyse_ramsey
from workbench.devices.model import Device, PulseCalibration, Qubit
from workbench.errors import JobError
from workbench.executors.base import Progress
from workbench.tuneup.base import (
    DEFAULT_SHOTS,
    CalibrationResult,
    Update,
    builder,
    check_shots,
    finish,
    measure,
    play,
    pulse_qubit,
    resolve_device,
    run_schedules,
)

NAME = "ramsey"


def _sx(q: Qubit) -> PulseCalibration:
    return q.drive.sx if q.drive.sx is not None else q.drive.x.model_copy(update={"amp": q.drive.x.amp / 2})


def ramsey(
    device: str | Device | None = None,
    *,
    qubit: int = 0,
    detuning: float = 1e6,
    span: float = 4e-6,
    points: int = 41,
    shots: int = DEFAULT_SHOTS,
    seed: int | None = None,
    config: str | os.PathLike[str] | None = None,
    options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CalibrationResult:
    """Two Ramsey series (virtual detuning ``+detuning`` and ``-detuning`` Hz, delays 0 to ``span`` s),
    fitted with damped cosines; proposes ``drive.frequency`` and reports T2*."""
    dev, source = resolve_device(device, config)
    q = pulse_qubit(dev, qubit)
    shots = check_shots(shots)
    if not isinstance(points, int) or points < 11:
        raise JobError(f"points must be an integer >= 11, got {points!r}", "points")
    if not (detuning > 0 and span > 0):
        raise JobError("detuning and span must be positive", "detuning")
    samples = np.unique(np.round(np.linspace(0.0, span, points) / dev.dt).astype(int))
    step = float(np.min(np.diff(samples))) * dev.dt
    nyquist = 1 / (2 * step)
    if 2 * detuning > 0.8 * nyquist:
        raise JobError(f"a ±{detuning / 1e6:g} MHz detuning needs delays closer than {1e9 / (3.2 * detuning):.0f} ns "
                       f"(have {step * 1e9:.0f} ns): more points or a shorter span", "detuning")
    sx = _sx(q)
    d = f"d{q.index}"
    schedules = []
    labels = (("+", detuning), ("-", -detuning))
    for label, delta in labels:
        for k, n in enumerate(samples):
            tau = int(n) * dev.dt
            b = builder(dev, f"ramsey{label}-{k:03d}", delay=tau, detuning=delta)
            t = play(b, 0, d, sx)
            if n:
                b.delay(t, d, int(n))
            t += int(n)
            b.frame(t, d, "shiftp", math.remainder(2 * math.pi * delta * tau, 2 * math.pi))
            measure(b, q, play(b, t, d, sx))
            schedules.append(b.build())
    result = run_schedules(dev, schedules, name=f"tuneup-ramsey-q{q.index}", shots=shots, seed=seed, options=options,
                           progress=progress, cancel=cancel)
    centre = q.drive_frequency
    analysis = analyse_ramsey(result, detuning=detuning, centre=centre)
    error = analysis.parameters["frequency_error"].param
    new = float(round(centre - error.value))
    measured = {k: analysis.parameters[k].param for k in ("frequency_error", "qubit_frequency", "t2_star",
                                                         "fringe_plus", "fringe_minus")}
    t2 = measured["t2_star"]
    f_plus, f_minus = measured["fringe_plus"], measured["fringe_minus"]
    t2_text = (f"T2* = {t2.value * 1e6:.1f} ± {t2.stderr * 1e6:.1f} us" if math.isfinite(t2.stderr)
               else f"T2* not resolved within {span * 1e6:g} us")
    lines = [f"fringes at {f_plus.value / 1e6:.5f} (+) and {f_minus.value / 1e6:.5f} (-) MHz for a "
             f"±{detuning / 1e6:g} MHz virtual detuning",
             f"drive frame is {error.value / 1e3:+.2f} ± {error.stderr / 1e3:.2f} kHz off the qubit: "
             f"qubit at {new / 1e9:.9f} GHz",
             t2_text]
    updates = [Update(q.index, ("drive", "frequency"), q.drive.frequency, new, error.stderr)]
    return finish(NAME, dev, q.index, series=analysis.series, x_label="delay (us)", fits=analysis.fits,
                  quality=analysis.quality, updates=updates, measured=measured, runs=[result], lines=lines,
                  config=source, parameters={"detuning": detuning, "span": span, "points": points, "shots": shots,
                                             "centre": centre}, analysis=analysis)


__all__ = ["ramsey"]
