"""The waveform library against closed forms written out independently here.

Every expected value below is computed from the textbook formula (Qiskit 1.x definitions, midpoint
sampling t = k + 1/2) with plain numpy/math, never through :mod:`workbench.pulses.shapes` helpers,
so a wrong constant, a shifted time grid or a dropped lifting makes these tests fail.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.devices.model import PulseCalibration
from workbench.errors import JobError
from workbench.pulses.shapes import (
    MAX_DURATION,
    SCALED_BY_AMP,
    SHAPES,
    calibrated,
    parse_amplitude,
    parse_samples,
    sample,
)


def midpoints(duration: int) -> np.ndarray:
    return np.arange(duration) + 0.5


def lifted_gauss(t: np.ndarray, center: float, zero_at: float, sigma: float) -> np.ndarray:
    g = np.exp(-((t - center) ** 2) / (2 * sigma**2))
    g0 = math.exp(-((zero_at - center) ** 2) / (2 * sigma**2))
    return (g - g0) / (1 - g0)


# --------------------------------------------------------------------------------------- gaussians


def test_gaussian_matches_lifted_formula_and_peaks_at_amp_for_odd_duration():
    d, amp, sigma = 41, 0.37, 7.0
    got = sample("gaussian", {"duration": d, "amp": amp, "sigma": sigma})
    assert got.dtype == np.complex128 and got.shape == (d,)
    expected = amp * lifted_gauss(midpoints(d), d / 2, -1.0, sigma)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert got[20] == pytest.approx(amp, abs=1e-15)  # t = 20.5 = d/2 exactly
    assert np.argmax(got.real) == 20
    np.testing.assert_allclose(got, got[::-1], atol=1e-15)


def test_gaussian_even_duration_has_no_sample_at_the_peak():
    d, amp, sigma = 40, 0.5, 10.0
    got = sample("gaussian", {"duration": d, "amp": amp, "sigma": sigma}).real
    # midpoints 19.5 and 20.5 straddle the centre 20: both equal, both below amp
    assert got[19] == pytest.approx(got[20], abs=1e-15)
    assert got[19] < amp
    g = math.exp(-(0.5**2) / (2 * sigma**2))
    g0 = math.exp(-(21**2) / (2 * sigma**2))
    assert got[19] == pytest.approx(amp * (g - g0) / (1 - g0), rel=1e-12)


def test_lifted_gaussian_is_zero_one_sample_beyond_each_edge():
    # sample a long pulse, then check that the continuous formula our samples follow vanishes at
    # t = -1 and t = d + 1: the samples next to those points are the smallest and tiny
    d, sigma = 20, 3.0
    got = sample("gaussian", {"duration": d, "amp": 1.0, "sigma": sigma}).real
    assert lifted_gauss(np.array([-1.0, d + 1.0]), d / 2, -1.0, sigma) == pytest.approx([0.0, 0.0], abs=1e-15)
    assert got[0] == pytest.approx(got[-1], abs=1e-15)
    assert 0 < got[0] < 0.01
    # without lifting the first sample would be exp(-(9.5)^2 / 18), clearly larger
    assert got[0] < math.exp(-(9.5**2) / (2 * sigma**2))


def test_gaussian_area_is_sigma_sqrt_two_pi_times_amp():
    amp, sigma = 0.3, 10.0
    wide = sample("gaussian", {"duration": 160, "amp": amp, "sigma": sigma}).real.sum()
    assert wide == pytest.approx(amp * sigma * math.sqrt(2 * math.pi), rel=1e-6)
    # a truncated pulse (+-2 sigma): area of the truncated gaussian minus the lifted pedestal
    d = 40
    g0 = math.exp(-(21**2) / (2 * sigma**2))
    integral = sigma * math.sqrt(2 * math.pi) * math.erf((d / 2) / (sigma * math.sqrt(2)))
    expected = amp * (integral - g0 * d) / (1 - g0)
    short = sample("gaussian", {"duration": d, "amp": amp, "sigma": sigma}).real.sum()
    assert short == pytest.approx(expected, rel=1e-3)
    assert short < amp * sigma * math.sqrt(2 * math.pi) * 0.96


def test_huge_sigma_gives_the_limiting_parabola_not_nan():
    d = 10
    got = sample("gaussian", {"duration": d, "amp": 1.0, "sigma": 1e200}).real
    t = midpoints(d)
    np.testing.assert_allclose(got, 1 - ((t - d / 2) / (d / 2 + 1)) ** 2, rtol=1e-9)
    tiny = sample("drag", {"duration": 11, "amp": 1.0, "sigma": 1e-200, "beta": 3.0})
    assert np.all(np.isfinite(tiny))
    assert tiny[5] == pytest.approx(1.0) and np.count_nonzero(tiny) == 1


def test_drag_imaginary_part_is_beta_times_qiskit_derivative():
    d, amp, sigma, beta = 40, 0.5, 10.0, 2.5
    got = sample("drag", {"duration": d, "amp": amp, "sigma": sigma, "beta": beta})
    t = midpoints(d)
    gauss = amp * lifted_gauss(t, d / 2, -1.0, sigma)
    np.testing.assert_allclose(got.real, gauss, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.imag, beta * (-(t - d / 2) / sigma**2) * gauss, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.imag, -got.imag[::-1], atol=1e-15)
    # Qiskit multiplies -(t - c)/sigma^2 by the *lifted* gaussian, which is not exactly the slope of
    # the lifted in-phase part: the two differ by beta * amp * (t - c)/sigma^2 * g0 / (1 - g0)
    g0 = math.exp(-(21**2) / (2 * sigma**2))
    exact_slope = amp * (-(t - d / 2) / sigma**2) * np.exp(-((t - d / 2) ** 2) / (2 * sigma**2)) / (1 - g0)
    np.testing.assert_allclose(
        got.imag - beta * exact_slope, beta * amp * (t - d / 2) / sigma**2 * g0 / (1 - g0), atol=1e-14
    )
    plain = sample("gaussian", {"duration": d, "amp": amp, "sigma": sigma})
    np.testing.assert_allclose(
        sample("drag", {"duration": d, "amp": amp, "sigma": sigma, "beta": 0.0}), plain
    )


def test_gaussian_square_plateau_and_lifted_edges():
    d, amp, sigma, width = 100, 0.2, 5.0, 60
    got = sample("gaussian_square", {"duration": d, "amp": amp, "sigma": sigma, "width": width})
    t = midpoints(d)
    rise = (d - width) / 2
    flat = (t > rise) & (t < rise + width)
    assert np.all(got[flat] == amp)
    left = amp * lifted_gauss(t, rise, -1.0, sigma)
    right = amp * lifted_gauss(t, rise + width, d + 1.0, sigma)
    np.testing.assert_allclose(got[t <= rise], left[t <= rise], rtol=1e-12)
    np.testing.assert_allclose(got[t >= rise + width], right[t >= rise + width], rtol=1e-12)
    assert got[0].real < 1e-3 and got[-1].real < 1e-3
    # risefall_sigma_ratio 4 with sigma 5 is a 20-sample rise: the same pulse
    ratio = sample(
        "gaussian_square", {"duration": d, "amp": amp, "sigma": sigma, "risefall_sigma_ratio": 4.0}
    )
    np.testing.assert_allclose(ratio, got)
    # width 0 is a gaussian; width = duration is flat everywhere
    g = sample("gaussian_square", {"duration": 41, "amp": amp, "sigma": sigma, "width": 0})
    np.testing.assert_allclose(
        g, sample("gaussian", {"duration": 41, "amp": amp, "sigma": sigma}), rtol=1e-12
    )
    np.testing.assert_allclose(
        sample("gaussian_square", {"duration": 9, "amp": amp, "sigma": 1.0, "width": 9}), amp
    )


def test_gaussian_square_drag_and_echo_reduce_to_gaussian_square():
    base = {"duration": 120, "amp": 0.3, "sigma": 6.0, "width": 72}
    square = sample("gaussian_square", base)
    np.testing.assert_allclose(sample("gaussian_square_drag", {**base, "beta": 0.0}), square)
    with_drag = sample("gaussian_square_drag", {**base, "beta": 2.0})
    t = midpoints(120)
    rise = 24
    edge = t <= rise
    np.testing.assert_allclose(
        with_drag.imag[edge], 2.0 * (-(t[edge] - rise) / 36.0) * square.real[edge], rtol=1e-12
    )
    assert np.all(with_drag.imag[(t > rise) & (t < 96)] == 0)
    # the echo with only the active tone is a plain gaussian_square of amplitude active_amp
    active = sample("gaussian_square_echo", {**base, "amp": 0.0, "active_amp": 0.3})
    np.testing.assert_allclose(active, square, atol=1e-15)
    echo = sample("gaussian_square_echo", {**base, "amp": 0.4}).real
    assert np.all(echo[:60] >= 0) and np.all(echo[60:] <= 0)
    np.testing.assert_allclose(echo[:60].max(), 0.4)
    np.testing.assert_allclose(echo[:60], -echo[60:], atol=1e-12)


# ---------------------------------------------------------------------------------- other shapes


def test_constant_and_zero():
    got = sample("constant", {"duration": 7, "amp": 0.25, "angle": math.pi / 2})
    np.testing.assert_allclose(got, np.full(7, 0.25j), atol=1e-16)
    assert np.all(sample("zero", {"duration": 5}) == 0) and sample("zero", {"duration": 5}).shape == (5,)
    assert sample("constant", {"duration": 0, "amp": 0.1}).shape == (0,)


def test_sin_cos_follow_midpoint_closed_form_and_period():
    d, amp, freq, phase = 50, 0.4, 0.1, 0.3
    t = midpoints(d)
    s = sample("sin", {"duration": d, "amp": amp, "freq": freq, "phase": phase})
    c = sample("cos", {"duration": d, "amp": amp, "freq": freq, "phase": phase})
    np.testing.assert_allclose(s.real, amp * np.sin(2 * np.pi * freq * t + phase), atol=1e-14)
    np.testing.assert_allclose(c.real, amp * np.cos(2 * np.pi * freq * t + phase), atol=1e-14)
    np.testing.assert_allclose(s[10:], s[:-10], atol=1e-14)  # period 1/freq = 10 samples
    # default: one cycle over the pulse, phase 0
    one = sample("sin", {"duration": 20, "amp": 1.0}).real
    np.testing.assert_allclose(one, np.sin(2 * np.pi * midpoints(20) / 20), atol=1e-14)
    assert abs(one.sum()) < 1e-12


def test_square_sawtooth_triangle():
    d, amp, freq = 40, 0.5, 0.05
    t = midpoints(d)
    sq = sample("square", {"duration": d, "amp": amp, "freq": freq}).real
    np.testing.assert_allclose(sq, amp * np.sign(np.sin(2 * np.pi * freq * t)))
    saw = sample("sawtooth", {"duration": d, "amp": amp, "freq": freq}).real
    x = freq * t
    np.testing.assert_allclose(saw, 2 * amp * (x - np.floor(x + 0.5)), atol=1e-15)
    # midpoint sampling shows directly: the first sawtooth sample is f(1/2) = 2 amp freq / 2
    assert saw[0] == pytest.approx(amp * freq)
    tri = sample("triangle", {"duration": d, "amp": amp, "freq": freq}).real
    # triangle: rises from 0 at t = 0 to amp at a quarter period, linearly
    expected = amp * (2 / np.pi) * np.arcsin(np.sin(2 * np.pi * freq * t))
    np.testing.assert_allclose(tri, expected, atol=1e-12)


def test_sech_and_derivatives_match_formulas():
    d, amp, sigma = 30, 0.6, 4.0
    t = midpoints(d)
    u = (t - d / 2) / sigma
    raw = sample("sech", {"duration": d, "amp": amp, "sigma": sigma, "zero_ends": False}).real
    np.testing.assert_allclose(raw, amp / np.cosh(u), rtol=1e-12)
    edge = 1 / math.cosh((-1 - d / 2) / sigma)
    lifted = sample("sech", {"duration": d, "amp": amp, "sigma": sigma}).real
    np.testing.assert_allclose(lifted, amp * (1 / np.cosh(u) - edge) / (1 - edge), rtol=1e-12)
    # a very wide sech takes the stable branch and still agrees with the direct formula
    wide_sigma = 200.0
    wu = (t - d / 2) / wide_sigma
    wide_edge = 1 / math.cosh((-1 - d / 2) / wide_sigma)
    wide = sample("sech", {"duration": d, "amp": amp, "sigma": wide_sigma}).real
    np.testing.assert_allclose(wide, amp * (1 / np.cosh(wu) - wide_edge) / (1 - wide_edge), rtol=1e-6)

    h = 1e-5

    def numeric(f):  # central difference in t
        return (f(t + h) - f(t - h)) / (2 * h)

    sd = sample("sech_deriv", {"duration": d, "amp": amp, "sigma": sigma}).real
    np.testing.assert_allclose(sd, numeric(lambda x: amp / np.cosh((x - d / 2) / sigma)), atol=1e-8)
    gd = sample("gaussian_deriv", {"duration": d, "amp": amp, "sigma": sigma}).real
    np.testing.assert_allclose(
        gd, numeric(lambda x: amp * np.exp(-((x - d / 2) ** 2) / (2 * sigma**2))), atol=1e-8
    )


# --------------------------------------------------------------------------------------- amplitude


#: Shapes whose samples are not amp * exp(i angle) times an envelope (amp is informational there).
UNSCALED = {"zero", "wacqt_cz_gate_pulse"}
WACQT = {"delta_0": 0.08, "t_w": 4e-9, "t_rf": 8e-9, "t_p": 1.2e-8}


def _minimal(shape: str) -> dict:
    params = {"duration": 24, "amp": 0.3, "sigma": 4.0, "beta": 1.5, "width": 8, "freq": 0.125, **WACQT}
    return {k: v for k, v in params.items() if k in SHAPES[shape].parameters}


@pytest.mark.parametrize("shape", sorted(set(SHAPES) - UNSCALED))
def test_angle_rotates_every_shape_and_complex_amp_is_the_same(shape):
    base = _minimal(shape)
    plain = sample(shape, base)
    assert np.any(plain != 0)
    rotated = sample(shape, {**base, "angle": 0.7}) if "angle" in SHAPES[shape].parameters else None
    if rotated is not None:
        np.testing.assert_allclose(rotated, plain * np.exp(0.7j), atol=1e-15)
        pair = [0.3 * math.cos(0.7), 0.3 * math.sin(0.7)]
        np.testing.assert_allclose(sample(shape, {**base, "amp": pair}), rotated, atol=1e-15)
        as_dict = {"real": pair[0], "imag": pair[1]}
        np.testing.assert_allclose(sample(shape, {**base, "amp": as_dict}), rotated, atol=1e-15)
        np.testing.assert_allclose(sample(shape, {**base, "amp": complex(*pair)}), rotated, atol=1e-15)
    # amplitude scales linearly, negative amplitudes included
    np.testing.assert_allclose(sample(shape, {**base, "amp": -0.6}), -2 * plain, atol=1e-15)


def test_null_optional_parameters_mean_default():
    base = {"duration": 20, "amp": 0.2, "sigma": 3.0}
    np.testing.assert_allclose(sample("gaussian", {**base, "angle": None}), sample("gaussian", base))
    np.testing.assert_allclose(
        sample("gaussian_square", {**base, "width": 10, "risefall_sigma_ratio": None}),
        sample("gaussian_square", {**base, "width": 10}),
    )


def test_parse_amplitude_forms():
    assert parse_amplitude(0.5, "x") == 0.5
    assert parse_amplitude(2, "x") == 2
    assert parse_amplitude([0.1, -0.2], "x") == complex(0.1, -0.2)
    assert parse_amplitude((0, 1), "x") == 1j
    assert parse_amplitude({"real": 0.3, "imag": 0.4}, "x") == complex(0.3, 0.4)
    assert parse_amplitude(np.float32(0.5), "x") == 0.5
    assert parse_amplitude(0.5 - 0.5j, "x") == 0.5 - 0.5j


@pytest.mark.parametrize(
    ("value", "location"),
    [
        (True, "a.amp"),
        ("0.5", "a.amp"),
        (None, "a.amp"),
        ([0.1], "a.amp"),
        ([0.1, 0.2, 0.3], "a.amp"),
        ([0.1, "x"], "a.amp[1]"),
        ([float("nan"), 0.0], "a.amp[0]"),
        (float("inf"), "a.amp"),
        (complex(0, float("inf")), "a.amp"),
        ({"real": 1.0}, "a.amp"),
        ({"real": 1.0, "imag": False}, "a.amp.imag"),
        (10**400, "a.amp"),
    ],
)
def test_parse_amplitude_errors(value, location):
    with pytest.raises(JobError) as err:
        parse_amplitude(value, "a.amp")
    assert err.value.location == location


def test_parse_samples_forms_and_errors():
    got = parse_samples([[0.1, 0.2], 0.3, [0, -1]], "pulse_library[0].samples")
    np.testing.assert_array_equal(got, np.array([0.1 + 0.2j, 0.3, -1j]))
    assert got.dtype == np.complex128
    np.testing.assert_array_equal(parse_samples(np.array([[1.0, 2.0]]), "s"), [1 + 2j])
    np.testing.assert_array_equal(parse_samples(np.array([0.5, 1j]), "s"), [0.5, 1j])
    cases = [
        ([], "s"),
        ("abc", "s"),
        ({"a": 1}, "s"),
        ([[0.1, 0.2], [0.3]], "s[1]"),
        ([0.1, True], "s[1]"),
        ([0.1, None], "s[1]"),
        ([0.1, [float("inf"), 0]], "s[1][0]"),
        (np.array([0.1, np.nan]), "s[1]"),
        (np.zeros((2, 3)), "s"),
        (np.array([True, False]), "s[0]"),
    ]
    for value, location in cases:
        with pytest.raises(JobError) as err:
            parse_samples(value, "s")
        assert err.value.location == location, value


def test_parse_samples_reads_tergite_run_length_encoding():
    """The SDK's RLE (sdk-2026.6.0/b_sampled_waveform_rle.job.json): [[re, im], n] is n samples, [[re, im]] one."""
    runs = [[[0.0, 0.0], 4], [[0.025, 0.0]], [[0.05, 0.0]], [[0.075, 0.0]], [[0.1, 0.0], 7], [[0.05, 0.02], 3],
            [[0.0, 0.0], 3]]
    expected = [0] * 4 + [0.025, 0.05, 0.075] + [0.1] * 7 + [0.05 + 0.02j] * 3 + [0] * 3
    np.testing.assert_array_equal(parse_samples(runs, "s"), np.array(expected, dtype=complex))
    mixed = parse_samples([[0.1, 0.2], [[0.3, 0.0], 2], 0.5, [{"real": 0.0, "imag": 1.0}]], "s")
    np.testing.assert_array_equal(mixed, [0.1 + 0.2j, 0.3, 0.3, 0.5, 1j])
    for value, location in [([[[0.1, 0.0], 0]], "s[0][1]"), ([[[0.1, 0.0], 2.5]], "s[0][1]"),
                            ([[[0.1, 0.0], True]], "s[0][1]"), ([[[0.1], 2]], "s[0][0]"),
                            ([[[0.1, 0.0], 10**9]], "s[0]")]:
        with pytest.raises(JobError) as err:
            parse_samples(value, "s")
        assert err.value.location == location, value


