"""Classical expressions of OpenQASM 3, evaluated when the program is compiled.

Arithmetic follows Python on ints, floats and complex numbers (``angle`` values are plain floats in
radians: no ``angle[n]`` rounding), plus durations: a duration may be added to or subtracted from a
duration, multiplied or divided by a number, and divided by a duration (giving a number). A value
that only exists while the shot runs (a measurement result) cannot take part in any of it: that
would be runtime classical control.
"""

from __future__ import annotations

import cmath
import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from workbench.errors import JobError, UnsupportedError
from workbench.jobs.openpulse.values import Capture, Duration, Frame, Port, Register, Waveform

SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
MAX_LIST = 10_000_000  # elements in one array or sample list
_MAX_INT_EXPONENT = 4096

BUILTIN_CONSTANTS = {"pi": math.pi, "π": math.pi, "tau": 2 * math.pi, "τ": 2 * math.pi,
                     "euler": math.e, "ℇ": math.e}


def _real_fn(fn: Callable[[float], float]) -> Callable[[Any], Any]:
    """``math.fn`` for real arguments, ``cmath.fn`` for complex ones."""
    def call(x: Any) -> Any:
        return getattr(cmath, fn.__name__)(x) if isinstance(x, complex) else fn(x)

    return call


MATH = {
    "sin": _real_fn(math.sin), "cos": _real_fn(math.cos), "tan": _real_fn(math.tan),
    "arcsin": lambda x: math.asin(x), "arccos": lambda x: math.acos(x), "arctan": lambda x: math.atan(x),
    "exp": _real_fn(math.exp), "log": _real_fn(math.log), "sqrt": _real_fn(math.sqrt),
    "ceiling": lambda x: math.ceil(x), "floor": lambda x: math.floor(x), "abs": abs,
    "mod": lambda a, b: math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else a % b,
    "pow": lambda a, b: a**b, "real": lambda z: complex(z).real, "imag": lambda z: complex(z).imag,
    "arg": lambda z: cmath.phase(complex(z)),
}

_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt, "<=": operator.le,
            ">=": operator.ge}
_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
               "%": operator.mod, "**": operator.pow, "&": operator.and_, "|": operator.or_,
               "^": operator.xor, "<<": operator.lshift, ">>": operator.rshift}


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | complex | np.number) and not isinstance(value, bool | np.bool_)


def runtime_value(value: Any) -> bool:
    return isinstance(value, Capture | Register)


def describe(value: Any) -> str:
    kinds = {Duration: "a duration", Waveform: "a waveform", Frame: "a frame", Port: "a port",
             Capture: "a measurement result", Register: "a measurement register", bool: "a bool",
             int: "an int", float: "a float", complex: "a complex number", list: "an array",
             str: "a string"}
    for kind, text in kinds.items():
        if isinstance(value, kind):
            return text
    return type(value).__name__


def runtime_error(where: str | None) -> UnsupportedError:
    return UnsupportedError("a measurement result is only known while the shot runs; computing with it "
                            "(runtime classical control, e.g. 'if (c[0] == 1)') is not supported", where)


def binary(op: str, a: Any, b: Any, where: str | None) -> Any:
    """``a op b`` for numbers, bools and durations."""
    if runtime_value(a) or runtime_value(b):
        raise runtime_error(where)
    if op == "&&":
        return bool(a) and bool(b)
    if op == "||":
        return bool(a) or bool(b)
    if isinstance(a, Duration) or isinstance(b, Duration):
        return _duration_binary(op, a, b, where)
    if not (is_number(a) or isinstance(a, bool)) or not (is_number(b) or isinstance(b, bool)):
        raise JobError(f"cannot apply '{op}' to {describe(a)} and {describe(b)}", where)
    if op in ("**", "<<") and isinstance(a, int) and isinstance(b, int) and abs(b) > _MAX_INT_EXPONENT:
        a = float(a)  # an integer power or shift that large would take the memory, not give a number
        if op == "<<":
            raise JobError(f"shift by {b} bits is too large", where)
    try:
        if op in _COMPARE:
            return _COMPARE[op](a, b)
        if op == "/" and isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
            return a // b if a % b == 0 else a / b
        result = _ARITHMETIC[op](a, b)
    except ZeroDivisionError:
        raise JobError("division by zero", where) from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise JobError(f"cannot apply '{op}' to {describe(a)} and {describe(b)} ({exc})", where) from None
    if isinstance(result, float | complex) and not cmath.isfinite(result):
        raise JobError(f"'{op}' gives a value that is not finite", where)
    return result


