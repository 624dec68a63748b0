"""T1: energy relaxation, from a pi pulse, a variable delay and a measurement.

The excited population decays as ``exp(-tau / T1)`` (the fit is :func:`workbench.analysis.relaxation.t1`,
which any T1 Dataset gets). T1 is physics: the routine measures and
reports it (with its uncertainty, in the Dataset and the summary) and proposes no calibration
change. In a simulator, writing it back would change the device being simulated rather than what
the workbench believes about it.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.analysis import relaxation
from workbench.devices.model import Device
from workbench.errors import JobError
from workbench.executors.base import Progress
from workbench.tuneup.base import (
    DEFAULT_SHOTS,
    CalibrationResult,
    builder,
    check_shots,
    finish,
    measure,
    play,
    pulse_qubit,
    resolve_device,
    run_schedules,
)

NAME = "t1"


def t1(
    device: str | Device | None = None,
    *,
    qubit: int = 0,
    span: float | None = None,
    points: int = 31,
    shots: int = DEFAULT_SHOTS,
    seed: int | None = None,
    config: str | os.PathLike[str] | None = None,
    options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CalibrationResult:
    """Delays from 0 to ``span`` s (default three times the T1 the device states, else 150 us); fits
    ``b + a exp(-tau / T1)`` and reports T1."""
    dev, source = resolve_device(device, config)
    q = pulse_qubit(dev, qubit)
    shots = check_shots(shots)
    if not isinstance(points, int) or points < 8:
        raise JobError(f"points must be an integer >= 8, got {points!r}", "points")
    span = float(span) if span is not None else 3 * (q.t1 if q.t1 is not None else 50e-6)
    if not span > 0:
        raise JobError(f"span must be positive, got {span}", "span")
    samples = np.unique(np.round(np.linspace(0.0, span, points) / dev.dt).astype(int))
    d = f"d{q.index}"
    schedules = []
    for k, n in enumerate(samples):
        b = builder(dev, f"t1-{k:03d}", delay=int(n) * dev.dt)
        t = play(b, 0, d, q.drive.x)
        if n:
            b.delay(t, d, int(n))
        measure(b, q, t + int(n))
        schedules.append(b.build())
    result = run_schedules(dev, schedules, name=f"tuneup-t1-q{q.index}", shots=shots, seed=seed, options=options,
                           progress=progress, cancel=cancel)
    analysis = relaxation.t1(result)
    (s,) = analysis.series
    (fit,) = analysis.fits.values()
    t1_value = analysis.parameters["t1"].param
    lines = [f"T1 = {t1_value.value * 1e6:.2f} ± {t1_value.stderr * 1e6:.2f} us (R² {fit['r2']:.4f})"]
    series = [dataclasses.replace(s, name="t1")]
    return finish(NAME, dev, q.index, series=series, x_label="delay after the pi pulse (us)",
                  fits={"t1": fit}, quality=analysis.quality, updates=[], measured={"t1": t1_value},
                  runs=[result], lines=lines, config=source,
                  parameters={"span": span, "points": points, "shots": shots}, analysis=analysis)


__all__ = ["t1"]
