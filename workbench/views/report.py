"""A self-contained HTML report of a result: one file a colleague opens offline, years later.

Everything comes from the result's Dataset (which is what ``dataset.nc`` holds), so a reloaded result
gives the same report: the device and calibration (``device_config``), the effective options and
where each came from, the provenance trace, a counts table, the result figures and, on pulse
devices, the schedule of the first experiment rebuilt from the job text. plotly.js is inlined once
in the head and every figure refers to it, so the file needs no network (and is ~5 MB whatever the
number of figures). Credentials cannot appear: a result never holds them.
"""

from __future__ import annotations

import html
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from workbench.devices.model import Device
    from workbench.results.result import Result

log = logging.getLogger("workbench")

MAX_TABLE_ROWS = 200
MAX_TABLE_OUTCOMES = 32

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1200px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.6em;
       border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.note { color: #666; font-size: 0.9em; } .warning { color: #a15c00; }
.figure { margin: 1em 0; }
"""


@dataclass(frozen=True)
class Table:
    """A small table of strings, shown by the report and the device picker alike."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _fmt(value: Any, scale: float = 1.0, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value * scale:.{digits}g}"


def calibration_tables(device: Device) -> list[Table]:
    """What one checks before choosing a device: per-qubit physics and calibrated pulses, couplings."""
    if not device.is_pulse_device:
        edges = device.coupling_map
        shown = "all-to-all" if edges is None else ", ".join(f"{a}-{b}" for a, b in edges)
        return [Table("gate-level device", ("qubits", "coupling map"), ((str(device.qubit_count), shown),))]
    rows = []
    for q in sorted(device.qubits, key=lambda q: q.index):
        x = q.drive.x
        disc = q.readout.discriminator
        rows.append((
            str(q.index), _fmt(q.frequency, 1e-9, 6), _fmt(q.anharmonicity, 1e-6), _fmt(q.t1, 1e6),
            _fmt(q.t2, 1e6), f"{x.shape} {x.duration} dt, amp {x.amp:.4g}", _fmt(q.readout.frequency, 1e-9, 6),
            disc.kind if disc is not None else "none",
        ))
    tables = [Table("qubits", ("qubit", "f01 (GHz)", "anharmonicity (MHz)", "T1 (us)", "T2 (us)", "x pulse",
                               "readout (GHz)", "discriminator"), tuple(rows))]
    if device.couplings:
        tables.append(Table("couplings", ("channel", "qubits", "rate (MHz)", "zz (kHz)", "cz pulse"), tuple(
            (c.channel, f"{c.qubits[0]}-{c.qubits[1]}", _fmt(c.rate, 1e-6), _fmt(c.zz, 1e-3),
             f"{c.cz.shape} {c.cz.duration} dt, amp {c.cz.amp:.4g}" if c.cz is not None else "none")
            for c in device.couplings)))
    return tables


def html_table(table: Table, *, css_class: str = "", caption: bool = True) -> str:
    """A :class:`Table` as escaped HTML (numbers right-aligned)."""
    def cell(text: str, tag: str) -> str:
        numeric = tag == "td" and text.replace(".", "", 1).replace("-", "", 1).replace("e", "", 1).isdigit()
        return f"<{tag}{' class=num' if numeric else ''}>{html.escape(text)}</{tag}>"

    head = "".join(cell(c, "th") for c in table.columns)
    body = "".join("<tr>" + "".join(cell(v, "td") for v in row) + "</tr>" for row in table.rows)
    cap = f"<caption style='text-align:left'><b>{html.escape(table.title)}</b></caption>" if caption else ""
    cls = f" class='{html.escape(css_class)}'" if css_class else ""
    return f"<table{cls}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv_table(rows: Sequence[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_show(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def counts_table(result: Result) -> str:
    """Counts per experiment (rows) and outcome (columns, the most frequent first), bounded in size."""
    ds = result.dataset
    if "counts" not in ds:
        return "<p class='note'>No counts: the run did not discriminate (meas_level 1).</p>"
    table = np.asarray(ds["counts"].values)
    outcomes = [str(o) for o in ds["outcome"].values]
    order = np.argsort(-table.sum(axis=0), kind="stable")[:MAX_TABLE_OUTCOMES]
    names = result.experiment_names
    rows = tuple((names[e], *(str(int(table[e, k])) for k in order)) for e in range(min(len(names),
                                                                                         MAX_TABLE_ROWS)))
    out = html_table(Table("counts", ("experiment", *(outcomes[k] for k in order)), rows), caption=False)
    notes = []
    if len(names) > MAX_TABLE_ROWS:
        notes.append(f"first {MAX_TABLE_ROWS} of {len(names)} experiments")
    if len(outcomes) > MAX_TABLE_OUTCOMES:
        notes.append(f"{MAX_TABLE_OUTCOMES} most frequent of {len(outcomes)} outcomes")
    if notes:
        out += f"<p class='note'>Shown: {'; '.join(notes)} (all of them are in result-counts.csv).</p>"
    return out


def rebuild_device(result: Result) -> Device | None:
    """The device as it was when the result was produced (None if its description no longer validates)."""
    from workbench.devices.model import Device

    try:
        return Device.model_validate(result.device_config)
    except Exception as exc:  # an old or foreign result: the report still shows everything else
        log.info("device of %s not rebuilt: %s", result.tuid, str(exc).splitlines()[0])
        return None


def first_schedule_figure(result: Result, device: Device | None = None) -> tuple[go.Figure | None, str | None]:
    """The schedule of the first experiment, rebuilt from the job text on the recorded device, or why not."""
    from workbench.errors import WorkbenchError
    from workbench.jobs import load_job
    from workbench.views.schedule_figure import schedule_figure

    device = device or rebuild_device(result)
    if device is None:
        return None, "the device description in the result no longer validates"
    if not device.is_pulse_device:
        return None, f"'{device.name}' is a gate-level device: the circuit ran as given, without pulses"
    text = str(result.dataset.attrs.get("job_source", ""))
    if not text:
        return None, "the result holds no job text"
    try:
        schedules = load_job(text).schedules(device)
    except WorkbenchError as exc:
        return None, f"the job could not be rebuilt ({exc})"
    if not schedules:
        return None, "the job has no experiments"
    return schedule_figure(schedules[0]), None


def _figure_html(fig: go.Figure, div_id: str) -> str:
    return ("<div class='figure'>" + fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                                                  config={"displaylogo": False, "responsive": True}) + "</div>")