def _duration_binary(op: str, a: Any, b: Any, where: str | None) -> Any:
    both = isinstance(a, Duration) and isinstance(b, Duration)
    if both and op in _COMPARE:
        return _COMPARE[op](a.samples, b.samples)
    if both and op in ("+", "-"):
        return Duration(_ARITHMETIC[op](a.samples, b.samples))
    if both and op == "/":
        if b.samples == 0:
            raise JobError("division by a zero duration", where)
        return a.samples / b.samples
    real = (int, float)
    if op == "*" and isinstance(a, Duration) and isinstance(b, real) and not isinstance(b, bool):
        return Duration(a.samples * b)
    if op == "*" and isinstance(b, Duration) and isinstance(a, real) and not isinstance(a, bool):
        return Duration(a * b.samples)
    if op == "/" and isinstance(a, Duration) and isinstance(b, real) and not isinstance(b, bool):
        if b == 0:
            raise JobError("division by zero", where)
        return Duration(a.samples / b)
    raise JobError(f"cannot apply '{op}' to {describe(a)} and {describe(b)}", where)


def unary(op: str, value: Any, where: str | None) -> Any:
    if runtime_value(value):
        raise runtime_error(where)
    if op == "-":
        if isinstance(value, Duration):
            return Duration(-value.samples)
        if is_number(value):
            return -value
    elif op == "!":
        return not bool(value)
    elif op == "~" and isinstance(value, int) and not isinstance(value, bool):
        return ~value
    raise JobError(f"cannot apply '{op}' to {describe(value)}", where)


def call_math(name: str, args: list[Any], where: str | None) -> Any:
    for arg in args:
        if runtime_value(arg):
            raise runtime_error(where)
        if not (is_number(arg) or isinstance(arg, bool)):
            raise JobError(f"{name}() takes numbers, got {describe(arg)}", where)
    try:
        result = MATH[name](*args)
    except TypeError:
        raise JobError(f"{name}() got {len(args)} argument(s)", where) from None
    except (ValueError, OverflowError, ZeroDivisionError) as exc:
        raise JobError(f"{name}() cannot take these arguments ({exc})", where) from None
    return result


def coerce(type_node: Any, value: Any, where: str | None, what: str) -> Any:
    """``value`` as the declared type; raises a :class:`JobError` naming ``what`` when it does not fit."""
    from openpulse import ast

    if value is None:
        return None
    if runtime_value(value):
        return value  # stored, never computed with: checked where it is stored
    if isinstance(type_node, ast.IntType | ast.UintType):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            if isinstance(type_node, ast.UintType) and value < 0:
                raise JobError(f"{what} is a uint and cannot hold {value}", where)
            return value
    elif isinstance(type_node, ast.FloatType | ast.AngleType):
        if isinstance(value, bool | int | float) and not isinstance(value, complex):
            return float(value)
    elif isinstance(type_node, ast.ComplexType):
        if is_number(value) or isinstance(value, bool):
            return complex(value)
    elif isinstance(type_node, ast.BoolType):
        if is_number(value) or isinstance(value, bool):
            return bool(value)
    elif isinstance(type_node, ast.BitType):
        if type_node.size is None and (isinstance(value, bool) or value in (0, 1)):
            return int(value)
        if type_node.size is not None and isinstance(value, int | list):
            return value
    elif isinstance(type_node, ast.DurationType | ast.StretchType):
        if isinstance(value, Duration):
            return value
        if is_number(value) and value == 0:
            return Duration(0.0)
    elif isinstance(type_node, ast.ArrayType):
        if isinstance(value, list):
            return [coerce(type_node.base_type, v, where, what) for v in value]
    elif _is_pulse_type(type_node, "WaveformType"):
        if isinstance(value, Waveform):
            return value
    elif _is_pulse_type(type_node, "FrameType"):
        if isinstance(value, Frame):
            return value
    elif _is_pulse_type(type_node, "PortType"):
        if isinstance(value, Port):
            return value
    else:
        raise UnsupportedError(f"{what}: type {type(type_node).__name__} is not supported", where)
    kind = type(type_node).__name__.removesuffix("Type").lower()
    raise JobError(f"{what} is declared {kind} and cannot hold {describe(value)}", where)


def _is_pulse_type(node: Any, name: str) -> bool:
    return type(node).__name__ == name


def default_value(type_node: Any) -> Any:
    """The value of a declaration without an initialiser (OpenQASM leaves it unspecified; zero here)."""
    from openpulse import ast

    if isinstance(type_node, ast.BitType):
        return 0 if type_node.size is None else None
    if isinstance(type_node, ast.IntType | ast.UintType):
        return 0
    if isinstance(type_node, ast.FloatType | ast.AngleType):
        return 0.0
    if isinstance(type_node, ast.ComplexType):
        return 0j
    if isinstance(type_node, ast.BoolType):
        return False
    if isinstance(type_node, ast.DurationType):
        return Duration(0.0)
    return None


__all__ = ["BUILTIN_CONSTANTS", "MATH", "SECONDS", "binary", "call_math", "coerce", "default_value",
           "describe", "is_number", "runtime_error", "unary"]
