"""Rabi amplitude: the pi and pi/2 pulse amplitudes from amplitude sweeps of the calibrated pulses.

Acquire (below), analyse (:func:`workbench.analysis.rabi.rabi_amplitude`, the fit any Rabi Dataset
gets: a cosine in the amplitude whose half period is the pi amplitude), update (``drive.x.amp``,
``drive.sx.amp``). Each pulse is swept with its own shape (the ``sx`` pulse may
carry another DRAG ``beta``), to about two and a half rotations' worth of amplitude so that a
starting value 20% off still shows a full period; ``sx`` gets half of its own pi amplitude.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench.analysis.fitting import Param
from workbench.analysis.rabi import rabi_amplitude
from workbench.devices.model import Device
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
    round_sig,
    run_schedules,
)

NAME = "rabi"


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
    analysis = rabi_amplitude(result, angles={name: angle for name, _, angle in pulses})
    series, fits, updates, lines = [], {}, [], []
    measured: dict[str, Param] = {}
    for (name, cal, angle), s, fit, parameter in zip(pulses, analysis.series, analysis.fits.values(),
                                                     analysis.parameters.values(), strict=True):
        pi_amp = parameter.param
        fits[name] = fit
        new = round_sig(math.copysign(abs(pi_amp.value * angle / math.pi), cal.amp or 1.0))
        updates.append(Update(q.index, ("drive", name, "amp"), cal.amp, new, pi_amp.stderr * angle / math.pi))
        measured[f"{name}_pi_amplitude"] = pi_amp
        lines.append(f"{name}: pi amplitude {pi_amp} (R² {fit['r2']:.4f}); {name} rotates by "
                     f"{180 / math.pi * angle:g}° at amp {new:.6g} (was {cal.amp:.6g})")
        series.append(dataclasses.replace(s, name=name))
    markers = [{"series": u.path[1], "x": u.new, "label": f"{u.path[1]} amp {u.new:.4g}"} for u in updates]
    return finish(NAME, dev, q.index, series=series, x_label="drive amplitude", fits=fits, quality=analysis.quality,
                  updates=updates, measured=measured, runs=[result], lines=lines, markers=markers, config=source,
                  parameters={"points": points, "span": span, "shots": shots}, analysis=analysis)


__all__: Sequence[str] = ["rabi"]
