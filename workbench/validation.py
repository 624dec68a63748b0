"""Turn pydantic validation errors into one located, human message.

Pydantic reports a list of errors with tuple locations; users need the first real problem as
``experiments[3].instructions[7].pulse_shape: unknown shape 'foo'``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError


def json_path(loc: Sequence[str | int], prefix: str | None = None) -> str:
    """``("experiments", 3, "instructions")`` -> ``experiments[3].instructions``."""
    out = prefix or ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("function-") or part in {"tagged-union", "union"}:
            continue  # pydantic-internal validator names carry no meaning for a user
        else:
            out += f".{part}" if out else part
    return out


def _clean_message(err: dict) -> str:
    msg = str(err.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if err.get("type") == "extra_forbidden":
        msg = "unknown field"
    elif err.get("type") == "missing":
        msg = "field required"
    given = err.get("input")
    if err.get("type") not in {"missing", "extra_forbidden"} and isinstance(given, str | int | float | bool):
        text = repr(given)
        if len(text) <= 40 and text not in msg:
            msg += f" (got {text})"
    return msg


def format_validation_error(exc: ValidationError, prefix: str | None = None) -> tuple[str, str]:
    """(location, message) of the most specific error; the count of further errors is appended."""
    errors = exc.errors()
    # Prefer the deepest location: union members report shallower, less useful errors first.
    best = max(errors, key=lambda e: len(e.get("loc", ())))
    location = json_path(best.get("loc", ()), prefix)
    message = _clean_message(best)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return location, message
