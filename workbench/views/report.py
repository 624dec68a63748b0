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


def _kv_table(rows: Sequence[tuple[str, Any]], css_class: str = "") -> str:
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_show(v))}</td></tr>" for k, v in rows)
    cls = f" class='{html.escape(css_class)}'" if css_class else ""
    return f"<table{cls}>{body}</table>"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, np.generic):  # attributes read back from netCDF are numpy scalars
        value = value.item()
    return json.dumps(value, default=str)


def counts_table(result: Result) -> str:
    """One row per experiment, in sweep order: its swept values, P(1) per slot and the counts per outcome (the
    most frequent first), bounded in size (the full table is in ``result-counts.csv``)."""
    from workbench.views.result_figures import slot_curves

    ds = result.dataset
    names = result.experiment_names
    swept = result.sweep
    order = (np.lexsort([np.asarray(ds[n].values, dtype=float) for n in reversed(swept)]) if swept
             else np.arange(len(names)))[:MAX_TABLE_ROWS]
    columns = ["#", *swept, "experiment"]
    cells: list[list[str]] = [[str(e) for e in order]]
    for n in swept:
        unit = str(ds[n].attrs.get("units", "")) or None
        values = np.asarray(ds[n].values, dtype=float)  # once: ds[n] builds a DataArray each time
        cells.append([_swept_value(n, float(values[e]), unit) for e in order])
    cells.append([names[e] for e in order])
    curves, label = slot_curves(ds) if "slot_qubit" in ds.coords else ([], "")
    for slot_name, values in curves:
        columns.append(label if len(curves) == 1 else f"{label} {slot_name}")
        cells.append([f"{values[e]:.4f}" for e in order])
    notes = []
    if "counts" in ds:
        table = np.asarray(ds["counts"].values)
        outcomes = [str(o) for o in ds["outcome"].values]
        keep = np.argsort(-table.sum(axis=0), kind="stable")[:MAX_TABLE_OUTCOMES]
        for k in keep:
            columns.append(outcomes[k])
            cells.append([str(int(table[e, k])) for e in order])
        if len(outcomes) > MAX_TABLE_OUTCOMES:
            notes.append(f"{MAX_TABLE_OUTCOMES} most frequent of {len(outcomes)} outcomes")
    else:
        notes.append("no counts: the run did not discriminate (meas_level 1)")
    shown = min(len(names), MAX_TABLE_ROWS)
    rows = tuple(tuple(column[i] for column in cells) for i in range(shown))
    out = html_table(Table("experiments", tuple(columns), rows), css_class="wb-counts-table", caption=False)
    if len(names) > MAX_TABLE_ROWS:
        notes.insert(0, f"first {MAX_TABLE_ROWS} of {len(names)} experiments")
    if notes:
        out += f"<p class='note'>Shown: {'; '.join(notes)} (every count is in result-counts.csv).</p>"
    return out


def _swept_value(name: str, value: float, unit: str | None) -> str:
    from workbench.analysis.sweep import value_label

    return value_label(name, value, unit).split(" = ", 1)[1]


def rebuild_device(result: Result) -> Device | None:
    """The device as it was when the result was produced (None if its description no longer validates)."""
    from workbench.devices.model import Device

    try:
        return Device.model_validate(result.device_config)
    except Exception as exc:  # an old or foreign result: the report still shows everything else
        log.info("device of %s not rebuilt: %s", result.tuid, str(exc).splitlines()[0])
        return None


def schedule_of(result: Result, experiment: int = 0, device: Device | None = None, *,
                plain: bool = False) -> tuple[Any, str | None]:
    """The schedule of one experiment, rebuilt from the job text on the recorded device, or why not.
    ``plain``: the figure as a plain dict (what a page embeds, without plotly.py validating it)."""
    from workbench.errors import WorkbenchError
    from workbench.jobs import load_job
    from workbench.views.schedule_figure import ScheduleDrawing

    def schedule_figure(schedule: Any) -> Any:
        drawing = ScheduleDrawing(schedule)
        return drawing.figure_dict() if plain else drawing.figure()

    device = device or rebuild_device(result)
    if device is None:
        return None, "the device description in the result no longer validates"
    if not device.is_pulse_device:
        return None, f"'{device.name}' is a gate-level device: the circuit ran as given, without pulses"
    ran = getattr(result, "schedules", None)
    if ran and 0 <= experiment < len(ran) and device.name == result.device:  # this process ran it
        return schedule_figure(ran[experiment]), None
    text = str(result.dataset.attrs.get("job_source", ""))
    if not text:
        return None, "the result holds no job text"
    try:
        schedule = load_job(text).experiment_schedule(device, experiment)
    except WorkbenchError as exc:
        return None, f"the job could not be rebuilt ({exc})"
    if schedule is None:
        return None, "the job has no experiments"
    return schedule_figure(schedule), None


