"""The workbench's marks in a program: ``@workbench.<key>`` annotations and header fields.

OpenQASM lets tools annotate statements (``@keyword text``) and ignores annotations it does not know,
so a program written by :mod:`workbench.jobs.to_openpulse` stays a valid program for every other tool
while carrying what only the workbench's IR holds: a play's name, a parametric shape behind explicit
samples, a delay instruction, a frame change after a play at the same sample, a register slot.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from workbench.errors import JobError
from workbench.jobs.openpulse.values import Waveform


def annotation(node: Any, key: str) -> str | None:
    """The text after ``@workbench.<key>`` on a statement, or None when it has none."""
    for mark in getattr(node, "annotations", None) or ():
        text = (mark.keyword + (mark.command or "")).strip()
        head, _, rest = text.partition(" ")
        if head == f"workbench.{key}":
            return rest.strip() or ""
    return None


def json_text(text: str, what: str, here: str | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JobError(f"{what}: not valid JSON ({exc.msg})", here) from None


def shape_annotation(node: Any, value: Waveform, here: str | None, warnings: list[str]) -> tuple[Any, Any]:
    """``@workbench.shape {"shape": ..., "parameters": ...}`` names the parametric shape of explicit samples,
    kept only when sampling it gives exactly those samples."""
    from workbench.pulses.shapes import sample

    text = annotation(node, "shape")
    if text is None:
        return value.shape, value.parameters
    data = json_text(text, "@workbench.shape", here)
    if not isinstance(data, dict) or not isinstance(data.get("shape"), str) or not isinstance(
            data.get("parameters"), dict):
        raise JobError('@workbench.shape takes {"shape": name, "parameters": {...}}', here)
    try:
        again = sample(data["shape"], data["parameters"])
    except JobError as exc:
        raise JobError(f"@workbench.shape: {exc}", here) from None
    if again.shape != value.samples.shape or not np.array_equal(again, value.samples):
        warnings.append(f"{here}: @workbench.shape ignored: the {data['shape']} shape does not give these samples")
        return value.shape, value.parameters
    return data["shape"], data["parameters"]


def natural(value: Any, what: str) -> int:
    """A header count (memory slots, a register slot): a whole number, never a bool."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise JobError(f"{what} must be a whole number >= 0, got {value!r}")
    return value


def header_registers(value: Any) -> tuple[tuple[str, int], ...]:
    """``creg_sizes`` of ``pragma workbench.experiment``: ``[[name, size], ...]`` as Qiskit writes it."""
    if not isinstance(value, list) or not all(
            isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and isinstance(e[1], int) for e in value):
        raise JobError("pragma workbench.experiment: creg_sizes must be a list of [name, size] pairs")
    return tuple((e[0], e[1]) for e in value)