def report_html(result: Result) -> str:
    """The whole report as one HTML document (plotly.js inlined once)."""
    from plotly.offline import get_plotlyjs

    from workbench.views import result_figures as rf

    trace, options, ds = result.trace, result.options, result.dataset
    names = result.experiment_names
    title = f"{ds.attrs.get('name', 'result')} on {result.device}"
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class='note'>Workbench result {html.escape(result.tuid)}, {html.escape(str(trace.get('date', '')))}"
             "</p>"]
    parts.append(_kv_table([
        ("job", f"{ds.attrs.get('name', '')} ({ds.attrs.get('job_kind', '')}, {len(names)} experiment"
                f"{'s' if len(names) != 1 else ''})"),
        ("job id", result.job_id), ("device", result.device), ("executor", f"{result.executor} "
                                                                            f"({trace.get('qpuType', '')})"),
        ("shots", options.get("shots")), ("seed", options.get("seed")), ("meas_level", options.get("meas_level")),
        ("time taken (s)", trace.get("timeTaken")),
    ]))
    for warning in trace.get("warnings") or []:
        parts.append(f"<p class='warning'>warning: {html.escape(str(warning))}</p>")

    device = rebuild_device(result)
    parts.append("<h2>Device</h2>")
    if device is not None:
        parts.append(f"<p>{html.escape(device.title or device.name)}. {html.escape(device.description)}</p>")
        parts.extend(html_table(t) for t in calibration_tables(device))
    else:
        parts.append(f"<pre>{html.escape(json.dumps(result.device_config, indent=2))}</pre>")

    parts.append("<h2>Execution options</h2>")
    sources = trace.get("optionSources") or {}
    rows = tuple((name, _show(value), str(sources.get(name, ""))) for name, value in options.items())
    parts.append(html_table(Table("options", ("option", "value", "from"), rows), caption=False))

    parts.append("<h2>Counts</h2>")
    parts.append(counts_table(result))

    parts.append("<h2>Figures</h2>")
    count = len(names)
    figures = [("counts", rf.counts_figure(result)), ("distribution", rf.distribution_figure(result)),
               ("sweep", rf.sweep_figure(result)),
               ("iq", rf.iq_figure(result, count // 2 if count > 1 else 0))]
    schedule, why_not = first_schedule_figure(result, device)
    figures.append(("schedule", schedule))
    for key, fig in figures:
        if fig is not None:
            parts.append(_figure_html(fig, f"wb-report-{key}"))
    if why_not:
        parts.append(f"<p class='note'>No schedule figure: {html.escape(why_not)}.</p>")

    parts.append("<h2>Trace</h2>")
    parts.append(f"<pre>{html.escape(json.dumps(trace, indent=2))}</pre>")
    artifacts = result.artifacts
    if artifacts:
        parts.append("<h2>Executor artefacts</h2>")
        for name, text in artifacts.items():
            parts.append(f"<details><summary>{html.escape(name)}</summary><pre>{html.escape(text)}</pre></details>")
    body = "\n".join(parts)
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script></head>\n<body>\n{body}\n</body></html>\n")


def write_report(result: Result, path: str | os.PathLike[str]) -> Path:
    """Write :func:`report_html` to a new file (an existing one is refused)."""
    from workbench.results.exports import write_new_text

    return write_new_text(path, report_html(result))
