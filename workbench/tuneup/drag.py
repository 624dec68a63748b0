"""DRAG coefficient: the ``beta`` that cancels the phase error the transmon's third level causes.

Two sequences (Reed et al., the usual "Xp-Y90 / Yp-X90" pair): a pi pulse about x then a pi/2
about y, and a pi about y then a pi/2 about x. Ideally both end on the equator (P1 = 1/2). A phase
error per pulse, which is linear in ``beta`` around its optimum, tilts them in opposite directions,
so their excited populations are two lines in ``beta`` with opposite slopes that cross at the
optimum. Fitting two lines and intersecting them is closed form, and its uncertainty follows from
the two fits' covariances (:func:`workbench.analysis.drag.drag`). Amplitude errors move both lines
alike and leave the crossing in place.

The pi/2 pulses are the pi pulse at half amplitude, sharing its ``beta``. The same ``beta`` is
proposed for ``sx`` when it has the pi pulse's shape, duration and width (the simulator's own
optimum for the pi/2 pulse differs by about 2%, a phase error far below what shots resolve).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.analysis.drag import drag as analyse_drag
from workbench.devices.model import Device
from workbench.errors import JobError, UnsupportedError
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

NAME = "drag"


def drag(
    device: str | Device | None = None,
    *,
    qubit: int = 0,
    span: float = 4.0,
    points: int = 21,
    shots: int = 4 * DEFAULT_SHOTS,
    seed: int | None = None,
    config: str | os.PathLike[str] | None = None,
    options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CalibrationResult:
    """Sweep ``beta`` over ``span`` (samples) around the current one in both sequences; propose the crossing.

    Run it after the frequency and amplitude calibrations: a detuned drive tilts the two lines as a
    phase error does and moves the crossing (2 MHz off moves it by about 1). The default 4096 shots
    put the crossing's standard error near 0.02."""
    dev, source = resolve_device(device, config)
    q = pulse_qubit(dev, qubit)
    shots = check_shots(shots)
    x = q.drive.x
    if x.shape != "drag":
        raise UnsupportedError(f"qubit {q.index}'s x pulse is a {x.shape} pulse; DRAG calibration needs shape drag")
    if not isinstance(points, int) or points < 5:
        raise JobError(f"points must be an integer >= 5, got {points!r}", "points")
    centre = x.beta or 0.0
    betas = np.linspace(centre - span / 2, centre + span / 2, points)
    d = f"d{q.index}"
    sequences = {"xp-y90": ((0.0, 1.0), (math.pi / 2, 0.5)), "yp-x90": ((math.pi / 2, 1.0), (0.0, 0.5))}
    schedules = []
    for name, steps in sequences.items():
        for k, beta in enumerate(betas):
            b = builder(dev, f"drag-{name}-{k:03d}", beta=float(beta), sequence=name)
            t = 0
            for phase, fraction in steps:
                if phase:
                    b.frame(t, d, "shiftp", phase)
                t = play(b, t, d, x, fraction * x.amp, beta=float(beta))
                if phase:
                    b.frame(t, d, "shiftp", -phase)
            measure(b, q, t)
            schedules.append(b.build())
    result = run_schedules(dev, schedules, name=f"tuneup-drag-q{q.index}", shots=shots, seed=seed, options=options,
                           progress=progress, cancel=cancel)
    analysis = analyse_drag(result, centre=centre)
    beta = analysis.parameters["beta"].param
    new = round_sig(beta.value, 5)
    updates = [Update(q.index, ("drive", "x", "beta"), x.beta, new, beta.stderr)]
    sx = q.drive.sx
    if sx is not None and sx.shape == "drag" and (sx.duration, sx.sigma, sx.width) == (x.duration, x.sigma, x.width):
        updates.append(Update(q.index, ("drive", "sx", "beta"), sx.beta, new, beta.stderr))
    return finish(NAME, dev, q.index, series=analysis.series, x_label=analysis.x_label, fits=analysis.fits,
                  quality=analysis.quality, updates=updates, measured={"beta": beta}, runs=[result],
                  lines=analysis.lines, markers=analysis.markers, config=source,
                  parameters={"span": span, "points": points, "shots": shots, "centre": centre}, analysis=analysis)


__all__ = ["drag"]
