r"""The OpenPulse parametric waveform library, sampled by the workbench itself.

Qiskit 2 removed ``qiskit.pulse``, so a ``parametric_pulse`` instruction of a PulseQobj can only be
turned into samples here. The envelopes follow the definitions of Qiskit 1.x
(``qiskit/pulse/library/symbolic_pulses.py``) formula by formula, so that a job assembled by Qiskit
1.x plays the same samples on the workbench as it did on an IBM backend or in qiskit-dynamics.

Sampling convention
-------------------
Qiskit's ``SymbolicPulse.get_waveform`` evaluates the envelope ``f(t)`` at the *midpoints* of the
sample intervals, ``t = 0.5, 1.5, ..., duration - 0.5`` (``np.arange(duration) + 1/2`` in
``_get_expression_args``; its docstring names it the "midpoint sampler"). We do the same: sample ``k``
is ``f(k + 1/2)`` with ``t`` in units of ``dt``. Two consequences worth knowing:

* A pulse centred at ``duration / 2`` has a sample exactly at the centre only when ``duration`` is
  odd; for an even duration the two middle samples sit half a sample either side of the peak.
* "Lifted" shapes are shifted so that the *continuous* envelope is zero at ``t = -1`` and
  ``t = duration + 1``, one sample beyond the edges, and rescaled so the centre stays at ``amp``.
  The first and last samples are therefore small but not zero.

Amplitudes
----------
Every shape (except ``zero``) is scaled by ``A = amp * exp(i * angle)`` (``angle`` defaults to 0).
Qiskit 1.x writes a *complex* ``amp`` and no ``angle`` into a PulseQobj (its qobj converter folds the
angle into ``amp``), and JSON carries complex numbers as ``[re, im]``; :func:`parse_amplitude` accepts
all of these. A complex ``amp`` together with an ``angle`` multiplies out to ``amp * exp(i angle)``.
Whether ``|A| <= 1`` is not checked here: the schedule builder checks the samples it plays.

Errors
------
Whatever a job file contains, :func:`sample` raises nothing but :class:`~workbench.errors.JobError`,
located at ``<where>.pulse_shape`` or ``<where>.parameters.<name>`` so the user can find the value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import budgets
from workbench.errors import JobError

if TYPE_CHECKING:
    from workbench.devices.model import PulseCalibration

MAX_DURATION = 10**7
"""Longest parametric pulse we sample (10 ms at dt = 1 ns): beyond it memory, not physics, decides."""

_TWO_PI = 2.0 * math.pi


# --------------------------------------------------------------------------------------------------
# value parsing


def _describe(value: Any) -> str:
    """A short, one-line picture of an offending value for error messages."""
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool | np.bool_)


def _real(value: Any, location: str | None) -> float:
    """A finite float from an int/float (never a bool: ``true`` in JSON is a typo, not a 1)."""
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise JobError(f"expected a real number, got {_describe(value)}", location)
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        raise JobError(f"number {_describe(value)} is too large", location) from None
    if not math.isfinite(number):
        raise JobError(f"expected a finite number, got {number}", location)
    return number


def parse_amplitude(value: Any, location: str | None) -> complex:
    """A complex amplitude from a number, a ``[re, im]`` pair or ``{"real": re, "imag": im}``.

    The three spellings exist because JSON has no complex type: Qiskit's encoders wrote pairs,
    hand-written jobs use plain numbers, and some tools emit mappings.
    """
    if _is_bool(value):
        raise JobError(f"expected a number or [re, im], got {_describe(value)}", location)
    if isinstance(value, numbers.Real):
        return complex(_real(value, location), 0.0)
    if isinstance(value, numbers.Complex):
        re = _real(value.real, location)
        im = _real(value.imag, location)
        return complex(re, im)
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise JobError(f"a complex amplitude [re, im] needs 2 numbers, got {len(value)}", location)
        return complex(_real(value[0], _sub(location, "[0]")), _real(value[1], _sub(location, "[1]")))
    if isinstance(value, Mapping):
        keys = set(value)
        if keys != {"real", "imag"}:
            got = sorted(map(str, keys))
            raise JobError(f"a complex amplitude mapping takes keys 'real' and 'imag', not {got}", location)
        re = _real(value["real"], _sub(location, ".real"))
        return complex(re, _real(value["imag"], _sub(location, ".imag")))
    raise JobError(f"expected a number or [re, im], got {_describe(value)}", location)


def _sub(location: str | None, suffix: str) -> str:
    if location:
        return location + suffix
    return suffix.lstrip(".")


_SAMPLES_WANTED = "samples must be a list of numbers, [re, im] pairs or runs [[re, im], n]"


def _run_length(item: Any, location: str) -> int | None:
    """The repeat count of a run-length encoded item (``[[re, im], n]`` or ``[[re, im]]``), None for a
    plain sample: the Tergite SDK writes pulse-library samples as runs of equal consecutive values."""
    if not (isinstance(item, list | tuple) and 1 <= len(item) <= 2 and isinstance(item[0], list | tuple | Mapping)):
        return None
    if len(item) == 1:
        return 1
    count = item[1]
    if _is_bool(count) or not isinstance(count, numbers.Integral) or count < 1:
        raise JobError(f"the repeat count of a run [[re, im], n] must be a whole number >= 1, got "
                       f"{_describe(count)}", f"{location}[1]")
    return int(count)


def parse_samples(value: Any, location: str | None) -> np.ndarray:
    """The samples of a ``pulse_library`` waveform as complex128.

    Accepts a list whose items are numbers, ``[re, im]`` pairs or runs ``[[re, im], n]`` / ``[[re, im]]``
    (the Tergite SDK's run-length encoding; mixed is fine), or a numeric numpy array. Each bad item is
    reported by its index, because waveforms are long and hand-edited. Runs are counted before anything
    is allocated, so a huge repeat count costs nothing but the error.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind in "iufc":
        array = value
        if array.ndim == 2 and array.shape[1] == 2 and array.dtype.kind != "c":
            array = array[:, 0] + 1j * array[:, 1]
        if array.ndim != 1:
            raise JobError(f"{_SAMPLES_WANTED}, not an array of shape {value.shape}", location)
        _check_length(array.shape[0], location)
        with np.errstate(all="ignore"):
            out = np.asarray(array, dtype=np.complex128)
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            raise JobError(f"sample is not finite ({out[bad[0]]})", _sub(location, f"[{bad[0]}]"))
        return out.copy()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple):
        raise JobError(f"{_SAMPLES_WANTED}, not {_describe(value)}", location)
    _check_length(len(value), location)
    counts = []
    total = 0
    for i, item in enumerate(value):
        count = _run_length(item, _sub(location, f"[{i}]"))
        counts.append(count)
        total += 1 if count is None else count
        if total > MAX_DURATION:
            raise JobError(f"the runs add up to more than the limit of {MAX_DURATION} samples",
                           _sub(location, f"[{i}]"))
    _check_length(total, location)
    budgets.charge_samples(total, location)  # runs expand: cost them before the array exists
    out = np.empty(total, dtype=np.complex128)
    position = 0
    for i, (item, count) in enumerate(zip(value, counts, strict=True)):
        if count is None:
            out[position] = parse_amplitude(item, _sub(location, f"[{i}]"))
            position += 1
        else:
            out[position:position + count] = parse_amplitude(item[0], _sub(location, f"[{i}][0]"))
            position += count
    return out


