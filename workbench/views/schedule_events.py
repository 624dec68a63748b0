"""The event table as a pandas DataFrame, a CSV file or text: one row per instruction, no cap.

Columns: ``t_ns`` and ``t_sample`` (absolute start), ``channel``, ``kind`` (play, frame, delay,
acquire), ``name`` (pulse name, frame-change kind), ``gate`` (the provenance label, ``sx q0``),
``calibration``, ``source`` (index of the instruction in the job or the compiled circuit, -1 when
unknown), ``duration_ns`` and ``duration_samples``, ``parameters`` (pulse shape and parameters, the
frame change's value, the acquisition's slot), ``frequency_hz`` and ``phase_rad`` (the channel's
frame after the event), ``checks`` (the timing findings of the device's rules, empty when none).

Strings are built once per distinct value (a million plays of one calibrated pulse share one
``parameters`` text) and the text columns are categoricals, so a DataFrame of a million rows costs
little more than its numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.schedule.table import (
    ACQUIRE,
    DELAY,
    FRAME,
    KINDS,
    PLAY,
    EventTable,
    _by_identity,
    event_table,
    format_frame_value,
)
from workbench.schedule.table import format_parameters as _format_parameters

if TYPE_CHECKING:
    import pandas as pd

    from workbench.schedule.checks import Findings
    from workbench.schedule.ir import Schedule

COLUMNS = ("t_ns", "t_sample", "channel", "kind", "name", "gate", "calibration", "source", "duration_ns",
           "duration_samples", "parameters", "frequency_hz", "phase_rad", "checks")


def _categorical(codes: np.ndarray, categories: list[str]) -> Any:
    """A categorical column from codes into texts; equal texts (two origins of one calibration) merge."""
    import pandas as pd

    merged: dict[str, int] = {}
    remap = np.array([merged.setdefault(str(c), len(merged)) for c in categories] or [0], dtype=np.int32)
    return pd.Categorical.from_codes(remap[codes], categories=pd.Index(list(merged), dtype=object))


def parameters_column(table: EventTable) -> tuple[np.ndarray, list[str]]:
    """Per row, a code into the returned texts (what :meth:`EventTable.parameters_text` would say)."""
    schedule = table.schedule
    codes = np.zeros(len(table), dtype=np.int32)
    texts: list[str] = [""]
    lookup: dict[str, int] = {"": 0}

    def merge(rows: np.ndarray, row_codes: np.ndarray, row_texts: list[str]) -> None:
        remap = np.array([lookup.setdefault(t, len(lookup)) for t in row_texts] or [0], dtype=np.int32)
        codes[rows] = remap[row_codes]

    plays = schedule.plays
    if plays:
        rows = np.flatnonzero(table.kind == PLAY)
        dicts: list[Any] = []
        by_dict = _by_identity(list(map(attrgetter("parameters"), plays)), dicts)  # the builder shares them
        _, first = np.unique(by_dict, return_index=True)
        play_texts = [_format_parameters(plays[int(i)].shape, d) for i, d in zip(first, dicts, strict=True)]
        merge(rows, by_dict[table.item[rows]], play_texts)
    changes = schedule.frame_changes
    if changes:
        rows = np.flatnonzero(table.kind == FRAME)
        kinds = np.fromiter((("setf", "shiftf", "setp", "shiftp").index(c.kind) for c in changes), np.int8,
                            count=len(changes))
        values = np.fromiter(map(attrgetter("value"), changes), np.float64, count=len(changes))
        pairs_u, inverse = np.unique(np.stack([kinds.astype(np.float64), values], axis=1), axis=0, return_inverse=True)
        names = ("setf", "shiftf", "setp", "shiftp")
        change_texts = [format_frame_value(names[int(k)], float(v)) for k, v in pairs_u]
        merge(rows, inverse.reshape(-1)[table.item[rows]], change_texts)
    acquires = schedule.acquires
    if acquires:
        rows = np.flatnonzero(table.kind == ACQUIRE)
        keys = [(a.qubit, a.memory_slot, a.register_slot) for a in acquires]
        distinct: dict[tuple[Any, ...], int] = {}
        acq_codes = np.array([distinct.setdefault(k, len(distinct)) for k in keys], dtype=np.int32)
        acq_texts = [f"q{q} -> slot {m}" + (f", register {r}" if r is not None else "") for q, m, r in distinct]
        merge(rows, acq_codes[table.item[rows]], acq_texts)
    texts = sorted(lookup, key=lookup.__getitem__)
    return codes, texts


def event_frame(schedule: Schedule, findings: Findings | None = None) -> pd.DataFrame:
    """Every instruction of ``schedule`` as one DataFrame row, in the order they apply."""
    import pandas as pd

    table = event_table(schedule)
    ns = table.dt_ns
    gate_codes = table.origin
    gates = [o.label for o in table.origins]
    calibrations = [o.calibration or "" for o in table.origins]
    param_codes, param_texts = parameters_column(table)
    checks = np.zeros(len(table), dtype=np.int32)
    check_texts = [""]
    if findings is not None and len(findings):
        flagged = np.unique(findings.row)
        messages = findings.for_rows(flagged)
        checks[flagged] = np.arange(1, flagged.size + 1, dtype=np.int32)
        check_texts += ["; ".join(messages[int(r)]) for r in flagged]
    frame = pd.DataFrame({
        "t_ns": table.t0 * ns,
        "t_sample": table.t0,
        "channel": _categorical(table.channel, table.channels),
        "kind": _categorical(table.kind.astype(np.int32), list(KINDS)),
        "name": _categorical(table.name, table.names),
        "gate": _categorical(np.where(gate_codes >= 0, gate_codes, len(gates)), [*gates, ""]) if gates
        else _categorical(np.zeros(len(table), np.int32), [""]),
        "calibration": _categorical(np.where(gate_codes >= 0, gate_codes, len(calibrations)), [*calibrations, ""])
        if gates else _categorical(np.zeros(len(table), np.int32), [""]),
        "source": table.source,
        "duration_ns": table.duration * ns,
        "duration_samples": table.duration,
        "parameters": _categorical(param_codes, param_texts),
        "frequency_hz": table.frequency,
        "phase_rad": table.phase,
        "checks": _categorical(checks, check_texts),
    })
    frame.attrs["schedule"] = schedule.name
    frame.attrs["dt"] = schedule.dt
    return frame


def events(job: Any, device: Any = None, *, experiment: int | str | None = 0, config: Any = None,
           checks: bool = True) -> pd.DataFrame:
    """The event table of one experiment of ``job`` on ``device`` (``experiment=None``: every experiment,
    with an ``experiment`` column first), with the timing findings of the device's executor.

    ``job`` and ``device`` are what :func:`workbench.run` accepts; a circuit is shown as the pulses the
    device's calibrations make of it. A job the executor would refuse is still listed; its reason is
    in ``frame.attrs["objection"]``.
    """
    import pandas as pd

    from workbench.views.schedule_inspect import pick_experiment, timing_findings, timing_rules, view_job

    viewed = view_job(job, device, config=config)
    names = viewed.job.experiment_names
    rules = timing_rules(viewed.device) if checks else None
    if experiment is not None:
        schedule = viewed.schedules[pick_experiment(names, experiment)]
        frame = event_frame(schedule, timing_findings(schedule, viewed.device, rules) if checks else None)
        frame.attrs["objection"] = viewed.objection
        return frame
    frames = []
    for name, schedule in zip(names, viewed.schedules, strict=True):
        frame = event_frame(schedule, timing_findings(schedule, viewed.device, rules) if checks else None)
        frame.insert(0, "experiment", name)
        frames.append(frame)
    joined = pd.concat(frames, ignore_index=True)
    joined.attrs["objection"] = viewed.objection
    return joined


def text_lines(frame: pd.DataFrame) -> Iterator[str]:
    """The table as aligned text, one line per event (what ``workbench events`` prints)."""
    widths = {"t_ns": 12, "t_sample": 10, "channel": 7, "kind": 7, "name": 14, "gate": 14, "duration_ns": 11,
              "frequency_hz": 14, "phase_rad": 9}
    head = ["t_ns", "t_sample", "channel", "kind", "name", "gate", "duration_ns", "frequency_hz", "phase_rad"]
    yield "  ".join(f"{h:>{widths[h]}}" for h in head) + "  parameters / checks"
    columns = {c: frame[c].to_numpy() for c in head}
    params = frame["parameters"].astype(object).to_numpy()
    checks = frame["checks"].astype(object).to_numpy()
    for i in range(len(frame)):
        extra = params[i] + (f"  !! {checks[i]}" if checks[i] else "")
        yield (f"{columns['t_ns'][i]:>12.6g}  {columns['t_sample'][i]:>10d}  {columns['channel'][i]:>7}  "
               f"{columns['kind'][i]:>7}  {str(columns['name'][i])[:14]:>14}  {str(columns['gate'][i])[:14]:>14}  "
               f"{columns['duration_ns'][i]:>11.6g}  {columns['frequency_hz'][i]:>14.10g}  "
               f"{columns['phase_rad'][i]:>+9.4f}  {extra}")


__all__ = ["COLUMNS", "DELAY", "event_frame", "events", "parameters_column", "text_lines"]
