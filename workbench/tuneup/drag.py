"""DRAG coefficient: the ``beta`` that cancels the phase error the transmon's third level causes.

Two sequences (Reed et al., the usual "Xp-Y90 / Yp-X90" pair): a pi pulse about x then a pi/2
about y, and a pi about y then a pi/2 about x. Ideally both end on the equator (P1 = 1/2). A phase
error per pulse, which is linear in ``beta`` around its optimum, tilts them in opposite directions,
so their excited populations are two lines in ``beta`` with opposite slopes that cross at the
optimum. Fitting two lines and intersecting them is closed form, and its uncertainty follows from
the two fits' covariances. Amplitude errors move both lines alike and leave the crossing in place.

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

from workbench.devices.model import Device
from workbench.errors import JobError, UnsupportedError
from workbench.executors.base import Progress
from workbench.tuneup.base import (
    DEFAULT_SHOTS,
    CalibrationResult,
    IQStats,
    Series,
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
from workbench.tuneup.fitting import Param, Quality, assess, fit_curve, line

NAME = "drag"
MAX_STDERR = 0.05  # samples of dt: beyond this the crossing is too shallow to trust
MIN_SLOPE_SNR = 10.0  # the two lines' slopes must differ by 10 standard errors


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
    stats = IQStats.of(result)
    signal, err, _ = stats.project()
    fits, series, quality = {}, [], Quality()
    for i, name in enumerate(sequences):
        rows = slice(i * points, (i + 1) * points)
        y, e = signal[rows], err[rows]
        slope0, intercept0 = np.polyfit(betas - centre, y, 1)
        fit = fit_curve(lambda b_, m, c: line(b_ - centre, m, c), betas, y, e, [slope0, intercept0],
                        ("slope", "intercept"), model="slope (beta - beta_centre) + intercept")
        fits[name] = fit
        quality = quality.merged(assess(fit, amplitude=None, label=name))
        series.append(Series(name, betas, stats.mean[rows], y, e, betas, fit.curve(betas) if fit.success else None))
    beta, slope_gap = _crossing(fits["xp-y90"], fits["yp-x90"], centre)
    quality = quality.merged(Quality(tuple(reason for passed, reason in [
        (slope_gap.value / slope_gap.stderr >= MIN_SLOPE_SNR if slope_gap.stderr > 0 else False,
         f"the two sequences' slopes differ by {slope_gap.value / slope_gap.stderr:.1f} standard errors "
         f"(needs {MIN_SLOPE_SNR:g}): no DRAG signal above the noise"),
        (betas[0] <= beta.value <= betas[-1],
         f"the crossing (beta = {beta.value:.4g}) lies outside the swept range [{betas[0]:.4g}, {betas[-1]:.4g}]"),
        (beta.stderr <= MAX_STDERR, f"beta is uncertain by {beta.stderr:.3g} (at most {MAX_STDERR:g})"),
    ] if not passed), {"slope_gap_snr": slope_gap.value / slope_gap.stderr if slope_gap.stderr > 0 else 0.0}))
    new = round_sig(beta.value, 5)
    updates = [Update(q.index, ("drive", "x", "beta"), x.beta, new, beta.stderr)]
    sx = q.drive.sx
    if sx is not None and sx.shape == "drag" and (sx.duration, sx.sigma, sx.width) == (x.duration, x.sigma, x.width):
        updates.append(Update(q.index, ("drive", "sx", "beta"), sx.beta, new, beta.stderr))
    lines = [f"the sequences cross at beta = {beta} (R² {fits['xp-y90'].r2:.3f} and {fits['yp-x90'].r2:.3f})"]
    return finish(NAME, dev, q.index, series=series, x_label="DRAG beta (samples)",
                  fits={k: v.as_dict() for k, v in fits.items()}, quality=quality, updates=updates,
                  measured={"beta": beta}, runs=[result], lines=lines,
                  markers=[{"x": beta.value, "label": "crossing"}], config=source,
                  parameters={"span": span, "points": points, "shots": shots, "centre": centre})


def _crossing(a: Any, b: Any, centre: float) -> tuple[Param, Param]:
    """Where two fitted lines cross, with the uncertainty propagated from both fits' covariances."""
    if not (a.success and b.success):
        return Param(math.nan, math.inf), Param(0.0, math.inf)
    (m1, c1), (m2, c2) = a.values, b.values
    gap = m1 - m2
    if gap == 0:
        return Param(math.nan, math.inf), Param(0.0, math.inf)
    x = (c2 - c1) / gap
    # d x / d (m1, c1) and d (m2, c2)
    g1 = np.array([-x / gap, -1 / gap])
    g2 = np.array([x / gap, 1 / gap])
    var = float(g1 @ a.covariance @ g1 + g2 @ b.covariance @ g2)
    gap_err = math.sqrt(a.covariance[0, 0] + b.covariance[0, 0])
    return Param(centre + x, math.sqrt(max(var, 0.0))), Param(abs(gap), gap_err)


__all__ = ["drag"]