# ----------------------------------------------------------------------- Tergite's wacqt_cz_gate_pulse


def tergite_delta(t: float, t_w: float, t_rf: float, t_p: float, delta_0: float) -> float:
    """delta(t) of Tergite's backend (app/libs/quantum_executor/qiskit/functions.py), one point at a time."""
    if t <= t_w:
        return 0.0
    if t <= t_w + t_rf / 2:
        return delta_0 / 2 * (1 - math.cos(2 * math.pi * (t - t_w) / t_rf))
    if t < t_w + t_rf / 2 + t_p:
        return delta_0
    if t < t_w + t_rf + t_p:
        return delta_0 / 2 * (1 - math.cos(2 * math.pi * (t - t_w - t_p) / t_rf))
    return 0.0


def test_wacqt_cz_gate_pulse_is_tergites_flux_envelope_on_tergites_time_grid():
    # the parameters of tests/data/tergite/backend/69a9ae9/jobs_to_upload_simulator_2q.json, fewer samples
    params = {"duration": 5711, "delta_0": 0.08, "Theta": 0.275, "omega_c0": 49008845396.00077,
              "omega_Phi": -2559690049.4077325, "phi": 0.0, "t_w": 8.8e-08, "t_rf": 2.5e-08, "t_p": 3.7e-07,
              "amp": [0.08, 0.0], "freq": 7800000000}
    got = sample("wacqt_cz_gate_pulse", params)
    gate = 3.7e-07 + 2.5e-08 + 2 * 8.8e-08
    step = gate / (5711 - 1)  # duration points, first and last included: 1e-10 s apart
    expected = [tergite_delta(k * step, 8.8e-08, 2.5e-08, 3.7e-07, 0.08) for k in range(5711)]
    np.testing.assert_allclose(got.real, expected, rtol=0, atol=1e-15)
    assert np.all(got.imag == 0)
    # closed-form landmarks: 0 before t_w, delta_0 on the plateau, back to 0 after the fall, symmetric
    k = lambda t: round(t / step)  # noqa: E731
    assert got[k(8.0e-8)] == 0 and got[-1] == 0 and got[0] == 0
    np.testing.assert_array_equal(got[k(1.01e-7):k(4.70e-7)].real, 0.08)
    np.testing.assert_allclose(got.real, got.real[::-1], atol=1e-12)
    # the area is delta_0 (t_p + t_rf / 2): the two raised-cosine edges make one t_rf / 2 together
    assert np.trapezoid(got.real, dx=step) == pytest.approx(0.08 * (3.7e-07 + 2.5e-08 / 2), rel=1e-6)


