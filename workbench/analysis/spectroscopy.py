"""Spectroscopy: the qubit's frequency from a drive-frequency sweep, the readout resonator from a readout sweep.

**Qubit.** A long flat pulse of pi area at a detuning ``d`` leaves the generalised Rabi formula
``P1 = R^2 / (R^2 + d^2) sin^2(pi sqrt(R^2 + d^2) T)`` (``R`` the Rabi frequency, ``T`` the pulse's
effective length: area / amplitude). That closed form, not a Lorentzian, is fitted: its side lobes are
real and a Lorentzian would bend around them. ``T`` comes from the caller, or from the job the Dataset
holds (the longest drive pulse of its first experiment, rebuilt on the recorded device).

**Resonator.** The readout tone is stepped with the qubit in ``|0>`` and in ``|1>``. The resonator,
pulled to ``f_r - chi`` by ``|0>`` and to ``f_r + chi`` by ``|1>``, transmits
``S_k(f) = 1 / (1 + 2i (f - f_k) / kappa)``, so the difference of the two mean IQ points is
``D(f) = G (S(f; f_r + chi) - S(f; f_r - chi))`` with one complex gain ``G`` (which also absorbs an
imperfect pi pulse). That complex function is fitted to the complex data; ``|D|`` peaks at ``f_r``,
where the states are best told apart. The background and the gain cancel in ``D``, so nothing about
the wiring needs to be known. A readout without a frequency response gives a flat ``D``: no resonance.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np

from workbench.analysis.base import AnalysisResult, Parameter, Series
from workbench.analysis.fitting import (
    Fit,
    Param,
    Quality,
    assess,
    fit_curve,
    grid_search,
    linear_lstsq,
    rabi_lineshape,
    weights_of,
)
from workbench.analysis.signal import (
    IQStats,
    dataset_of,
    device_qubit,
    drive_frequency,
    is_tuneup,
    layout,
    references,
    series_from,
    slot_signal,
    tuneup_series,
)
from workbench.errors import InputError

MAX_STDERR = 50e3  # Hz: a centre known worse than this is not worth using (Ramsey does better anyway)
MIN_SNR = 10.0


def _json(raw: Any) -> dict[str, Any]:
    import json

    try:
        value = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# ------------------------------------------------------------------------------------------------ qubit


def fit_qubit_line(x: np.ndarray, y: np.ndarray, err: np.ndarray | None, duration_us: float) -> Fit:
    """The generalised Rabi line shape (x in MHz, the pulse's effective length in us)."""
    model = partial(rabi_lineshape, duration=duration_us)
    w = weights_of(err, len(x))
    r0 = 1 / (2 * duration_us)
    f0, coef = grid_search(np.linspace(x[0], x[-1], 4 * len(x)),
                           lambda f: (rabi_lineshape(x, f, r0, 1.0, 0.0, duration=duration_us), np.ones_like(x)),
                           y=y, weights=w)
    return fit_curve(model, x, y, err, [f0, r0, coef[0], coef[1]], ("f0", "rabi", "A", "B"),
                     model="b + a R^2/(R^2+d^2) sin^2(pi sqrt(R^2+d^2) T), d = f - f0 (MHz, us)",
                     bounds=([x[0], 0.02 * r0, -np.inf, -np.inf], [x[-1], 20 * r0, np.inf, np.inf]))


def effective_duration(ds: Any, slot: int = 0) -> float | None:
    """The effective length (area / peak, in s) of the longest drive pulse of the first experiment, from
    the job text and device the Dataset holds; None when they cannot be rebuilt."""
    from workbench.devices.model import Device
    from workbench.errors import WorkbenchError
    from workbench.jobs import load_job

    text = str(ds.attrs.get("job_source", ""))
    config = _json(ds.attrs.get("device_config"))
    qubit = device_qubit(ds, slot)
    if not text or not config or qubit is None:
        return None
    try:
        device = Device.model_validate(config)
        schedule = load_job(text).schedules(device)[0]
    except (WorkbenchError, ValueError, IndexError):
        return None
    plays = schedule.plays_on(f"d{qubit['index']}")
    if not plays:
        return None
    longest = max(plays, key=lambda p: p.duration)
    peak = float(np.max(np.abs(longest.samples)))
    return float(np.sum(np.abs(longest.samples))) / peak * device.dt if peak > 0 else None


def qubit_spectroscopy(data: Any, *, slot: int = 0, duration: float | None = None,
                       centre: float | None = None) -> AnalysisResult:
    """Fit the line of a drive-frequency sweep; report the qubit frequency and the Rabi frequency.

    ``duration`` is the pulse's effective length in s (see the module docstring); ``centre`` the drive
    frequency the offsets are shown from (default: the qubit's calibrated drive frequency)."""
    ds = dataset_of(data)
    if is_tuneup(ds):
        params = _json(ds.attrs.get("parameters"))
        (s,) = tuneup_series(ds)[:1]
        centre = float(centre if centre is not None else params.get("centre", 0.0))
        x = s.x
        duration = duration if duration is not None else params.get("t_eff", params.get("duration"))
        y_label = str(ds.attrs.get("signal_label", ""))
    else:
        lay = layout(ds, ("frequency", "freq"), unit="Hz")
        signal = slot_signal(ds, slot, ground=references(lay, "edges"))
        (s,) = series_from(lay, signal)[:1]
        if centre is None:
            centre = drive_frequency(device_qubit(ds, slot))
        if centre is None or not (np.min(s.x) <= centre <= np.max(s.x)):
            centre = float(np.mean(s.x))
        x = (s.x - centre) / 1e6
        if duration is None:
            duration = effective_duration(ds, slot)
        y_label = signal.label
    if duration is None or not duration > 0:
        raise InputError("qubit spectroscopy needs the pulse's effective length: analyse(..., duration=SECONDS)")
    span = float(x[-1] - x[0]) * 1e6
    fit = fit_qubit_line(x, s.signal, s.signal_err, duration * 1e6)
    offset = Param(fit["f0"].value * 1e6, fit["f0"].stderr * 1e6)
    quality = assess(fit, checks=[
        (abs(offset.value) <= 0.45 * span,
         f"the line centre ({offset.value / 1e6:+.3f} MHz) is at the edge of the ±{span / 2e6:g} MHz window: "
         "widen it (span) or start closer"),
        (offset.stderr <= MAX_STDERR, f"the centre is uncertain by {offset.stderr / 1e3:.0f} kHz "
                                      f"(at most {MAX_STDERR / 1e3:g} kHz)"),
    ])
    parameters = {"qubit_frequency": Parameter(centre + offset.value, offset.stderr, "Hz", "qubit frequency"),
                  "frequency_offset": Parameter(offset.value, offset.stderr, "Hz", "offset from the drive frequency"),
                  "rabi_frequency": Parameter(fit["rabi"].value * 1e6, fit["rabi"].stderr * 1e6, "Hz",
                                              "Rabi frequency")}
    fx = np.linspace(float(x[0]), float(x[-1]), 600)
    fitted = [Series(s.name or "spectroscopy", x, s.signal, s.signal_err, fx, fit.curve(fx) if fit.success else None,
                     s.iq_mean)]
    lines = [f"qubit line at {(centre + offset.value) / 1e9:.9f} GHz: {offset.value / 1e3:+.1f} ± "
             f"{offset.stderr / 1e3:.1f} kHz from {centre / 1e9:.9f} GHz (R² {fit.r2:.4f})",
             f"Rabi frequency {fit['rabi'].value:.4f} MHz for a {duration * 1e9:.0f} ns effective pulse"]
    return AnalysisResult("qubit-spectroscopy", "Qubit spectroscopy", parameters, quality, fitted,
                          {"spectroscopy": fit.as_dict()}, x_label=f"drive detuning from {centre / 1e9:.6f} GHz (MHz)",
                          y_label=y_label, lines=lines, markers=[{"x": offset.value / 1e6, "label": "qubit"}],
                          context={"slot": slot, "centre": centre, "duration": duration})


# --------------------------------------------------------------------------------------------- resonator


def resonator_model(x: np.ndarray, g_re: float, g_im: float, fr: float, chi: float, kappa: float) -> np.ndarray:
    """``G (S(x; fr + chi) - S(x; fr - chi))`` with ``S = 1 / (1 + 2i (x - f_k) / kappa)`` (MHz)."""
    s1 = 1.0 / (1.0 + 2j * (x - fr - chi) / kappa)
    s0 = 1.0 / (1.0 + 2j * (x - fr + chi) / kappa)
    return (g_re + 1j * g_im) * (s1 - s0)


def fit_resonator(x: np.ndarray, diff: np.ndarray, err_re: np.ndarray | None, err_im: np.ndarray | None) -> Fit:
    """Complex least squares on the stacked real and imaginary parts; the gain solved linearly on a grid of
    centres and widths first, so the nonlinear fit starts next to the right resonance."""
    n = len(x)
    y = np.concatenate([diff.real, diff.imag])
    sigma = None if err_re is None or err_im is None else np.concatenate([err_re, err_im])
    w = weights_of(sigma, 2 * n)
    step = float(np.min(np.diff(x)))
    span = float(x[-1] - x[0])
    best = (math.inf, 0.0, 0.0, 0.0, 0j)
    for kappa in np.geomspace(2 * step, span / 2, 12):
        for chi in (0.25 * kappa, 0.5 * kappa, kappa):
            for fr in np.linspace(x[0], x[-1], 2 * n):
                basis = resonator_model(x, 1.0, 0.0, fr, chi, kappa)
                cols = (np.concatenate([basis.real, basis.imag]), np.concatenate([-basis.imag, basis.real]))
                coef, cost = linear_lstsq(cols, y, w)
                if cost < best[0]:
                    best = (cost, fr, chi, kappa, coef[0] + 1j * coef[1])
    _, fr, chi, kappa, gain = best

    def stacked(xx: np.ndarray, g_re: float, g_im: float, fr_: float, chi_: float, kappa_: float) -> np.ndarray:
        z = resonator_model(xx[:n], g_re, g_im, fr_, chi_, kappa_)
        return np.concatenate([z.real, z.imag])

    return fit_curve(stacked, np.concatenate([x, x]), y, sigma, [gain.real, gain.imag, fr, chi, kappa],
                     ("G_re", "G_im", "f_r", "chi", "kappa"),
                     model="G (S(f; f_r + chi) - S(f; f_r - chi)), S = 1/(1 + 2i (f - f_k)/kappa) (MHz)",
                     bounds=([-np.inf, -np.inf, x[0], 0.0, step / 4], [np.inf, np.inf, x[-1], span, 4 * span]))


def judge_resonator(fit: Fit, x: np.ndarray) -> tuple[Quality, Param, Param, Param, Param]:
    """The verdict and (f_r offset, kappa, chi in Hz, ``|G|``) of a resonator fit."""
    span = float(x[-1] - x[0]) * 1e6
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


def _states(ds: Any, slot: int, centre: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple, float]:
    """Offsets (MHz), the |0> and |1> mean IQ, their (I, Q) errors and the centre frequency."""
    if is_tuneup(ds):
        params = _json(ds.attrs.get("parameters"))
        curves = {s.name: s for s in tuneup_series(ds)}
        if "|0>" not in curves or "|1>" not in curves:
            raise InputError("the tune-up dataset holds no |0> and |1> curves")
        z0, z1 = curves["|0>"].iq_mean, curves["|1>"].iq_mean
        err = np.hypot(curves["|0>"].signal_err, curves["|1>"].signal_err)
        centre = float(centre if centre is not None else params.get("centre", 0.0))
        return curves["|0>"].x, z0, z1, (err, err), centre
    lay = layout(ds, ("frequency", "freq"), group="prepared", unit="Hz")
    if len(lay.groups) != 2:
        raise InputError("resonator spectroscopy needs the readout sweep with the qubit in |0> and in |1> "
                         "(a 'prepared' coordinate with two values)")
    (_, rows0), (_, rows1) = lay.groups
    if "iq" in ds:
        stats = IQStats.of(ds, slot)
        cov = stats.cov[rows0] + stats.cov[rows1]
        errors = (np.sqrt(cov[:, 0, 0] / stats.shots), np.sqrt(cov[:, 1, 1] / stats.shots))
        mean = stats.mean
    elif "iq_mean" in ds:
        mean = np.asarray(ds["iq_mean"].sel(slot=slot).values)
        errors = (None, None)
    else:
        raise InputError("resonator spectroscopy needs integrated IQ (meas_level 1)")
    x = lay.x[rows0]
    if centre is None:
        qubit = device_qubit(ds, slot) or {}
        centre = (qubit.get("readout") or {}).get("frequency")
    if centre is None or not (np.min(x) <= centre <= np.max(x)):
        centre = float(np.mean(x))
    return (x - centre) / 1e6, mean[rows0], mean[rows1], errors, float(centre)


def resonator_spectroscopy(data: Any, *, slot: int = 0, centre: float | None = None) -> AnalysisResult:
    """Fit the difference of the ``|0>`` and ``|1>`` readout responses; report the readout frequency where
    they are furthest apart, the resonator's linewidth and dispersive shift."""
    ds = dataset_of(data)
    x, z0, z1, (err_re, err_im), centre = _states(ds, slot, centre)
    diff = z1 - z0
    fit = fit_resonator(x, diff, err_re, err_im)
    quality, fr, kappa, chi, gain = judge_resonator(fit, x)
    magnitude = np.abs(diff)
    mag_err = (None if err_re is None else
               np.sqrt((diff.real * err_re) ** 2 + (diff.imag * err_im) ** 2) / np.maximum(magnitude, 1e-15))
    fx = np.linspace(float(x[0]), float(x[-1]), 600)
    fitted = np.abs(resonator_model(fx, *fit.values)) if fit.success else None
    series = [Series("separation", x, magnitude, mag_err, fx, fitted, diff),
              Series("|0>", x, np.abs(z0), err_re, iq_mean=z0),
              Series("|1>", x, np.abs(z1), err_re, iq_mean=z1)]
    parameters = {"resonator_frequency": Parameter(centre + fr.value, fr.stderr, "Hz", "readout frequency"),
                  "linewidth": Parameter(kappa.value, kappa.stderr, "Hz", "resonator linewidth κ"),
                  "dispersive_shift": Parameter(chi.value, chi.stderr, "Hz", "dispersive shift χ"),
                  "gain": Parameter(gain.value, gain.stderr, "", "response gain |G|")}
    lines = [f"|0> and |1> furthest apart at {(centre + fr.value) / 1e9:.9f} GHz ({fr.value / 1e3:+.1f} ± "
             f"{fr.stderr / 1e3:.1f} kHz from {centre / 1e9:.9f} GHz; R² {fit.r2:.4f})",
             f"resonator linewidth {kappa.value / 1e6:.3f} ± {kappa.stderr / 1e6:.3f} MHz, dispersive shift "
             f"±{chi.value / 1e6:.3f} ± {chi.stderr / 1e6:.3f} MHz"]
    return AnalysisResult("resonator-spectroscopy", "Resonator spectroscopy", parameters, quality, series,
                          {"separation": fit.as_dict()}, x_label=f"readout detuning from {centre / 1e9:.6f} GHz (MHz)",
                          y_label="|IQ| (a.u.)", lines=lines, markers=[{"x": fr.value / 1e6, "label": "readout"}],
                          context={"slot": slot, "centre": centre})


__all__ = ["effective_duration", "fit_qubit_line", "fit_resonator", "judge_resonator", "qubit_spectroscopy",
           "resonator_model", "resonator_spectroscopy"]
