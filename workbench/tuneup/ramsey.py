"""Ramsey: the drive-frequency error to a few kHz, and T2*, from two pi/2 pulses around a delay.

The phase convention decides the sign of the correction, so it is stated here once. In the
simulator (docs/simulator.md, Qiskit's convention) a drive frame detuned from the qubit by
``Delta = f_drive - f_qubit`` leaves the qubit rotated by ``Rz(2 pi Delta tau)`` after a delay
``tau``, and ``ShiftPhase(+2 pi Delta tau)`` undoes that rotation. A Ramsey sequence whose second
pulse is advanced by ``ShiftPhase(+2 pi delta tau)`` (a "virtual detuning" ``delta``) therefore
shows fringes at ``|Delta - delta|``.

A fringe frequency has no sign, so one series cannot tell ``Delta = delta - f`` from
``delta + f``. Two series with ``+delta`` and ``-delta`` can: they show ``|Delta - delta|`` and
``|Delta + delta|``, and only one ``Delta`` fits both. The drive frequency becomes
``f_drive - Delta``. Had the convention been the mirror one, the correction would double the error
instead of removing it; the tests catch that (the frequency must land within 50 kHz of the physics).

The fringes decay as ``exp(-tau / T2*)``. In the simulator's Markovian model that is the ``t2`` of
the device; T2* is physics, so it is reported and never written.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.devices.model import Device, PulseCalibration, Qubit
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
    run_schedules,
)
from workbench.tuneup.fitting import (
    Fit,
    Param,
    Quality,
    assess,
    damped_cosine,
    dominant_frequency,
    fit_curve,
    grid_search,
    weights_of,
)

NAME = "ramsey"
MAX_STDERR = 20e3  # Hz
CONSISTENCY_FLOOR = 10e3  # Hz the two series may disagree by on top of 5 standard errors


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
    stats = IQStats.of(result)
    m = len(samples)
    signal, err, _ = stats.project(excited=[0, m])  # no delay: sx sx = x
    t_us = samples * dev.dt * 1e6
    fits: dict[str, Fit] = {}
    series = []
    quality = Quality()
    for i, (label, _) in enumerate(labels):
        rows = slice(i * m, (i + 1) * m)
        fit = _fit(t_us, signal[rows], err[rows], nyquist / 1e6)
        fits[label] = fit
        quality = quality.merged(assess(fit, label=f"series {label}"))
        fx = fine_grid(t_us, 800)
        series.append(Series(label, t_us, stats.mean[rows], signal[rows], err[rows], fx,
                             fit.curve(fx) if fit.success else None))
    f_plus = Param(fits["+"]["f"].value * 1e6, fits["+"]["f"].stderr * 1e6)
    f_minus = Param(fits["-"]["f"].value * 1e6, fits["-"]["f"].stderr * 1e6)
    # f+ = |Delta - delta|, f- = |Delta + delta|: the Delta both allow
    pairs = itertools.product((detuning - f_plus.value, detuning + f_plus.value),
                              (-detuning + f_minus.value, -detuning - f_minus.value))
    a, b_ = min(pairs, key=lambda p: abs(p[0] - p[1]))
    sigma = 0.5 * math.hypot(f_plus.stderr, f_minus.stderr)
    error = Param((a + b_) / 2, sigma)
    spread = abs(a - b_)
    rate = _combined(fits["+"]["rate"], fits["-"]["rate"])
    quality = quality.merged(Quality(tuple(reason for passed, reason in [
        (spread <= 5 * 2 * sigma + CONSISTENCY_FLOOR,
         f"the two series disagree on the detuning by {spread / 1e3:.1f} kHz (frequency error "
         f"{a / 1e3:+.1f} vs {b_ / 1e3:+.1f} kHz): the qubit may be more than {detuning / 1e6:g} MHz off; "
         "run qubit spectroscopy first or choose a larger detuning"),
        (sigma <= MAX_STDERR, f"the frequency error is uncertain by {sigma / 1e3:.1f} kHz (at most "
                              f"{MAX_STDERR / 1e3:g} kHz)"),
    ] if not passed), {"ramsey_disagreement_hz": spread}))
    centre = q.drive_frequency
    new = float(round(centre - error.value))
    t2 = _t2(rate)
    measured = {"frequency_error": error, "qubit_frequency": Param(centre - error.value, sigma),
                "t2_star": t2, "fringe_plus": f_plus, "fringe_minus": f_minus}
    t2_text = (f"T2* = {t2.value * 1e6:.1f} ± {t2.stderr * 1e6:.1f} us" if math.isfinite(t2.stderr)
               else f"T2* not resolved within {span * 1e6:g} us (decay rate {rate.value:.3g} ± {rate.stderr:.2g} /us)")
    lines = [f"fringes at {f_plus.value / 1e6:.5f} (+) and {f_minus.value / 1e6:.5f} (-) MHz for a "
             f"±{detuning / 1e6:g} MHz virtual detuning",
             f"drive frame is {error.value / 1e3:+.2f} ± {sigma / 1e3:.2f} kHz off the qubit: "
             f"qubit at {new / 1e9:.9f} GHz",
             t2_text]
    updates = [Update(q.index, ("drive", "frequency"), q.drive.frequency, new, sigma)]
    return finish(NAME, dev, q.index, series=series, x_label="delay (us)",
                  fits={k: v.as_dict() for k, v in fits.items()}, quality=quality, updates=updates,
                  measured=measured, runs=[result], lines=lines, config=source,
                  parameters={"detuning": detuning, "span": span, "points": points, "shots": shots,
                              "centre": centre})


def _fit(t: np.ndarray, y: np.ndarray, err: np.ndarray, nyquist: float) -> Fit:
    """Damped cosine; the frequency from a periodogram refined by a grid search with the phase free."""
    w = weights_of(err, len(y))
    f0 = dominant_frequency(t, y, 0.0, nyquist, 800)
    width = nyquist / 400
    f0, coef = grid_search(np.linspace(max(f0 - 2 * width, 0.0), f0 + 2 * width, 41),
                           lambda f: (np.cos(2 * np.pi * f * t), np.sin(2 * np.pi * f * t), np.ones_like(t)), y, w)
    amplitude, phase = math.hypot(coef[0], coef[1]), math.atan2(-coef[1], coef[0])
    span = float(t[-1] - t[0]) or 1.0
    return fit_curve(damped_cosine, t, y, err, [f0, 0.1 / span, phase, amplitude, coef[2]],
                     ("f", "rate", "phase", "A", "B"), model="b + a exp(-rate t) cos(2 pi f t + phase) (us, MHz)",
                     bounds=([0.0, 0.0, -4 * math.pi, 0.0, -np.inf],
                             [1.2 * nyquist, np.inf, 4 * math.pi, np.inf, np.inf]))


def _combined(a: Param, b: Param) -> Param:
    """Inverse-variance weighted mean of two estimates of one quantity."""
    if not (a.stderr > 0 and b.stderr > 0 and math.isfinite(a.stderr) and math.isfinite(b.stderr)):
        return a if math.isfinite(a.stderr) else b
    wa, wb = 1 / a.stderr**2, 1 / b.stderr**2
    return Param((a.value * wa + b.value * wb) / (wa + wb), math.sqrt(1 / (wa + wb)))


def _t2(rate: Param) -> Param:
    """T2* in s from a decay rate in 1/us; infinite uncertainty when the rate is not 2 sigma above zero."""
    if rate.value <= 2 * rate.stderr or not math.isfinite(rate.stderr):
        return Param(1e-6 / rate.value if rate.value > 0 else math.inf, math.inf)
    return Param(1e-6 / rate.value, 1e-6 * rate.stderr / rate.value**2)


__all__ = ["ramsey"]