def test_wacqt_phase_square_edge_case_and_coupler_parameters_do_not_change_samples():
    base = {"duration": 101, "delta_0": 0.2, "t_w": 1e-9, "t_rf": 2e-9, "t_p": 6e-9}
    plain = sample("wacqt_cz_gate_pulse", base)
    # grid step T / (duration - 1) = 1e-10 s: sample 15 is a quarter of t_rf into the rise (half height),
    # 20 the top of the rise, 80 the start of the fall, 85 half way down
    assert plain[15].real == pytest.approx(0.1, abs=1e-15) and plain[85].real == pytest.approx(0.1, abs=1e-15)
    assert plain[10] == 0 and plain[20] == 0.2 and plain[80] == 0.2 and plain[90] == 0
    np.testing.assert_allclose(sample("wacqt_cz_gate_pulse", {**base, "phi": 0.9}), plain * np.exp(0.9j), atol=1e-16)
    extra = {"Theta": -0.000355, "omega_c0": 2.6e10, "omega_Phi": -1.9e9, "amp": [0.19, 0.0], "freq": 4170580000}
    np.testing.assert_array_equal(sample("wacqt_cz_gate_pulse", {**base, **extra}), plain)
    # t_rf = 0 (tests/data/tergite/backend/69a9ae9/two-qubit_cz_qobj.json): a square, nonzero strictly inside
    # (t_w, t_w + t_p); here points 1 ns apart, t_w = 1 ns, t_p = 8 ns
    square = sample("wacqt_cz_gate_pulse", {**base, "t_rf": 0.0, "t_p": 8e-9, "duration": 11}).real
    np.testing.assert_array_equal(square, [0, 0] + [0.2] * 7 + [0, 0])
    for change, location in [({"t_w": -1e-9}, "t_w"), ({"t_p": 0.0, "t_rf": 0.0, "t_w": 0.0}, "t_p"),
                             ({"delta_0": [0.1, 0.0]}, "delta_0"), ({"theta": 0.3}, "theta")]:
        with pytest.raises(JobError) as err:
            sample("wacqt_cz_gate_pulse", {**base, **change})
        assert err.value.location == f"parameters.{location}", change


