"""Resonator spectroscopy: the readout frequency at which |0> and |1> are furthest apart.

The readout tone (frame of ``m<i>``) is stepped across the current readout frequency, once with the
qubit in |0> and once after the pi pulse. The resonator, pulled to ``f_r - chi`` by |0> and to
``f_r + chi`` by |1>, transmits ``S_k(f) = 1 / (1 + 2i (f - f_k) / kappa)`` (see
:class:`workbench.devices.model.Resonator`), so the difference of the two mean IQ points is

    D(f) = G (S(f; f_r + chi) - S(f; f_r - chi))

with one complex gain ``G`` (which also absorbs an imperfect pi pulse: a preparation that is only
90% |1> scales ``D`` by 0.9 and moves nothing). That complex function is fitted to the complex
data. ``|D|`` peaks at ``f_r``, midway between the two resonances, which is where the states are
best told apart: the routine proposes ``readout.frequency = f_r`` and reports ``kappa`` and ``chi``
(physics). The background and the gain cancel in ``D``, so nothing about the wiring needs to be known.

A device whose readout has no frequency response (no ``resonator`` in its physics) shows a flat
``D``; the fit then finds no resonance and the routine refuses to write.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
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
    run_schedules,
)
from workbench.tuneup.fitting import Fit, Param, Quality, fit_curve, linear_lstsq

NAME = "resonator-spectroscopy"
MAX_STDERR = 50e3  # Hz
MIN_SNR = 10.0


def resonator_spectroscopy(
    device: str | Device | None = None,
    *,
    qubit: int = 0,
    span: float = 10e6,
    points: int = 41,
    shots: int = DEFAULT_SHOTS,
    seed: int | None = None,
    config: str | os.PathLike[str] | None = None,
    options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CalibrationResult:
    """Step the readout frequency over ``span`` Hz around ``readout.frequency`` with the qubit in ``|0>`` and
    in ``|1>``; fit the two resonances' difference and propose ``readout.frequency`` midway between them."""
    dev, source = resolve_device(device, config)
    q = pulse_qubit(dev, qubit)
    shots = check_shots(shots)
    if not isinstance(points, int) or points < 11:
        raise JobError(f"points must be an integer >= 11, got {points!r}", "points")
    if not span > 0:
        raise JobError(f"span must be positive, got {span}", "span")
    centre = q.readout.frequency
    offsets = np.linspace(-span / 2, span / 2, points)
    m, d = f"m{q.index}", f"d{q.index}"
    schedules = []
    for state in (0, 1):
        for k, df in enumerate(offsets):
            b = builder(dev, f"resonator-spec-{state}-{k:03d}", frequency=float(centre + df), prepared=state)
            t = play(b, 0, d, q.drive.x) if state else 0
            b.frame(t, m, "setf", float(centre + df))
            measure(b, q, t)
            schedules.append(b.build())
    result = run_schedules(dev, schedules, name=f"tuneup-resonator-spectroscopy-q{q.index}", shots=shots,
                           seed=seed, options=options, progress=progress, cancel=cancel)
    stats = IQStats.of(result)
    z0, z1 = stats.mean[:points], stats.mean[points:]
    cov = stats.cov[:points] + stats.cov[points:]
    diff = z1 - z0
    err_re = np.sqrt(cov[:, 0, 0] / stats.shots)
    err_im = np.sqrt(cov[:, 1, 1] / stats.shots)
    x = offsets / 1e6  # MHz
    fit = _fit(x, diff, err_re, err_im)
    quality, fr, kappa, chi, gain = _judge(fit, x, span)
    new = float(round(centre + fr.value))
    magnitude = np.abs(diff)
    mag_err = np.sqrt((diff.real * err_re) ** 2 + (diff.imag * err_im) ** 2) / np.maximum(magnitude, 1e-15)
    fx = fine_grid(x, 600)
    fitted = np.abs(_model_complex(fx, *fit.values)) if fit.success else None
    series = [Series("separation", x, diff, magnitude, mag_err, fx, fitted),
              Series("|0>", x, z0, np.abs(z0), np.sqrt(stats.cov[:points, 0, 0] / stats.shots)),
              Series("|1>", x, z1, np.abs(z1), np.sqrt(stats.cov[points:, 0, 0] / stats.shots))]
    updates = [Update(q.index, ("readout", "frequency"), q.readout.frequency, new, fr.stderr)]
    measured = {"resonator_frequency": Param(centre + fr.value, fr.stderr), "linewidth": kappa,
                "dispersive_shift": chi, "gain": gain}
    lines = [f"|0> and |1> furthest apart at {new / 1e9:.9f} GHz ({fr.value / 1e3:+.1f} ± {fr.stderr / 1e3:.1f} kHz "
             f"from {centre / 1e9:.9f} GHz; R² {fit.r2:.4f})",
             f"resonator linewidth {kappa.value / 1e6:.3f} ± {kappa.stderr / 1e6:.3f} MHz, dispersive shift "
             f"±{chi.value / 1e6:.3f} ± {chi.stderr / 1e6:.3f} MHz"]
    return finish(NAME, dev, q.index, series=series, x_label=f"readout detuning from {centre / 1e9:.6f} GHz (MHz)",
                  signal_label="|IQ| (a.u.)", fits={"separation": fit.as_dict()}, quality=quality, updates=updates,
                  measured=measured, runs=[result], lines=lines,
                  markers=[{"x": fr.value / 1e6, "label": "readout"}], config=source,
                  parameters={"span": span, "points": points, "shots": shots, "centre": centre})


