"""Waveform functions of OpenPulse programs, sampled when the program is compiled.

Two families share some names, and the first argument tells them apart:

* the OpenPulse specification's ``gaussian(amp, d, sigma)``, ``sech(amp, d, sigma)``,
  ``gaussian_square(amp, d, square_width, sigma)``, ``drag(amp, d, sigma, beta)``,
  ``constant(amp, d)`` and ``sine(amp, d, frequency, phase)`` (an amplitude first) are the
  workbench's parametric shapes (:mod:`workbench.pulses.shapes`: Qiskit's definitions, sampled at
  the middle of each ``dt``), so a play keeps its shape and parameters and exports as such;
* Amazon Braket's ``gaussian(length, sigma, amplitude, zero_at_edges)``,
  ``drag_gaussian(length, sigma, beta, amplitude, zero_at_edges)``, ``constant(length, iq)`` and
  ``erf_square(length, width, sigma, off_center, amplitude, zero_at_edges)`` (a duration first) are
  sampled the way ``braket.pulse`` samples them (at the start of each ``dt``, times in seconds).

``mix``, ``sum``, ``phase_shift`` and ``scale`` combine waveforms sample by sample, and a list of
numbers (``{0.1, 0.2 + 0.1im}``) is a waveform of those samples.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workbench import budgets
from workbench.errors import JobError
from workbench.jobs.openpulse.expressions import describe, is_number
from workbench.jobs.openpulse.values import Duration, Waveform
from workbench.pulses.shapes import MAX_DURATION, sample

SPEC_FUNCTIONS = ("gaussian", "sech", "gaussian_square", "drag", "constant", "sine")
BRAKET_FUNCTIONS = ("gaussian", "drag_gaussian", "constant", "erf_square")
COMBINATORS = ("mix", "sum", "phase_shift", "scale")
WAVEFORM_FUNCTIONS = frozenset(SPEC_FUNCTIONS + BRAKET_FUNCTIONS + COMBINATORS)


def frozen(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.complex128)
    samples.setflags(write=False)
    return samples


def from_list(values: list[Any], where: str | None) -> Waveform:
    """A waveform from explicit samples (numbers)."""
    if not values:
        raise JobError("a waveform needs at least one sample", where)
    if len(values) > MAX_DURATION:
        raise JobError(f"{len(values)} samples exceed the limit of {MAX_DURATION}", where)
    for i, v in enumerate(values):
        if not is_number(v):
            raise JobError(f"sample {i} of the waveform is {describe(v)}, not a number", where)
    return Waveform(frozen(np.array(values, dtype=np.complex128)))


def _duration(value: Any, what: str, where: str | None, *, whole: bool = True) -> float:
    if not isinstance(value, Duration):
        raise JobError(f"{what} must be a duration such as 48dt or 48ns, got {describe(value)}", where)
    if whole:
        n = value.whole(what, where, allow_zero=False)
        if n > MAX_DURATION:
            raise JobError(f"{what} of {n} samples exceeds the limit of {MAX_DURATION}", where)
        budgets.check("max_pulse_samples", n, where)  # before the waveform is sampled
        return n
    if not value.samples > 0:
        raise JobError(f"{what} must be > 0, got {value}", where)
    return value.samples


def _number(value: Any, what: str, where: str | None, *, complex_ok: bool = False) -> Any:
    if isinstance(value, bool) or not is_number(value) or (isinstance(value, complex) and not complex_ok):
        kind = "a number" if complex_ok else "a real number"
        raise JobError(f"{what} must be {kind}, got {describe(value)}", where)
    if isinstance(value, complex) and value.imag == 0:
        return float(value.real)
    return complex(value) if isinstance(value, complex) else float(value)


def _flag(value: Any, what: str, where: str | None) -> bool:
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    raise JobError(f"{what} must be true or false, got {describe(value)}", where)


def _arity(name: str, args: list[Any], low: int, high: int, where: str | None) -> None:
    if not low <= len(args) <= high:
        want = str(low) if low == high else f"{low} to {high}"
        raise JobError(f"{name}() takes {want} arguments, got {len(args)}", where)


def _shape(shape: str, parameters: dict[str, Any], label: str, where: str | None) -> Waveform:
    try:
        samples = sample(shape, parameters)
    except JobError as exc:  # located at 'parameters.<name>': say which argument of the call instead
        raise JobError(f"{label}(): {exc.message}", where) from None
    return Waveform(frozen(samples), shape, parameters, None)


def _spec(name: str, args: list[Any], dt: float, where: str | None) -> Waveform:
    """The specification's signatures, onto the workbench's parametric shapes."""
    shapes = {"gaussian": ("gaussian", ("sigma",)), "sech": ("sech", ("sigma",)),
              "gaussian_square": ("gaussian_square", ("width", "sigma")), "drag": ("drag", ("sigma", "beta")),
              "constant": ("constant", ()), "sine": ("sin", ("freq", "phase"))}
    shape, rest = shapes[name]
    _arity(name, args, 2 + len(rest), 2 + len(rest), where)
    params: dict[str, Any] = {"duration": int(_duration(args[1], f"{name}() duration", where)),
                              "amp": _number(args[0], f"{name}() amplitude", where, complex_ok=True)}
    for key, value in zip(rest, args[2:], strict=True):
        if key in ("sigma", "width"):
            params[key] = _duration(value, f"{name}() {key}", where, whole=False)
        elif key == "freq":
            params[key] = _number(value, f"{name}() frequency (Hz)", where) * dt
        else:
            params[key] = _number(value, f"{name}() {key}", where)
    return _shape(shape, params, name, where)


def _braket(name: str, args: list[Any], dt: float, where: str | None) -> Waveform:
    """Amazon Braket's signatures, sampled as ``braket.pulse`` does: ``t = k dt`` in seconds."""
    if name == "constant":
        _arity(name, args, 2, 2, where)
        n = int(_duration(args[0], "constant() length", where))
        return Waveform(frozen(np.full(n, complex(_number(args[1], "constant() iq", where, complex_ok=True)))))
    if name == "erf_square":
        _arity(name, args, 3, 6, where)
        defaults = [Duration(0.0), 1.0, False]
        args = args + defaults[len(args) - 3:]
        n = int(_duration(args[0], "erf_square() length", where))
        width = _duration(args[1], "erf_square() width", where, whole=False) * dt
        sigma = _duration(args[2], "erf_square() sigma", where, whole=False) * dt
        off = args[3].samples * dt if isinstance(args[3], Duration) else _number(args[3], "off_center", where)
        return Waveform(frozen(_erf_square(n, dt, width, sigma, off, _number(args[4], "amplitude", where,
                                                                              complex_ok=True),
                                           _flag(args[5], "zero_at_edges", where))))
    drag = name == "drag_gaussian"
    _arity(name, args, 3 if drag else 2, 5 if drag else 4, where)
    n = int(_duration(args[0], f"{name}() length", where))
    sigma = _duration(args[1], f"{name}() sigma", where, whole=False) * dt
    rest = args[3:] if drag else args[2:]
    beta = _number(args[2], "beta", where) if drag else 0.0
    amplitude = _number(rest[0], "amplitude", where, complex_ok=True) if rest else 1.0
    zero = _flag(rest[1], "zero_at_edges", where) if len(rest) > 1 else False
    t = np.arange(n) * dt
    length = n * dt
    t0 = length / 2
    edge = math.exp(-0.5 * (length / (2 * sigma)) ** 2) if zero else 0.0
    gauss = amplitude / (1 - edge) * (np.exp(-0.5 * ((t - t0) / sigma) ** 2) - edge)
    if drag:
        gauss = (1 - 1j * beta * (t - t0) / sigma**2) * gauss
    return Waveform(frozen(gauss))