def test_calibrated_uses_the_calibration_and_amp_override():
    cal = PulseCalibration(shape="drag", duration=40, amp=0.5, sigma=10.0, beta=0.3)
    direct = sample("drag", {"duration": 40, "amp": 0.5, "sigma": 10.0, "beta": 0.3})
    np.testing.assert_array_equal(calibrated(cal), direct)
    np.testing.assert_allclose(calibrated(cal, amp=0.25), direct / 2)
    readout = PulseCalibration(shape="gaussian_square", duration=800, amp=0.1, sigma=16.0, width=736)
    assert calibrated(readout).shape == (800,)
    assert calibrated(readout)[400] == 0.1


# ------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("shape", "params", "location", "fragment"),
    [
        ("foo", {"duration": 4}, "x.pulse_shape", "unknown shape 'foo'; known shapes: constant"),
        (None, {"duration": 4}, "x.pulse_shape", "must be a string"),
        ("gaussian", [1, 2], "x.parameters", "mapping"),
        ("gaussian", {"duration": 4, "amp": 0.1}, "x.parameters.sigma", "missing"),
        (
            "gaussian",
            {"duration": 4, "amp": 0.1, "sigma": 1, "beta": 1},
            "x.parameters.beta",
            "unknown parameter",
        ),
        ("gaussian", {"duration": 4, "amp": 0.1, "sigma": 0}, "x.parameters.sigma", "> 0"),
        ("drag", {"duration": 4, "amp": 0.1, "sigma": -1, "beta": 0}, "x.parameters.sigma", "> 0"),
        ("gaussian", {"duration": 4.0, "amp": 0.1, "sigma": 1}, "x.parameters.duration", "whole number"),
        ("gaussian", {"duration": -1, "amp": 0.1, "sigma": 1}, "x.parameters.duration", ">= 0"),
        ("gaussian", {"duration": True, "amp": 0.1, "sigma": 1}, "x.parameters.duration", "whole number"),
        ("constant", {"duration": MAX_DURATION + 1, "amp": 0.1}, "x.parameters.duration", "limit"),
        ("constant", {"duration": 10**100, "amp": 0.1}, "x.parameters.duration", "limit"),
        ("gaussian", {"duration": 4, "amp": True, "sigma": 1}, "x.parameters.amp", "number"),
        ("gaussian", {"duration": 4, "amp": float("nan"), "sigma": 1}, "x.parameters.amp", "finite"),
        ("gaussian", {"duration": 4, "amp": 0.1, "sigma": "1"}, "x.parameters.sigma", "real number"),
        ("gaussian", {"duration": 4, "amp": 0.1, "sigma": 1j}, "x.parameters.sigma", "real number"),
        ("gaussian", {"duration": 4, "amp": 0.1, "sigma": float("inf")}, "x.parameters.sigma", "finite"),
        (
            "gaussian",
            {"duration": 4, "amp": 0.1, "sigma": 1, "angle": False},
            "x.parameters.angle",
            "real number",
        ),
        (
            "gaussian_square",
            {"duration": 4, "amp": 0.1, "sigma": 1, "width": 5},
            "x.parameters.width",
            "exceeds",
        ),
        (
            "gaussian_square",
            {"duration": 4, "amp": 0.1, "sigma": 1, "width": -1},
            "x.parameters.width",
            ">= 0",
        ),
        (
            "gaussian_square",
            {"duration": 4, "amp": 0.1, "sigma": 1},
            "x.parameters.width",
            "risefall_sigma_ratio",
        ),
        (
            "gaussian_square",
            {"duration": 4, "amp": 0.1, "sigma": 1, "width": 2, "risefall_sigma_ratio": 1},
            "x.parameters.risefall_sigma_ratio",
            "not both",
        ),
        (
            "gaussian_square",
            {"duration": 4, "amp": 0.1, "sigma": 1, "risefall_sigma_ratio": 3},
            "x.parameters.risefall_sigma_ratio",
            "outside",
        ),
        ("sin", {"duration": 2, "amp": 0.1}, "x.parameters.freq", "default 1/duration"),
        ("cos", {"duration": 20, "amp": 0.1, "freq": 0.5}, "x.parameters.freq", "(0, 0.5)"),
        ("square", {"duration": 20, "amp": 0.1, "freq": 0}, "x.parameters.freq", "(0, 0.5)"),
        (
            "sech",
            {"duration": 20, "amp": 0.1, "sigma": 1, "zero_ends": 1},
            "x.parameters.zero_ends",
            "true or",
        ),
        (
            "drag",
            {"duration": 20, "amp": 1.0, "sigma": 0.5, "beta": 1.5e308},
            "x.parameters.beta",
            "overflow",
        ),
        ("sawtooth", {"duration": 20, "amp": 1e308, "freq": 0.1}, "x.parameters.amp", "overflow"),
    ],
)
def test_errors_point_at_the_parameter(shape, params, location, fragment):
    with pytest.raises(JobError) as err:
        sample(shape, params, where="x")
    assert err.value.location == location
    assert fragment in err.value.message