def _model_complex(x: np.ndarray, g_re: float, g_im: float, fr: float, chi: float, kappa: float) -> np.ndarray:
    """``G (S(x; fr + chi) - S(x; fr - chi))`` with ``S = 1 / (1 + 2i (x - f_k) / kappa)`` (MHz)."""
    s1 = 1.0 / (1.0 + 2j * (x - fr - chi) / kappa)
    s0 = 1.0 / (1.0 + 2j * (x - fr + chi) / kappa)
    return (g_re + 1j * g_im) * (s1 - s0)


def _fit(x: np.ndarray, diff: np.ndarray, err_re: np.ndarray, err_im: np.ndarray) -> Fit:
    """Complex least squares on the stacked real and imaginary parts; the gain solved linearly on a
    grid of centres and widths first, so the nonlinear fit starts next to the right resonance."""
    n = len(x)
    y = np.concatenate([diff.real, diff.imag])
    sigma = np.concatenate([err_re, err_im])
    w = 1 / np.maximum(sigma, 1e-15) ** 2
    step = float(np.min(np.diff(x)))
    span = float(x[-1] - x[0])
    best = (math.inf, 0.0, 0.0, 0.0, 0.0)
    for kappa in np.geomspace(2 * step, span / 2, 12):
        for chi in (0.25 * kappa, 0.5 * kappa, kappa):
            for fr in np.linspace(x[0], x[-1], 2 * n):
                basis = _model_complex(x, 1.0, 0.0, fr, chi, kappa)
                cols = (np.concatenate([basis.real, basis.imag]), np.concatenate([-basis.imag, basis.real]))
                coef, cost = linear_lstsq(cols, y, w)
                if cost < best[0]:
                    best = (cost, fr, chi, kappa, coef[0] + 1j * coef[1])
    _, fr, chi, kappa, gain = best

    def stacked(xx: np.ndarray, g_re: float, g_im: float, fr_: float, chi_: float, kappa_: float) -> np.ndarray:
        z = _model_complex(xx[:n], g_re, g_im, fr_, chi_, kappa_)
        return np.concatenate([z.real, z.imag])

    fit = fit_curve(stacked, np.concatenate([x, x]), y, sigma, [gain.real, gain.imag, fr, chi, kappa],
                    ("G_re", "G_im", "f_r", "chi", "kappa"),
                    model="G (S(f; f_r + chi) - S(f; f_r - chi)), S = 1/(1 + 2i (f - f_k)/kappa) (MHz)",
                    bounds=([-np.inf, -np.inf, x[0], 0.0, step / 4], [np.inf, np.inf, x[-1], span, 4 * span]))
    return fit


def _judge(fit: Fit, x: np.ndarray, span: float) -> tuple[Quality, Param, Param, Param, Param]:
    nan = Param(math.nan, math.inf)
    if not fit.success:
        return Quality((f"the fit failed: {fit.message}",), {"r2": fit.r2}), nan, nan, nan, nan
    fr = Param(fit["f_r"].value * 1e6, fit["f_r"].stderr * 1e6)
    kappa = Param(fit["kappa"].value * 1e6, fit["kappa"].stderr * 1e6)
    chi = Param(fit["chi"].value * 1e6, fit["chi"].stderr * 1e6)
    g = complex(fit["G_re"].value, fit["G_im"].value)
    var = fit.covariance[:2, :2]
    u = np.array([g.real, g.imag]) / max(abs(g), 1e-300)
    gain = Param(abs(g), math.sqrt(max(float(u @ var @ u), 0.0)))
    snr = gain.value / gain.stderr if gain.stderr > 0 else math.inf
    step = float(np.min(np.diff(x))) * 1e6
    reasons = [reason for passed, reason in [
        (snr >= MIN_SNR, f"no resonance above the noise: the response's gain is {snr:.1f} standard errors from "
                         f"zero (needs {MIN_SNR:g})"),
        (fit.r2 >= 0.9, f"the model explains R² = {fit.r2:.2f} of the data's variance (needs 0.9)"),
        (abs(fr.value) <= 0.45 * span, f"the resonance ({fr.value / 1e6:+.3f} MHz) is at the edge of the "
                                       f"±{span / 2e6:g} MHz window: widen it (span) or start closer"),
        (fr.stderr <= MAX_STDERR, f"the readout frequency is uncertain by {fr.stderr / 1e3:.0f} kHz (at most "
                                  f"{MAX_STDERR / 1e3:g} kHz)"),
        (step <= kappa.value <= 2 * span, f"the fitted linewidth {kappa.value / 1e6:.3g} MHz is not resolved by "
                                          f"{step / 1e6:.3g} MHz steps within {span / 1e6:g} MHz"),
    ] if not passed]
    return Quality(tuple(reasons), {"r2": fit.r2, "chi2_red": fit.chi2_red, "snr": snr}), fr, kappa, chi, gain


__all__ = ["resonator_spectroscopy"]