def first_schedule_figure(result: Result, device: Device | None = None) -> tuple[go.Figure | None, str | None]:
    """The schedule of the first experiment (see :func:`schedule_of`)."""
    return schedule_of(result, 0, device)


def chosen_experiment(result: Result) -> int:
    """The experiment whose schedule the report shows: the one nearest the analysis' first reported value on
    the swept axis (the pi amplitude of a Rabi sweep), else the middle of a sweep, else the first."""
    ds = result.dataset
    count = ds.sizes.get("experiment", 0)
    swept = result.sweep
    if not swept or count < 2:
        return 0
    analysis = result.analysis
    marker = next((m for m in (analysis.markers if analysis is not None and analysis.ok else []) if "x" in m), None)
    if marker is not None and analysis is not None:
        x = np.asarray(ds[swept[0]].values, dtype=float) * float(analysis.context.get("x_scale", 1.0) or 1.0)
        centre = analysis.context.get("centre")
        if swept[0] == "frequency" and isinstance(centre, int | float):
            x = (np.asarray(ds[swept[0]].values, dtype=float) - centre) / 1e6
        return int(np.argmin(np.abs(x - float(marker["x"]))))
    order = np.argsort(np.asarray(ds[swept[0]].values, dtype=float), kind="stable")
    return int(order[len(order) // 2])


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested mappings as ``a.b: value`` rows (lists of plain values joined), for readable tables."""
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key, item in value.items():
            rows.extend(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return rows or [(prefix, "{}")]
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return [(prefix, ", ".join(_show(v) for v in value) if value else "none")]
        rows = []
        for i, item in enumerate(value):
            rows.extend(_flatten(item, f"{prefix}[{i}]"))
        return rows
    return [(prefix, _show(value))]


def trace_table(trace: dict[str, Any]) -> str:
    """The provenance trace as a two-column table (class ``wb-report-trace``)."""
    rows = tuple((k, v) for k, v in _flatten(trace))
    return html_table(Table("trace", ("field", "value"), rows), css_class="wb-report-trace", caption=False)


def _versions(trace: dict[str, Any]) -> str:
    versions = trace.get("versions") or {}
    return ", ".join(f"{k} {v}" for k, v in versions.items()) if isinstance(versions, dict) else _show(versions)


def analysis_section(analysis: Any) -> str:
    """The parameter table (``wb-analysis-table``), the verdict and the fits' models."""
    from workbench.views.analysis_figures import context_rows, parameter_table_html, summary_html

    details = context_rows(analysis)
    fits = ""
    if details:
        fits = ("<details><summary>fits</summary>"
                + html_table(Table("fits", ("curve", "model and goodness of fit"), tuple(details)), caption=False)
                + "</details>")
    return f"<div class='wb-report-analysis'>{parameter_table_html(analysis)}{summary_html(analysis)}{fits}</div>"


_FIGURE_CONFIG = json.dumps({"displaylogo": False, "responsive": True})


def _figure_html(fig: go.Figure, div_id: str) -> str:
    """One figure drawn by the page's plotly.js (``Plotly.newPlot(div, {data, layout, config})``)."""
    from workbench.views.plotly_json import figure_json

    body = figure_json(fig)
    height = (fig.get("layout", {}).get("height") if isinstance(fig, dict) else fig.layout.height) or 450
    script = f'Plotly.newPlot("{div_id}", {body[:-1]},"config":{_FIGURE_CONFIG}}});'
    return ("<div class='figure'>" f'<div id="{div_id}" class="plotly-graph-div" '
            f'style="height:{int(height)}px; width:100%;"></div>'
            f"<script type='text/javascript'>{script}</script></div>")


def _page_parts(title: str, body: str) -> tuple[str, str]:
    """The page before and after the inlined plotly.js."""
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style><script type='text/javascript'>",
            f"</script></head>\n<body>\n{body}\n</body></html>\n")


def _page(title: str, body: str) -> str:
    from workbench.views.plotly_json import plotlyjs

    before, after = _page_parts(title, body)
    return before + plotlyjs()[0] + after


def report_html(result: Result, *, experiment: int | None = None) -> str:
    """The whole report as one HTML document (plotly.js inlined once); ``experiment`` chooses whose
    schedule is shown (default: :func:`chosen_experiment`)."""
    return _page(*_report(result, experiment))


def _report(result: Result, experiment: int | None) -> tuple[str, str]:
    """The report's title and body."""
    from workbench.views import result_figures as rf

    trace, options, ds = result.trace, result.options, result.dataset
    names = result.experiment_names
    analysis = result.analysis
    job = str(ds.attrs.get("name", "result"))
    title = f"{job} on {result.device}" if analysis is None else f"{analysis.title}: {job} on {result.device}"
    swept = result.sweep
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class='note'>Workbench result {html.escape(result.tuid)}"
             + (f", a sweep over {html.escape(' and '.join(swept))}" if swept else "") + "</p>"]
    parts.append(_kv_table([
        ("job", f"{job} ({ds.attrs.get('job_kind', '')}, {len(names)} experiment{'s' if len(names) != 1 else ''})"),
        ("job id", result.job_id), ("device", result.device), ("date", trace.get("date", "")),
        ("tuid", result.tuid), ("shots", options.get("shots")), ("seed", options.get("seed")),
        ("meas_level", options.get("meas_level")),
        ("executor", f"{result.executor} ({trace.get('qpuType', '')})"), ("versions", _versions(trace)),
        ("time taken (s)", trace.get("timeTaken")),
    ], css_class="wb-report-header"))
    for warning in trace.get("warnings") or []:
        parts.append(f"<p class='warning'>warning: {html.escape(str(warning))}</p>")

    sweep = rf.sweep_figure(result, plain=True)
    if sweep is not None or analysis is not None or swept:  # one-shot jobs: counts and IQ say it all
        parts.append("<h2>Result</h2>")
    if sweep is not None:
        parts.append(_figure_html(sweep, "wb-report-sweep"))
    if analysis is not None:
        parts.append(analysis_section(analysis))
    elif swept:
        parts.append("<p class='note'>No analysis in this result: <code>workbench analyse FOLDER</code> (or "
                     "<code>workbench run ... --analyse</code>) fits it.</p>")

    parts.append("<h2>Experiments</h2>")
    parts.append(counts_table(result))

    device = rebuild_device(result)
    chosen = chosen_experiment(result) if experiment is None else result._experiment_index(experiment)
    parts.append("<h2>Schedule</h2>")
    schedule, why_not = schedule_of(result, chosen, device, plain=True)
    if schedule is not None:
        parts.append(f"<p class='note'>Experiment {html.escape(rf.experiment_label(ds, chosen))}.</p>")
        parts.append(_figure_html(schedule, "wb-report-schedule"))
    if why_not:
        parts.append(f"<p class='note'>No schedule figure: {html.escape(why_not)}.</p>")

    parts.append("<h2>Execution options</h2>")
    sources = trace.get("optionSources") or {}
    rows = tuple((name, _show(value), str(sources.get(name, ""))) for name, value in options.items())
    parts.append(html_table(Table("options", ("option", "value", "from"), rows), caption=False))

    parts.append("<h2>Device</h2>")
    if device is not None:
        parts.append(f"<p>{html.escape(device.title or device.name)}. {html.escape(device.description)}</p>")
        parts.extend(html_table(t) for t in calibration_tables(device))
    else:
        parts.append(f"<pre>{html.escape(json.dumps(result.device_config, indent=2))}</pre>")

    figures = [("counts", rf.counts_figure(result, plain=True)),
               ("distribution", rf.distribution_figure(result, plain=True)),
               ("iq", rf.iq_figure(result, chosen, plain=True))]
    if any(fig is not None for _, fig in figures):
        parts.append("<h2>Counts and IQ</h2>")
    for key, fig in figures:
        if fig is not None:
            parts.append(_figure_html(fig, f"wb-report-{key}"))

    parts.append("<h2>Trace</h2>")
    parts.append(trace_table(trace))
    artifacts = result.artifacts
    if artifacts:
        parts.append("<h2>Executor artefacts</h2>")
        for name, text in artifacts.items():
            parts.append(f"<details><summary>{html.escape(name)}</summary><pre>{html.escape(text)}</pre></details>")
    return title, "\n".join(parts)


