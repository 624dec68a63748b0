"""Tune-up building blocks against closed forms: fits, quality rules, LDA, the resonator readout model."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest

from workbench.devices.model import ReadoutCalibration, Resonator
from workbench.errors import ConfigError
from workbench.executors.registry import load_catalogue
from workbench.readout import (
    acquisition_frequencies,
    assignment_fidelity,
    iq_centres_at,
    iq_points,
    level_centres,
)
from workbench.schedule.builder import ScheduleBuilder
from workbench.tuneup.discriminator import confusion_matrix, train_lda
from workbench.tuneup.fitting import (
    assess,
    cosine,
    damped_cosine,
    dominant_frequency,
    exponential,
    fit_curve,
    rabi_lineshape,
)


def _noisy(func, x, params, sigma, seed):
    rng = np.random.default_rng(seed)
    return func(x, *params) + rng.normal(0, sigma, x.size), np.full(x.size, sigma)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cosine_fit_recovers_the_period_within_its_error(seed):
    x = np.linspace(0, 1.0, 31)
    y, err = _noisy(cosine, x, (0.95, -0.8, 0.1), 0.02, seed)
    fit = fit_curve(cosine, x, y, err, [0.9, -0.5, 0.0], ("period", "A", "B"), model="cos")
    period = fit["period"]
    assert abs(period.value - 0.95) < 4 * period.stderr
    assert period.stderr < 0.01
    assert assess(fit).ok
    assert 0.3 < fit.chi2_red < 3  # the weights are the noise: chi2 per degree of freedom near 1


def test_damped_cosine_and_exponential_fits_recover_rates():
    t = np.linspace(0, 8, 81)
    y, err = _noisy(damped_cosine, t, (0.7, 0.05, 0.2, 0.9, 0.0), 0.01, 4)
    f0 = dominant_frequency(t, y, 0, 5)
    assert abs(f0 - 0.7) < 0.02
    fit = fit_curve(damped_cosine, t, y, err, [f0, 0.1, 0.0, 0.8, 0.0], ("f", "rate", "phase", "A", "B"),
                    model="ramsey")
    assert abs(fit["f"].value - 0.7) < 4 * fit["f"].stderr
    assert abs(fit["rate"].value - 0.05) < 4 * fit["rate"].stderr
    y, err = _noisy(exponential, t, (0.4, 1.0, 0.1), 0.01, 5)
    fit = fit_curve(exponential, t, y, err, [1.0, 0.5, 0.0], ("rate", "A", "B"), model="t1")
    assert abs(fit["rate"].value - 0.4) < 4 * fit["rate"].stderr


def test_rabi_lineshape_is_the_generalised_rabi_formula():
    # on resonance a pi-area square pulse flips the qubit; at detuning sqrt(3) R the population is
    # R^2/(4 R^2) sin^2(pi * 2R * T) with R T = 1/2: 1/4 * sin^2(pi) = 0
    duration, rabi = 1.0, 0.5
    line = partial(rabi_lineshape, duration=duration)
    assert line(np.array([0.0]), 0.0, rabi, 1.0, 0.0)[0] == pytest.approx(1.0)
    assert line(np.array([math.sqrt(3) * rabi]), 0.0, rabi, 1.0, 0.0)[0] == pytest.approx(0.0, abs=1e-12)
    d = 0.3
    w = math.hypot(rabi, d)
    expected = rabi**2 / w**2 * math.sin(math.pi * w * duration) ** 2
    assert line(np.array([d]), 0.0, rabi, 1.0, 0.0)[0] == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(5))
def test_pure_noise_is_rejected(seed):
    x = np.linspace(0, 1, 31)
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 0.02, x.size)
    err = np.full(x.size, 0.02)
    fit = fit_curve(cosine, x, y, err, [0.5, 0.01, 0.0], ("period", "A", "B"), model="cos")
    quality = assess(fit)
    assert not quality.ok
    assert any("noise" in r or "R²" in r for r in quality.reasons)


def test_failed_fit_is_reported_not_raised():
    x = np.linspace(0, 1, 5)
    fit = fit_curve(cosine, x, np.full(5, np.nan), None, [0.5, 1.0, 0.0], ("period", "A", "B"), model="cos")
    assert not fit.success
    assert not assess(fit).ok


def test_lda_on_gaussian_clouds_reaches_the_analytic_fidelity():
    rng = np.random.default_rng(11)
    c0, c1, sigma, n = 1.0 + 0.2j, -0.6 + 0.9j, 0.3, 40000
    zero = c0 + rng.normal(0, sigma, n) + 1j * rng.normal(0, sigma, n)
    one = c1 + rng.normal(0, sigma, n) + 1j * rng.normal(0, sigma, n)
    disc, stats = train_lda(zero, one)
    confusion = confusion_matrix(np.stack([zero, one]), disc)
    fidelity = 1 - (confusion[0, 1] + confusion[1, 0]) / 2
    analytic = 0.5 * (1 + math.erf(abs(c1 - c0) / (2 * sigma) / math.sqrt(2)))
    assert fidelity == pytest.approx(analytic, abs=3 * math.sqrt(analytic * (1 - analytic) / n) + 1e-4)
    # the boundary is the perpendicular bisector: weights along c1 - c0, midpoint on the boundary
    w = np.array(disc.weights)
    direction = np.array([(c1 - c0).real, (c1 - c0).imag])
    assert abs(w @ direction) / (np.linalg.norm(w) * np.linalg.norm(direction)) > 0.999
    mid = (c0 + c1) / 2
    assert abs(w @ [mid.real, mid.imag] + disc.offset) < 0.01
    assert stats["separation_sigma"] == pytest.approx(abs(c1 - c0) / sigma, rel=0.02)


# --------------------------------------------------------------------------------- readout model


def _readout(**resonator) -> ReadoutCalibration:
    base = {"frequency": 6.8e9, "pulse": {"shape": "constant", "duration": 100, "amp": 0.1},
            "acquire_duration": 100, "iq_centers": {0: [1.0, 0.2], 1: [-0.6, 0.9], 2: [-0.9, -0.5]},
            "iq_noise": 0.25}
    if resonator:
        base["resonator"] = resonator
    return ReadoutCalibration.model_validate(base)


def test_resonator_model_keeps_the_centres_at_its_frequency_and_is_lorentzian_around_it():
    ro = _readout(frequency=6.8e9, linewidth=2e6, dispersive_shift=-1e6)
    at = iq_centres_at(ro, 6.8e9)
    for k, c in ro.iq_centers.items():
        assert at[k] == pytest.approx(complex(*c), abs=1e-12)
    # |c1 - c0| follows |S1 - S0| = (4 |chi| / kappa) / sqrt((1 + x0^2)(1 + x1^2)), x_k = 2 (f - f_k) / kappa
    kappa, chi = 2e6, -1e6
    for f in (6.8e9 - 3e6, 6.8e9 + 0.5e6, 6.8e9 + 5e6):
        x0, x1 = 2 * (f - (6.8e9 - chi)) / kappa, 2 * (f - (6.8e9 + chi)) / kappa
        ratio = math.sqrt((1 + 1) * (1 + 1)) / math.sqrt((1 + x0**2) * (1 + x1**2))  # x = ±1 at f_r
        sep = iq_centres_at(ro, f)
        assert abs(sep[1] - sep[0]) == pytest.approx(ratio * abs(at[1] - at[0]), rel=1e-12)
    far = iq_centres_at(ro, 6.8e9 + 1e9)
    assert abs(far[0] - far[1]) < 1e-2  # far off resonance the states look alike
    assert assignment_fidelity(ro, 6.8e9 + 1e9) < 0.51
    assert assignment_fidelity(ro, 6.8e9) == pytest.approx(
        0.5 * (1 + math.erf(abs(at[1] - at[0]) / (2 * 0.25) / math.sqrt(2))))


def test_readout_without_resonator_ignores_the_frequency():
    ro = _readout()
    rng1, rng2 = np.random.default_rng(3), np.random.default_rng(3)
    levels = np.array([0, 1, 2, 1, 0])
    assert np.array_equal(iq_points(levels, ro, rng1), iq_points(levels, ro, rng2, 7.3e9))
    with pytest.raises(ValueError, match="must not be 0"):
        Resonator(frequency=6.8e9, linewidth=1e6, dispersive_shift=0.0)


def test_iq_points_around_the_centres_with_gaussian_noise():
    """Each shot is its level's centre (the highest one for levels above it) plus I and Q noise of the
    readout's width; centres computed once for a sweep give the very same points."""
    ro = _readout()
    levels = np.repeat([0, 1, 2, 3], 20_000)
    points = iq_points(levels, ro, np.random.default_rng(5), 6.8e9)
    centres = level_centres(ro, 6.8e9)
    assert centres.size == 3  # level 3 reads like level 2, the highest centre given
    two_states = ro.model_copy(update={"iq_centers": {0: [1.0, 0.2], 1: [-0.6, 0.9]}})
    assert level_centres(two_states)[2] == level_centres(two_states)[1] == -0.6 + 0.9j
    offsets = points - centres[np.minimum(levels, 2)]
    assert abs(offsets.real.std() - ro.iq_noise) < 0.02 * ro.iq_noise
    assert abs(offsets.imag.std() - ro.iq_noise) < 0.02 * ro.iq_noise
    assert abs(np.corrcoef(offsets.real, offsets.imag)[0, 1]) < 0.02
    again = iq_points(levels, ro, np.random.default_rng(5), 6.8e9, centres)
    assert np.array_equal(points, again)


