"""Turn pydantic validation errors into one located, human message.

Pydantic reports a list of errors with tuple locations; users need the first real problem as
``experiments[3].instructions[7].pulse_shape: unknown shape 'foo'``. Locations are JSON paths into
the user's file, so anything pydantic adds for its own bookkeeping (validator names, union members,
discriminator tags) is dropped from them.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from pydantic import ValidationError

# Generic pydantic wording replaced by what a person editing a JSON/YAML file understands.
_TYPE_MESSAGES = {
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "extra_forbidden": "unknown field",
    "missing": "field required",
}


def hidden_tag(name: str) -> str:
    """A discriminator tag that :func:`json_path` leaves out (``<acquire>``): tags are not in the file."""
    return f"<{name}>"


def _hidden(part: str) -> bool:
    return (
        part.startswith("function-")
        or part in {"tagged-union", "union", "[key]"}
        or (part.startswith("<") and part.endswith(">"))
    )


def json_path(loc: Sequence[str | int], prefix: str | None = None) -> str:
    """``("experiments", 3, "instructions")`` -> ``experiments[3].instructions``."""
    out = prefix or ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _hidden(part):
            continue  # pydantic-internal names carry no meaning for a user
        else:
            out += f".{part}" if out else part
    return out


def _clean_message(err: dict) -> str:
    kind = err.get("type")
    msg = str(err.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    msg = _TYPE_MESSAGES.get(str(kind), msg)
    given = err.get("input")
    if kind in {"missing", "extra_forbidden"}:
        return msg
    text = ""
    if isinstance(given, bool):
        text = "true" if given else "false"
    elif isinstance(given, str):
        text = repr(given) if repr(given) not in msg else ""  # "unknown channel 'x9'" already shows it
    elif isinstance(given, int | float):
        text = repr(given)
    elif given is None:
        text = "null"
    elif kind in _TYPE_MESSAGES:  # containers: only the kind matters, and only for type errors
        text = "a list" if isinstance(given, list | tuple) else "an object" if isinstance(given, dict) else ""
    if text and len(text) <= 40:
        msg += f" (got {text})"
    return msg


def format_validation_error(exc: ValidationError, prefix: str | None = None) -> tuple[str, str]:
    """(location, message) of the most specific error; the count of further errors is appended."""
    errors = exc.errors()
    # Prefer the deepest location: union members report shallower, less useful errors first. At equal
    # depth a present-but-wrong value beats a missing one: a typo'd key yields both, and the typo is
    # what the user has to fix.
    best = max(errors, key=lambda e: (len(e.get("loc", ())), e.get("type") != "missing"))
    loc = tuple(best.get("loc", ()))
    location = json_path(loc, prefix)
    message = _clean_message(best)
    if best.get("type") == "extra_forbidden" and loc and isinstance(loc[-1], str):
        missing = [str(e["loc"][-1]) for e in errors
                   if e.get("type") == "missing" and tuple(e.get("loc", ()))[:-1] == loc[:-1]]
        close = difflib.get_close_matches(loc[-1], missing, n=1)
        if close:
            message += f" (did you mean '{close[0]}'?)"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return location, message