def _json_attr(ds: Any, key: str, default: Any) -> Any:
    raw = ds.attrs.get(key)
    try:
        return json.loads(raw) if isinstance(raw, str) else default
    except ValueError:
        return default


def _change(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    return "none" if value is None else _show(value)


def calibration_section(ds: Any, diff: str | None = None, index: int = 0) -> str:
    """One tune-up routine: header, the figure with the fit, the parameters, the calibration diff and the
    verdict, from its tune-up Dataset alone (so a history entry's ``dataset.nc`` gives the same section)."""
    from workbench.analysis.base import attached
    from workbench.views.tuneup_figures import tuneup_figure

    quality = _json_attr(ds, "quality", {})
    ok = bool(quality.get("ok"))
    routine = str(ds.attrs.get("routine", ""))
    head = f"{routine} on {ds.attrs.get('device', '')}, qubit {ds.attrs.get('qubit', '')}"
    parts = [f"<section class='wb-calibration-routine'><h2>{html.escape(head)}: "
             f"{'fit ok' if ok else 'REJECTED'}</h2>"]
    runs = _json_attr(ds, "runs", [])
    parts.append(_kv_table([
        ("routine", routine), ("device", ds.attrs.get("device", "")), ("qubit", ds.attrs.get("qubit", "")),
        ("date", ds.attrs.get("created", "")), ("tuid", ds.attrs.get("tuid", "")),
        ("runs", "; ".join(f"{r.get('tuid')} ({r.get('experiments')} experiments, {r.get('shots')} shots, seed "
                           f"{r.get('seed')}, {r.get('executor')})" for r in runs)),
        ("parameters", ", ".join(f"{k} {_change(v)}" for k, v in _json_attr(ds, "parameters", {}).items())),
    ], css_class="wb-report-header"))
    parts.append(_figure_html(tuneup_figure(ds, plain=True), f"wb-report-calibration-{index}"))
    analysis = attached(ds)
    if analysis is not None:
        parts.append(analysis_section(analysis))
    else:
        measured = _json_attr(ds, "measured", {})
        rows = tuple((k, f"{_change(v.get('value'))} ± {_change(v.get('stderr'))}") for k, v in measured.items())
        parts.append(html_table(Table("measured", ("parameter", "value ± standard error"), rows),
                                css_class="wb-analysis-table", caption=False))
    updates = _json_attr(ds, "updates", [])
    parts.append("<h3>Calibration diff</h3>")
    if updates:
        rows = tuple((f"qubits[{u.get('qubit')}].{u.get('path')}", _change(u.get("old")), _change(u.get("new")),
                      _change(u.get("stderr"))) for u in updates)
        parts.append(html_table(Table("changes", ("key", "old", "new", "standard error"), rows),
                                css_class="wb-calibration-diff", caption=False))
    else:
        parts.append("<p class='note'>Nothing to write: this routine measures physics, not calibration.</p>")
    if diff:
        parts.append(f"<pre class='wb-calibration-patch'>{html.escape(diff)}</pre>")
    if not ok:
        reasons = "".join(f"<li>{html.escape(str(r))}</li>" for r in quality.get("reasons") or [])
        parts.append(f"<p class='warning'>Rejected, nothing written:</p><ul>{reasons}</ul>")
    parts.append(f"<details><summary>summary</summary><pre>{html.escape(str(ds.attrs.get('summary', '')))}</pre>"
                 "</details></section>")
    return "\n".join(parts)


def calibration_report_html(results: Sequence[Any], diffs: Sequence[str | None] | None = None,
                            title: str | None = None) -> str:
    """The calibration report of one tune-up routine or a whole sequence: an overview (routine, verdict,
    changes), then one section per routine (:func:`calibration_section`). ``results`` are tune-up
    Datasets or objects holding one (``.dataset``: a ``CalibrationResult``); ``diffs`` the unified diffs
    written or previewed for them."""
    datasets = [getattr(r, "dataset", r) for r in results]
    diffs = list(diffs) if diffs is not None else [None] * len(datasets)
    devices = sorted({str(ds.attrs.get("device", "")) for ds in datasets})
    title = title or f"Calibration report: {', '.join(devices)}"
    rows = []
    for ds in datasets:
        quality = _json_attr(ds, "quality", {})
        changes = ", ".join(f"{u.get('path')} {_change(u.get('old'))} -> {_change(u.get('new'))}"
                            for u in _json_attr(ds, "updates", []) if not isinstance(u.get("new"), dict))
        rows.append((str(ds.attrs.get("routine", "")), f"q{ds.attrs.get('qubit', '')}",
                     "ok" if quality.get("ok") else "REJECTED", changes or "-"))
    parts = [f"<h1>{html.escape(title)}</h1>",
             html_table(Table("routines", ("routine", "qubit", "verdict", "proposed changes"), tuple(rows)),
                        css_class="wb-calibration-overview", caption=False)]
    parts.extend(calibration_section(ds, diff, i) for i, (ds, diff) in enumerate(zip(datasets, diffs, strict=True)))
    return _page(title, "\n".join(parts))


def write_calibration_report(results: Sequence[Any], path: str | os.PathLike[str],
                             diffs: Sequence[str | None] | None = None) -> Path:
    """Write :func:`calibration_report_html` to a new file (an existing one is refused)."""
    from workbench.results.exports import write_new_text

    return write_new_text(path, calibration_report_html(results, diffs))


def write_report(result: Result, path: str | os.PathLike[str]) -> Path:
    """Write :func:`report_html` to a new file (an existing one is refused)."""
    from workbench.results.exports import write_new_text
    from workbench.views.plotly_json import plotlyjs

    before, after = _page_parts(*_report(result, None))
    return write_new_text(path, [before, plotlyjs()[1], after])