def test_acquisition_frequency_is_the_readout_tone_of_the_kept_acquisition():
    b = ScheduleBuilder("e", 1e-9, {"d0": 4.8e9, "m0": 6.8e9}, 2)
    b.acquire(0, 100, 0, 0)  # before any setf: the initial frame
    b.frame(200, "m0", "setf", 6.81e9)
    b.play(200, "m0", np.full(100, 0.1), "ro")
    b.acquire(200, 100, 0, 1)
    b.frame(400, "m0", "setf", 6.79e9)
    b.play(400, "m0", np.full(100, 0.1), "ro")
    b.acquire(400, 100, 0, 0)  # slot 0 written again: the later acquisition counts
    assert acquisition_frequencies(b.build()) == {0: 6.79e9, 1: 6.81e9}


# --------------------------------------------------------------------------------- config files


def test_base_entries_change_one_qubit_by_index(tmp_path):
    path = tmp_path / "lab.yml"
    path.write_text("devices:\n  - name: two\n    base: qutip-2q\n    qubits:\n      1:\n"
                    "        drive: {x: {amp: 0.4}}\n")
    device = load_catalogue(path).get("two")
    builtin = load_catalogue(None).get("qutip-2q")
    assert device.qubit(1).drive.x.amp == 0.4
    assert device.qubit(1).drive.x.beta == builtin.qubit(1).drive.x.beta
    assert device.qubit(0) == builtin.qubit(0)
    path.write_text("devices:\n  - name: two\n    base: qutip-2q\n    qubits:\n      5:\n        t1: 1.0e-5\n")
    with pytest.raises(ConfigError, match=r"qubits\.5: the base device has no qubit 5"):
        load_catalogue(path)