def test_error_locations_without_where():
    with pytest.raises(JobError) as err:
        sample("nope", {})
    assert err.value.location == "pulse_shape"
    assert all(name in err.value.message for name in SHAPES)
    with pytest.raises(JobError) as err:
        sample("gaussian", {"duration": 3, "amp": 0.1})
    assert err.value.location == "parameters.sigma"
    assert str(err.value).startswith("parameters.sigma: missing")


def test_every_spec_lists_its_parameters_consistently():
    for name, spec in SHAPES.items():
        assert spec.name == name
        assert "duration" in spec.required
        assert not set(spec.required) & set(spec.optional)
        assert (name == "zero") == ("amp" not in spec.parameters)
        # the required parameters alone (plus one of width/risefall) make a valid pulse
        params = {k: v for k, v in _minimal(name).items() if k in spec.required or k in ("width", "freq")}
        assert set(spec.required) <= set(params), name
        assert sample(name, params).shape == (24,)


# -------------------------------------------------------------------------------------- robustness

_names = st.sampled_from(
    sorted({p for spec in SHAPES.values() for p in spec.parameters} | {"foo", "", "name"})
)
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=300),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e3, max_value=1e3),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.one_of(st.floats(), st.integers(), st.text(max_size=2)), max_size=3),
    st.dictionaries(st.sampled_from(["real", "imag", "x"]), st.floats(), max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(
    shape=st.one_of(st.sampled_from(sorted(SHAPES)), st.text(max_size=8), st.none(), st.integers()),
    params=st.one_of(
        st.dictionaries(_names, _values, max_size=8),
        st.dictionaries(st.one_of(st.integers(), st.none()), _values, max_size=2),
        st.lists(st.integers(), max_size=2),
        st.none(),
        st.text(max_size=3),
    ),
)
def test_sample_raises_only_job_errors(shape, params):
    duration = params.get("duration") if isinstance(params, dict) else None
    if type(duration) is int and duration > 400 and duration <= MAX_DURATION:
        params["duration"] = 400  # keep the examples fast; the limit itself is tested with bigger values
    try:
        out = sample(shape, params, where="experiments[0].instructions[1]")
    except JobError as err:
        assert err.location is not None and err.location.startswith("experiments[0].instructions[1].")
        return
    assert out.dtype == np.complex128
    assert out.shape == (params["duration"],)
    assert np.all(np.isfinite(out))


@settings(max_examples=200, deadline=None)
@given(
    shape=st.sampled_from(sorted(SHAPES)),
    duration=st.integers(min_value=1, max_value=200),
    amp=st.floats(min_value=-1, max_value=1),
    sigma=st.floats(min_value=1e-300, max_value=1e300),
    beta=st.floats(min_value=-1e3, max_value=1e3),
    width_fraction=st.floats(min_value=0, max_value=1),
    freq=st.floats(min_value=1e-9, max_value=0.499),
)
def test_valid_parameters_always_sample_finitely(shape, duration, amp, sigma, beta, width_fraction, freq):
    spec = SHAPES[shape]
    params = {
        "duration": duration,
        "amp": amp,
        "sigma": sigma,
        "beta": beta,
        "width": width_fraction * duration,
        "freq": freq,
        "delta_0": amp,
        "t_w": width_fraction * 1e-7,
        "t_rf": sigma % 1e-7,
        "t_p": abs(beta) * 1e-9 + 1e-12,
    }
    params = {k: v for k, v in params.items() if k in spec.parameters}
    out = sample(shape, params)
    assert out.shape == (duration,)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("shape", sorted(SCALED_BY_AMP))
def test_a_job_samples_scaled_pulses_once_and_bit_identical(shape):
    """PulseJob samples an amplitude sweep's pulse once at amp 1 and scales it: every pulse must equal
    sampling it directly to the last bit, whatever the amplitude's spelling or angle."""
    from workbench.jobs import load_job

    base = _minimal(shape)
    amps: list = [0.0, 0.37, -0.6, 1e-300, [0.1, -0.2], {"real": -0.3, "imag": 0.05}, 0.91]
    angles = [None, 0.7] if "angle" in SHAPES[shape].parameters else [None]
    params = [{**base, "amp": a, **({} if angle is None else {"angle": angle})} for a in amps for angle in angles]
    qobj = {"qobj_id": "scaled", "type": "PULSE", "schema_version": "1.2.0", "header": {},
            "config": {"shots": 1, "meas_level": 2, "memory_slots": 1, "parametric_pulses": [shape]},
            "experiments": [{"header": {"name": f"e{i}"}, "instructions": [
                {"name": "parametric_pulse", "t0": 0, "ch": "d0", "pulse_shape": shape, "parameters": p}]}
                for i, p in enumerate(params)]}
    job = load_job(qobj)
    for i, p in enumerate(params):
        assert np.array_equal(job._waveforms[(i, 0)], sample(shape, p)), (shape, p)
    assert len({id(job._waveforms[(i, 0)]) for i in range(len(params))}) == len(params)


def test_a_scaled_pulse_that_overflows_names_its_amplitude():
    from workbench.jobs import load_job

    qobj = {"qobj_id": "big", "type": "PULSE", "schema_version": "1.2.0", "header": {},
            "config": {"shots": 1, "meas_level": 2, "memory_slots": 1, "parametric_pulses": ["drag"]},
            "experiments": [{"header": {"name": "e"}, "instructions": [
                {"name": "parametric_pulse", "t0": 0, "ch": "d0", "pulse_shape": "drag",
                 "parameters": {"duration": 24, "amp": a, "sigma": 4.0, "beta": 1e10}}]} for a in (0.5, 1e300)]}
    with pytest.raises(JobError, match="overflow") as err:
        load_job(qobj)
    assert "experiments[1].instructions[0].parameters.amp" in str(err.value)


def test_pulses_share_samples_only_when_their_parameters_are_the_same_values_of_the_same_types():
    """The job's sample cache key: ``1``, ``1.0``, ``True`` and ``"1"`` differ, so do ``0.0`` and ``-0.0``; the
    order of the names does not matter; nested or listed values take the general path with their own keys."""
    from workbench.jobs.pulse_job import _flat_key, _freeze

    base = {"duration": 160, "amp": 0.5, "sigma": 40}
    assert _flat_key(base) == _flat_key({"sigma": 40, "amp": 0.5, "duration": 160})
    variants = [{**base, "sigma": v} for v in (40, 40.0, True, "40", None)] + [{**base, "amp": -0.0},
                                                                              {**base, "amp": 0.0}]
    keys = [_flat_key(v) for v in variants]
    assert len(set(keys)) == len(keys)
    nested = {**base, "amp": [0.5, 0.0]}
    assert _flat_key(nested) == _freeze(nested) != _flat_key(base)
    assert _flat_key({1: 0.5}) == _freeze({1: 0.5}) != _flat_key({"1": 0.5})