def _erf_square(n: int, dt: float, width: float, sigma: float, off: float, amplitude: Any, zero: bool) -> np.ndarray:
    from scipy.special import erf

    t = np.arange(n) * dt
    length = n * dt
    t1 = (length - width) / 2 + off
    t2 = (length + width) / 2 + off
    samples = (erf((t - t1) / sigma) + erf(-(t - t2) / sigma)) / 2
    top = erf((width / 2) / sigma)
    bottom = (erf(-t1 / sigma) + erf(t2 / sigma)) / 2
    if zero:
        return (samples - bottom) / (top - bottom) * amplitude
    return samples * amplitude / top


def _waveform_arg(value: Any, name: str, where: str | None) -> Waveform:
    if isinstance(value, list):
        return from_list(value, where)
    if not isinstance(value, Waveform):
        raise JobError(f"{name}() takes waveforms, got {describe(value)}", where)
    return value


def _combine(name: str, args: list[Any], where: str | None) -> Waveform:
    _arity(name, args, 2, 2, where)
    if name in ("mix", "sum"):
        a, b = (_waveform_arg(v, name, where) for v in args)
        if a.duration != b.duration:
            raise JobError(f"{name}() needs waveforms of one length, got {a.duration} and {b.duration} samples", where)
        return Waveform(frozen(a.samples * b.samples if name == "mix" else a.samples + b.samples))
    if name == "phase_shift":
        wave = _waveform_arg(args[0], name, where)
        angle = _number(args[1], "phase_shift() angle", where)
        return Waveform(frozen(wave.samples * complex(math.cos(angle), math.sin(angle))))
    # scale(waveform, factor); the specification's own example writes scale(factor, waveform)
    first, second = args
    wave_first = isinstance(first, Waveform | list)
    wave = _waveform_arg(first if wave_first else second, name, where)
    factor = _number(second if wave_first else first, "scale() factor", where, complex_ok=True)
    return Waveform(frozen(wave.samples * factor))


def call_waveform(name: str, args: list[Any], dt: float, where: str | None) -> Waveform:
    """Evaluate waveform function ``name`` on evaluated arguments; the result has no label yet."""
    if name in COMBINATORS:
        return _combine(name, args, where)
    braket = name in ("drag_gaussian", "erf_square") or (
        name in BRAKET_FUNCTIONS and bool(args) and isinstance(args[0], Duration))
    result = _braket(name, args, dt, where) if braket else _spec(name, args, dt, where)
    if not np.all(np.isfinite(result.samples)):
        raise JobError(f"{name}() gives samples that are not finite", where)
    return result


__all__ = ["WAVEFORM_FUNCTIONS", "call_waveform", "from_list", "frozen"]