def _check_length(n: int, location: str | None) -> None:
    if n == 0:
        raise JobError("a waveform needs at least one sample", location)
    if n > MAX_DURATION:
        raise JobError(f"{n} samples exceed the limit of {MAX_DURATION}", location)


# --------------------------------------------------------------------------------------------------
# shape definitions


@dataclass
class _Args:
    """Validated parameters of one call, plus what is needed to point errors at a parameter."""

    shape: str
    values: dict[str, Any]
    prefix: str

    def location(self, name: str) -> str:
        return f"{self.prefix}parameters.{name}"

    def fail(self, name: str, message: str) -> JobError:
        return JobError(message, self.location(name))

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def duration(self) -> int:
        return int(self.values["duration"])

    @property
    def scale(self) -> complex:
        """``amp * exp(i angle)``: the complex factor every scalable shape is multiplied by."""
        return self.values["amp"] * _phasor(self.values.get("angle", 0.0))

    def positive(self, name: str) -> float:
        value = self.values[name]
        if not value > 0:
            raise self.fail(name, f"{name} must be > 0, got {value}")
        return value


def _phasor(angle: float) -> complex:
    return complex(math.cos(angle), math.sin(angle))


def _lifted_gaussian(t: np.ndarray, center: float, t_zero: float, sigma: float) -> np.ndarray:
    """Qiskit's lifted gaussian ``(g(t) - g(t_zero)) / (1 - g(t_zero))``, ``g`` peaking at ``center``.

    Written as ``g(t) * expm1(-(v^2 - u^2) / 2 s^2) / expm1(-v^2 / 2 s^2)`` (same function) so that a
    sigma much larger than the pulse still gives the limiting parabola ``1 - (u/v)^2`` instead of 0/0.
    """
    u = t - center
    v = np.float64(t_zero - center)
    s = np.float64(sigma)
    with np.errstate(all="ignore"):
        denominator = np.expm1(-0.5 * (v / s) ** 2)
        if denominator == 0.0:
            return 1.0 - (u / v) ** 2
        gauss = np.exp(-0.5 * (u / s) ** 2)
        numerator = np.expm1(-0.5 * ((v - u) / s) * ((v + u) / s))
        return gauss * (numerator / denominator)


