"""What the command line prints about a result: the sweep as a compact table, then the analysis.

A sweep is read by its swept values, not by its first experiment: one row per experiment (at most
:data:`MAX_ROWS`; longer sweeps show their start and end) with the swept value(s), P(1) of each
slot and the counts, or the mean IQ point when the run kept no bits. Then the fitted parameters with
their standard errors, or the reasons the verdict failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from workbench.results.result import Result

MAX_ROWS = 24


def _value(name: str, value: float, unit: str) -> str:
    from workbench.analysis.sweep import value_label

    return value_label(name, value, unit or None).split(" = ", 1)[1]


def sweep_table(result: Result, max_rows: int = MAX_ROWS) -> str:
    """The sweep as text (empty when the result is not a sweep)."""
    ds = result.dataset
    names = result.sweep
    if not names:
        return ""
    count = ds.sizes["experiment"]
    order = np.lexsort([np.asarray(ds[n].values, dtype=float) for n in reversed(names)])
    rows_shown = list(order) if count <= max_rows else [*order[: max_rows // 2], None, *order[-max_rows // 2:]]
    header = list(names)
    slot_qubit = np.asarray(ds["slot_qubit"].values)
    slots = [m for m in range(slot_qubit.shape[1]) if np.any(slot_qubit[:, m] >= 0)]
    columns: list[list[str]] = []
    if "memory" in ds:
        p1 = np.asarray(ds["memory"].values, dtype=np.float64).mean(axis=1)  # (experiment, slot)
        for m in slots:
            header.append(f"P(1) slot {m}" if len(slots) > 1 else "P(1)")
            columns.append([f"{p1[e, m]:.3f}" for e in range(count)])
    elif "iq" in ds or "iq_mean" in ds:
        with np.errstate(invalid="ignore"):
            iq = (np.asarray(ds["iq_mean"].values) if "iq_mean" in ds
                  else np.nanmean(np.asarray(ds["iq"].values), axis=1))
        for m in slots:
            header.append(f"mean IQ slot {m}" if len(slots) > 1 else "mean IQ")
            columns.append([f"{iq[e, m].real:+.3f}{iq[e, m].imag:+.3f}j" for e in range(count)])
    if result.has_counts:
        header.append("counts")
        counts = result.counts_list()
        columns.append([" ".join(f"{k}:{c[k]}" for k in sorted(c)[:4]) + (" ..." if len(c) > 4 else "")
                        for c in counts])
    values = []
    for n in names:  # ds[n] once per name: it builds a DataArray each time
        unit = str(ds[n].attrs.get("units", ""))
        values.append([_value(n, float(v), unit) for v in np.asarray(ds[n].values, dtype=float)])
    table = [header]
    for e in rows_shown:
        if e is None:
            table.append(["..."] + [""] * (len(header) - 1))
            continue
        table.append([v[e] for v in values] + [c[e] for c in columns])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in table]
    return "\n".join(lines)


def summary_text(result: Result) -> str:
    """The one-line summary, the sweep table and the analysis, as ``workbench run`` prints them."""
    parts = [result.summary()]
    table = sweep_table(result)
    if table:
        parts.append(table)
    analysis = result.analysis
    if analysis is not None:
        parts.append(analysis.summary())
    return "\n".join(parts)
