"""Tergite's job-file envelope, in every form the Tergite stack has written it.

The Tergite SDK uploads a PulseQobj wrapped in a small envelope, and the envelope changed over time:

* **E0** (SDK <= 2025.3.1, backends <= v2025.03): ``{"job_id", "type": "script", "name":
  "pulse_schedule", "params": {"qobj": {...}}}``, in older files with ``post_processing``,
  ``is_calibration_supervisor_job``, other ``name`` values (old backends never looked at it) and other
  ``params`` (``num_pts``, ``qa_avg``);
* **E1** (backends since 2025-05, SDK >= 2025.6): ``{"job_id", "params": {"qobj": ...}}`` where the SDK
  writes ``params.qobj`` as a JSON *string* of the qobj.

A lab has files of every era, so all of them are read. What is refused is what no era wrote and what
is most likely a typo (``qobjj``, ``job_idfer``): a misspelt key would otherwise make the job vanish
silently. A calibration-script job (``params`` without a ``qobj``) and a QASM qobj get messages of
their own, since neither is a pulse schedule.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import JobError

#: Keys Tergite envelopes of some era carry at the top level.
ENVELOPE_KEYS = ("job_id", "type", "name", "params", "post_processing", "is_calibration_supervisor_job")
#: A ``params.qobj`` string longer than this is not parsed (a job file is read whole anyway; this
#: only bounds the second decode of the same bytes).
MAX_QOBJ_TEXT = 256 * 1024 * 1024


@dataclass(frozen=True)
class Unwrapped:
    """What an envelope holds: the job id, the qobj (decoded), and what was ignored."""

    job_id: str
    qobj: Any
    era: str  # "E0" (type/name present) or "E1" ({job_id, params} only)
    qobj_was_text: bool
    warnings: tuple[str, ...]


def is_envelope(data: Mapping[str, Any]) -> bool:
    """Tergite's wrapper rather than a bare qobj: it has ``params``, ``type: "script"``, or a job id and no
    experiments (a bare qobj always has ``experiments``)."""
    if "params" in data or data.get("type") == "script":
        return True
    return "job_id" in data and "experiments" not in data


def _near(key: str, known: tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    return close[0] if close else None


def _shown(key: Any) -> str:
    text = str(key)
    return text if len(text) <= 40 else text[:37] + "..."


def unwrap(data: Mapping[str, Any]) -> Unwrapped:
    """The qobj inside a Tergite envelope; raises :class:`JobError` located at the envelope key."""
    warnings: list[str] = []
    for key in data:
        if key in ENVELOPE_KEYS:
            continue
        near = _near(str(key), ENVELOPE_KEYS)
        if near is not None:
            raise JobError(f"unknown key (did you mean '{near}'?)", _shown(key))
        warnings.append(f"{_shown(key)}: ignored (not part of a Tergite job file)")
    if "job_id" not in data:
        raise JobError("field required: a Tergite job file names its job", "job_id")
    job_id = data["job_id"]
    if not isinstance(job_id, str) or not job_id.strip():
        raise JobError("must be a non-empty string", "job_id")
    kind = data.get("type")
    if kind is not None and kind != "script":
        raise JobError(f"a Tergite job of type {_shown(kind)!r} is not a pulse job (pulse jobs have type "
                       "'script', or no type in current files)", "type")
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise JobError("must be a string", "name")
    if "params" not in data:
        raise JobError("field required: the job's qobj goes in params.qobj", "params")
    params = data["params"]
    if not isinstance(params, Mapping):
        raise JobError(f"must be an object holding the qobj (got {type(params).__name__})", "params")
    for key in params:
        if key == "qobj":
            continue
        if _near(str(key), ("qobj",)) is not None:
            raise JobError("unknown key (did you mean 'qobj'?)", f"params.{_shown(key)}")
    if "qobj" not in params:
        if params:
            keys = ", ".join(_shown(k) for k in list(params)[:4])
            raise JobError(f"no qobj: this Tergite job ({keys}) is a calibration script, not a pulse schedule; "
                           "only jobs with params.qobj run here", "params")
        raise JobError("field required", "params.qobj")
    warnings.extend(f"params.{_shown(k)}: ignored (not part of a pulse job)" for k in params if k != "qobj")
    qobj = params["qobj"]
    text = isinstance(qobj, str)
    if text:
        qobj = _decode(qobj)
    if not isinstance(qobj, Mapping):
        raise JobError(f"must be an object or a JSON string of one (got {type(qobj).__name__})", "params.qobj")
    era = "E0" if "type" in data or "name" in data else "E1"
    return Unwrapped(job_id, qobj, era, text, tuple(warnings))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON; numbers must be finite")


def _decode(text: str) -> Any:
    """``params.qobj`` written as a JSON string (the Tergite SDK's ``JobFile.model_dump_json``)."""
    if len(text) > MAX_QOBJ_TEXT:
        raise JobError(f"the qobj string is longer than {MAX_QOBJ_TEXT} characters", "params.qobj")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise JobError(f"the qobj string is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno} "
                       "of the string)", "params.qobj") from None
    except RecursionError:
        raise JobError("the qobj string is not valid JSON: nested too deeply", "params.qobj") from None
    except ValueError as exc:
        raise JobError(f"the qobj string is not valid JSON: {exc}", "params.qobj") from None