def _times_where_nonzero(factor: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``factor * values`` with 0 wherever ``values`` is 0 (a huge slope times an underflowed tail)."""
    with np.errstate(all="ignore"):
        return np.where(values == 0.0, 0.0, factor * values)


def _drag_term(t: np.ndarray, center: float, sigma: float, gauss: np.ndarray) -> np.ndarray:
    """Qiskit's DRAG quadrature: ``-(t - center) / sigma^2`` times the *lifted* gaussian."""
    with np.errstate(all="ignore"):
        slope = -((t - center) / sigma) / sigma
    return _times_where_nonzero(slope, gauss)


def _width(a: _Args) -> float:
    """The flat-top width of the gaussian_square family, given directly or via risefall_sigma_ratio."""
    width, ratio = a.values.get("width"), a.values.get("risefall_sigma_ratio")
    duration = a.duration
    if width is None and ratio is None:
        raise a.fail("width", f"{a.shape} needs 'width' or 'risefall_sigma_ratio'")
    if width is not None and ratio is not None:
        raise a.fail("risefall_sigma_ratio", "give either 'width' or 'risefall_sigma_ratio', not both")
    if width is None:
        width = duration - 2.0 * ratio * a["sigma"]
        if not math.isfinite(width) or not 0.0 <= width <= duration:
            raise a.fail(
                "risefall_sigma_ratio",
                f"risefall_sigma_ratio {ratio} with sigma {a['sigma']} gives width {width:.6g}, "
                f"outside [0, duration = {duration}]",
            )
        return width
    if width < 0:
        raise a.fail("width", f"width must be >= 0, got {width}")
    if width > duration:
        raise a.fail("width", f"width {width} exceeds the duration {duration}")
    return width


def _square_top(t: np.ndarray, duration: float, width: float, sigma: float) -> tuple[np.ndarray, ...]:
    """Edges and masks of a lifted gaussian square: zero at t = -1 and t = duration + 1."""
    center = duration / 2
    t0, t1 = center - width / 2, center + width / 2
    left = _lifted_gaussian(t, t0, -1.0, sigma)
    right = _lifted_gaussian(t, t1, duration + 1.0, sigma)
    return t0, t1, left, right


def _constant(t: np.ndarray, a: _Args) -> np.ndarray:
    return np.full(t.shape, a.scale, dtype=np.complex128)


def _zero(t: np.ndarray, a: _Args) -> np.ndarray:
    return np.zeros(t.shape, dtype=np.complex128)


def _gaussian(t: np.ndarray, a: _Args) -> np.ndarray:
    sigma = a.positive("sigma")
    d = float(a.duration)
    return a.scale * _lifted_gaussian(t, d / 2, d + 1.0, sigma)


def _drag(t: np.ndarray, a: _Args) -> np.ndarray:
    sigma = a.positive("sigma")
    d = float(a.duration)
    gauss = _lifted_gaussian(t, d / 2, d + 1.0, sigma)
    return a.scale * (gauss + 1j * a["beta"] * _drag_term(t, d / 2, sigma, gauss))


def _gaussian_square(t: np.ndarray, a: _Args) -> np.ndarray:
    sigma = a.positive("sigma")
    width = _width(a)
    t0, t1, left, right = _square_top(t, float(a.duration), width, sigma)
    shape = np.where(t <= t0, left, np.where(t >= t1, right, 1.0))
    return a.scale * shape


def _gaussian_square_drag(t: np.ndarray, a: _Args) -> np.ndarray:
    sigma = a.positive("sigma")
    width = _width(a)
    t0, t1, left, right = _square_top(t, float(a.duration), width, sigma)
    beta = a["beta"]
    left = left + 1j * beta * _drag_term(t, t0, sigma, left)
    right = right + 1j * beta * _drag_term(t, t1, sigma, right)
    shape = np.where(t <= t0, left, np.where(t >= t1, right, 1.0 + 0j))
    return a.scale * shape


def _gaussian_square_echo(t: np.ndarray, a: _Args) -> np.ndarray:
    """Qiskit's echoed CR tone: +A square in the first half, -A in the second, plus an active tone."""
    sigma = a.positive("sigma")
    width = _width(a)
    d = float(a.duration)
    half = d / 2
    echo_width = (d - 2 * (d - width)) / 2
    # first half: centred at d/4, zero at -1 and d/2 + 1
    c1 = d / 4
    l1 = _lifted_gaussian(t, c1 - echo_width / 2, -1.0, sigma)
    r1 = _lifted_gaussian(t, c1 + echo_width / 2, half + 1.0, sigma)
    first = np.where(t <= c1 - echo_width / 2, l1, np.where(t >= c1 + echo_width / 2, r1, 1.0))
    # second half: centred at 3d/4, zero at d/2 - 1 and d + 1, sign flipped
    c2 = half + d / 4
    l2 = _lifted_gaussian(t, c2 - echo_width / 2, half - 1.0, sigma)
    r2 = _lifted_gaussian(t, c2 + echo_width / 2, d + 1.0, sigma)
    second = np.where(t <= c2 - echo_width / 2, l2, np.where(t >= c2 + echo_width / 2, r2, 1.0))
    echo = a.scale * np.where(t <= half, first, -second)
    # active (rotary cancellation) tone over the whole pulse, an ordinary gaussian_square
    t0, t1, left, right = _square_top(t, d, width, sigma)
    active = np.where(t <= t0, left, np.where(t >= t1, right, 1.0))
    active_scale = a["active_amp"] * _phasor(a["active_angle"])
    return echo + active_scale * active


def _gaussian_deriv(t: np.ndarray, a: _Args) -> np.ndarray:
    sigma = a.positive("sigma")
    with np.errstate(all="ignore"):
        u = (t - a.duration / 2) / sigma
        gauss = np.exp(-0.5 * u**2)
    return -a.scale * _times_where_nonzero(u / sigma, gauss)


def _sech(t: np.ndarray, a: _Args) -> np.ndarray:
    sigma = a.positive("sigma")
    d = float(a.duration)
    with np.errstate(all="ignore"):
        u = (t - d / 2) / sigma
        shape = 1.0 / np.cosh(u)
        if a["zero_ends"]:
            v = np.float64((-1.0 - d / 2) / sigma)
            edge = 1.0 / np.cosh(v)
            if edge < 0.5:
                shape = (shape - edge) / (1.0 - edge)
            else:
                # same ratio rewritten with sinh so that a very wide sech does not lose all digits
                lift = np.sinh(v / 2) ** 2
                if lift == 0.0:
                    shape = 1.0 - (t - d / 2) ** 2 / (1.0 + d / 2) ** 2
                else:
                    shape = np.sinh((v + u) / 2) * np.sinh((v - u) / 2) / (np.cosh(u) * lift)
    return a.scale * shape


def _sech_deriv(t: np.ndarray, a: _Args) -> np.ndarray:
    sigma = a.positive("sigma")
    with np.errstate(all="ignore"):
        u = (t - a.duration / 2) / sigma
        sech = 1.0 / np.cosh(u)
        shape = -_times_where_nonzero(np.tanh(u) / sigma, sech)
    return a.scale * shape


def _frequency(a: _Args) -> float:
    """``freq`` in cycles per dt; one cycle over the pulse by default, below Nyquist as Qiskit demands."""
    freq = a.values.get("freq")
    given = freq is not None
    if not given:
        if a.duration == 0:
            return 0.25  # an empty pulse: nothing is sampled, so there is no default to check
        freq = 1.0 / a.duration
    if not 0.0 < freq < 0.5:
        origin = "" if given else f" (the default 1/duration for duration {a.duration})"
        raise a.fail("freq", f"freq {freq:.6g}{origin} must be in (0, 0.5) cycles per sample")
    return freq


def _sin(t: np.ndarray, a: _Args) -> np.ndarray:
    return a.scale * np.sin(_TWO_PI * _frequency(a) * t + a["phase"])


def _cos(t: np.ndarray, a: _Args) -> np.ndarray:
    return a.scale * np.cos(_TWO_PI * _frequency(a) * t + a["phase"])


def _square(t: np.ndarray, a: _Args) -> np.ndarray:
    x = _frequency(a) * t + a["phase"] / _TWO_PI
    return a.scale * (2.0 * (2.0 * np.floor(x) - np.floor(2.0 * x)) + 1.0)


def _sawtooth(t: np.ndarray, a: _Args) -> np.ndarray:
    x = _frequency(a) * t + a["phase"] / _TWO_PI
    return 2.0 * a.scale * (x - np.floor(x + 0.5))


def _triangle(t: np.ndarray, a: _Args) -> np.ndarray:
    x = _frequency(a) * t + a["phase"] / _TWO_PI - 0.25
    saw = 2.0 * (x - np.floor(x + 0.5))
    return a.scale * (1.0 - 2.0 * np.abs(saw))


def _wacqt_flux(t: np.ndarray, t_w: float, t_rf: float, t_p: float, delta_0: float) -> np.ndarray:
    """Tergite's flux-pulse envelope delta(t): wait t_w, raised-cosine rise over t_rf/2, flat delta_0 for
    t_p, raised-cosine fall over t_rf/2, then 0 (the boundaries as Tergite's executors have them)."""
    out = np.zeros(t.shape)
    rise_end = t_w + t_rf / 2
    fall_start = rise_end + t_p
    end = t_w + t_rf + t_p
    rise = (t > t_w) & (t <= rise_end)
    flat = (t > rise_end) & (t < fall_start)
    fall = (t >= fall_start) & (t < end) & ~rise & ~flat
    out[flat] = delta_0
    if t_rf > 0:  # with t_rf = 0 both edges are empty and the pulse is a square of width t_p
        out[rise] = delta_0 / 2 * (1 - np.cos(_TWO_PI * (t[rise] - t_w) / t_rf))
        out[fall] = delta_0 / 2 * (1 - np.cos(_TWO_PI * (t[fall] - t_w - t_p) / t_rf))
    return out


def _wacqt_cz_gate_pulse(t: np.ndarray, a: _Args) -> np.ndarray:
    """Tergite's CZ flux pulse on a coupler: the envelope delta(t) of the flux modulation, times e^{i phi}.

    The time axis is Tergite's: ``duration`` points spread evenly over the whole gate, first and last
    included (``linspace(0, t_p + t_rf + 2 t_w, duration)``), whatever the device's dt. The modulation
    frequency is the coupler channel's frame frequency, as on Tergite's Qblox path, which plays
    delta_0 as the amplitude of a soft square pulse; ``Theta``, ``omega_c0``, ``omega_Phi``, ``amp`` and
    ``freq`` describe the coupler and are accepted without changing the samples.
    """
    times = {name: a.values[name] for name in ("t_w", "t_rf", "t_p")}
    for name, value in times.items():
        if value < 0:
            raise a.fail(name, f"{name} must be >= 0 s, got {value}")
    gate = times["t_p"] + times["t_rf"] + 2 * times["t_w"]
    if not gate > 0:
        raise a.fail("t_p", "the gate t_p + t_rf + 2 t_w must last longer than 0 s")
    grid = np.linspace(0.0, gate, a.duration)
    return _wacqt_flux(grid, times["t_w"], times["t_rf"], times["t_p"], a["delta_0"]) * _phasor(a["phi"])


@dataclass(frozen=True)
class ShapeSpec:
    """What a ``parametric_pulse`` of one shape may carry, and how it is sampled.

    ``optional`` maps each optional parameter to its default; a default of ``None`` means "absent"
    (``width``/``risefall_sigma_ratio``: one of them is needed; ``freq``: one cycle per pulse).
    """

    name: str
    required: tuple[str, ...]
    optional: Mapping[str, Any]
    formula: str
    envelope: Callable[[np.ndarray, _Args], np.ndarray] = field(repr=False, compare=False)

    @property
    def parameters(self) -> tuple[str, ...]:
        return self.required + tuple(self.optional)


def _spec(
    name: str,
    required: tuple[str, ...],
    optional: dict[str, Any],
    formula: str,
    envelope: Callable[[np.ndarray, _Args], np.ndarray],
) -> ShapeSpec:
    return ShapeSpec(name, required, MappingProxyType(optional), formula, envelope)


_ANGLE = {"angle": 0.0}
_WAVE = {"freq": None, "phase": 0.0, "angle": 0.0}
_SQUARE_TOP = {"width": None, "risefall_sigma_ratio": None, "angle": 0.0}

SHAPES: dict[str, ShapeSpec] = {
    spec.name: spec
    for spec in (
        _spec("constant", ("duration", "amp"), _ANGLE, "A", _constant),
        _spec("zero", ("duration",), {}, "0", _zero),
        _spec("gaussian", ("duration", "amp", "sigma"), _ANGLE,
              "A * lifted(exp(-(t - d/2)^2 / 2 sigma^2))", _gaussian),
        _spec("gaussian_square", ("duration", "amp", "sigma"), _SQUARE_TOP,
              "A * (lifted gaussian rise, 1 over width, lifted gaussian fall)", _gaussian_square),
        _spec("drag", ("duration", "amp", "sigma", "beta"), _ANGLE,
              "A * G(t) * (1 - i beta (t - d/2) / sigma^2), G the lifted gaussian", _drag),
        _spec("gaussian_square_drag", ("duration", "amp", "sigma", "beta"), _SQUARE_TOP,
              "gaussian_square whose edges are drag edges", _gaussian_square_drag),
        _spec("gaussian_square_echo", ("duration", "amp", "sigma"),
              {**_SQUARE_TOP, "active_amp": 0.0, "active_angle": 0.0},
              "+A then -A gaussian_square halves, plus an active_amp gaussian_square", _gaussian_square_echo),
        _spec("gaussian_deriv", ("duration", "amp", "sigma"), _ANGLE,
              "-A (t - d/2) / sigma^2 * exp(-(t - d/2)^2 / 2 sigma^2)", _gaussian_deriv),
        _spec("sech", ("duration", "amp", "sigma"), {"angle": 0.0, "zero_ends": True},
              "A * sech((t - d/2) / sigma), lifted to 0 at t = -1 when zero_ends", _sech),
        _spec("sech_deriv", ("duration", "amp", "sigma"), _ANGLE,
              "-A tanh(u) sech(u) / sigma, u = (t - d/2) / sigma", _sech_deriv),
        _spec("sin", ("duration", "amp"), _WAVE, "A sin(2 pi freq t + phase)", _sin),
        _spec("cos", ("duration", "amp"), _WAVE, "A cos(2 pi freq t + phase)", _cos),
        _spec("square", ("duration", "amp"), _WAVE, "A sign(sin(2 pi freq t + phase)), sign(0) = 1", _square),
        _spec("sawtooth", ("duration", "amp"), _WAVE,
              "2A (x - floor(x + 1/2)), x = freq t + phase / 2 pi", _sawtooth),
        _spec("triangle", ("duration", "amp"), _WAVE,
              "A (1 - 2|sawtooth(x - 1/4)|), x = freq t + phase / 2 pi", _triangle),
        _spec("wacqt_cz_gate_pulse", ("duration", "delta_0", "t_w", "t_rf", "t_p"),
              {"phi": 0.0, "Theta": None, "omega_c0": None, "omega_Phi": None, "amp": None, "freq": None},
              "delta(t_k) e^(i phi), t_k = linspace(0, t_p + t_rf + 2 t_w, duration) s; delta: 0 for t_w, "
              "raised-cosine rise over t_rf/2 to delta_0, flat for t_p, fall, 0", _wacqt_cz_gate_pulse),
    )
}

# Shapes whose samples are ``amp * (the samples at amp = 1)`` to the last bit (``amp`` multiplies the
# envelope last): a job sweeping the amplitude samples each such pulse once (PulseJob).
SCALED_BY_AMP = frozenset({"constant", "gaussian", "drag", "gaussian_square", "gaussian_square_drag",
                           "gaussian_deriv", "sech", "sech_deriv", "sin", "cos", "square", "sawtooth", "triangle"})
_AMPLITUDES = frozenset({"amp", "active_amp"})
_FLAGS = frozenset({"zero_ends"})


def _parse(name: str, value: Any, a: _Args) -> Any:
    location = a.location(name)
    if name == "duration":
        if _is_bool(value) or not isinstance(value, int | np.integer):
            raise JobError(f"duration must be a whole number of samples, got {_describe(value)}", location)
        duration = int(value)
        if duration < 0:
            raise JobError(f"duration must be >= 0, got {duration}", location)
        if duration > MAX_DURATION:
            raise JobError(f"duration {duration} exceeds the limit of {MAX_DURATION} samples", location)
        return duration
    if name in _AMPLITUDES:
        return parse_amplitude(value, location)
    if name in _FLAGS:
        if not _is_bool(value):
            raise JobError(f"{name} must be true or false, got {_describe(value)}", location)
        return bool(value)
    return _real(value, location)


def _culprit(a: _Args) -> str:
    """For an overflow, the parameter most likely responsible: the largest in magnitude."""
    sizes = {k: abs(v) for k, v in a.values.items() if k != "duration" and isinstance(v, float | complex)}
    return max(sizes, key=lambda k: sizes[k]) if sizes else "amp"


def sample(shape: str, parameters: Mapping[str, Any], where: str | None = None) -> np.ndarray:
    """The complex128 samples (one per dt, ``len == duration``) of a parametric pulse.

    ``where`` is the JSON path of the instruction (``experiments[0].instructions[3]``); errors point at
    ``<where>.pulse_shape`` or ``<where>.parameters.<name>``.
    """
    prefix = f"{where}." if where else ""
    if not isinstance(shape, str):
        raise JobError(f"pulse_shape must be a string, got {_describe(shape)}", f"{prefix}pulse_shape")
    spec = SHAPES.get(shape)
    if spec is None:
        shown = shape if len(shape) <= 40 else shape[:37] + "..."
        raise JobError(f"unknown shape {shown!r}; known shapes: {', '.join(SHAPES)}", f"{prefix}pulse_shape")
    if not isinstance(parameters, Mapping):
        raise JobError(f"parameters must be a mapping of names to values, got {_describe(parameters)}",
                       f"{prefix}parameters")
    a = _Args(shape, {}, prefix)
    allowed = set(spec.parameters)
    for key, value in parameters.items():
        if not isinstance(key, str):
            raise JobError(f"parameter names must be strings, got {_describe(key)}", f"{prefix}parameters")
        if key not in allowed:
            shown = key if len(key) <= 40 else key[:37] + "..."
            raise JobError(
                f"unknown parameter {shown!r} for shape '{shape}'; it takes {', '.join(spec.required)}"
                + (f" and optionally {', '.join(spec.optional)}" if spec.optional else ""),
                a.location(shown),
            )
        if value is None and key in spec.optional:
            continue  # JSON null for an optional parameter: the default, as Qiskit's None did
        a.values[key] = _parse(key, value, a)
    for name in spec.required:
        if name not in a.values:
            raise JobError(f"missing parameter '{name}' for shape '{shape}'", a.location(name))
    for name, default in spec.optional.items():
        if name not in a.values and default is not None:
            a.values[name] = default
    budgets.charge_samples(a.duration, a.location("duration"))  # before the arrays exist
    t = np.arange(a.duration, dtype=np.float64) + 0.5
    with np.errstate(all="ignore"):
        samples = np.asarray(spec.envelope(t, a), dtype=np.complex128)
    if not np.all(np.isfinite(samples)):
        name = _culprit(a)
        raise JobError(f"the samples overflow (not finite); {name} is too large", a.location(name))
    return samples


def unit_and_scale(shape: str, parameters: Any, where: str | None = None) -> tuple[dict[str, Any], complex] | None:
    """For a shape in :data:`SCALED_BY_AMP`: its parameters at ``amp = 1, angle = 0`` and the factor
    ``amp * exp(i angle)``, so that ``scale * sample(shape, unit)`` is ``sample(shape, parameters)`` to
    the last bit. None for other shapes or without an ``amp`` (then sample as given)."""
    if shape not in SCALED_BY_AMP or not isinstance(parameters, Mapping) or parameters.get("amp") is None:
        return None
    prefix = f"{where}." if where else ""
    a = _Args(shape, {}, prefix)
    a.values["amp"] = parse_amplitude(parameters["amp"], a.location("amp"))
    unit: dict[str, Any] = {**parameters, "amp": 1.0}
    if "angle" in SHAPES[shape].parameters and parameters.get("angle") is not None:
        a.values["angle"] = _real(parameters["angle"], a.location("angle"))
        unit["angle"] = 0.0
    return unit, a.scale


def calibrated(cal: PulseCalibration, amp: float | None = None) -> np.ndarray:
    """Samples of a device's calibrated pulse, optionally at another amplitude (for sweeps)."""
    return sample(cal.shape, cal.parameters(amp))
