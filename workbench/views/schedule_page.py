"""``workbench show``: one self-contained HTML page of a job's schedules on a device.

The page has a title (job, device, executor), an experiment selector across all experiments (a list,
and a slider over the swept value when the experiments differ by one), the figure of the chosen
experiment, its event table (filters by channel, kind, time window and timing findings; a click on
a row centres the figure on the event) and the timing findings of the device's rules. plotly.js is
written once, whatever the number of figures, and nothing is loaded from the network.

The weight of the page does not grow with the length of a schedule: each figure is drawn at the
level of detail of a screen (:class:`~workbench.views.schedule_figure.ScheduleDrawing`) and each
experiment embeds at most :data:`MAX_ROWS` rows of its table (the page says how many there are;
``workbench events JOB --csv FILE`` writes them all). A page is a snapshot: zooming in it stretches
what was drawn; the workbench in JupyterLab redraws the window from the schedule.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.schedule.table import KINDS, event_table
from workbench.views.plotly_json import encode
from workbench.views.schedule_figure import ScheduleDrawing
from workbench.views.schedule_lanes import channel_units

if TYPE_CHECKING:
    from workbench.devices.model import Device
    from workbench.schedule.checks import Findings
    from workbench.schedule.ir import Schedule

MAX_ROWS = 5000  # event rows embedded per experiment
MAX_TOTAL_ROWS = 100_000  # and in the whole page
MAX_FINDINGS = 200  # finding texts embedded per experiment


def _rows(drawing: ScheduleDrawing, findings: Findings, limit: int) -> dict[str, Any]:
    """The first ``limit`` rows of an experiment's table, columnar, with the texts a person reads; ``x``
    and ``xe`` are where each row starts and ends in the figure (time may be folded there)."""
    table = event_table(drawing.schedule)
    n = min(len(table), limit)
    rows = np.arange(n)
    ns = table.dt_ns
    flagged = findings.for_rows(rows) if len(findings) else {}
    return {
        "x": drawing.tmap(table.t0[:n] * ns).round(6).tolist(),
        "xe": drawing.tmap(table.t1[:n] * ns).round(6).tolist(),
        "total": len(table),
        "t": (table.t0[:n] * ns).round(6).tolist(),
        "s": table.t0[:n].tolist(),
        "d": (table.duration[:n] * ns).round(6).tolist(),
        "ch": table.channel[:n].tolist(),
        "channels": table.channels,
        "k": table.kind[:n].astype(int).tolist(),
        "name": [table.name_of(int(r)) for r in rows],
        "gate": [table.gate_label(int(r)) for r in rows],
        "src": [table.source_of(int(r)) for r in rows],
        "par": [table.parameters_text(int(r)) for r in rows],
        "f": [None if not np.isfinite(v) else round(float(v) / 1e9, 9) for v in table.frequency[:n]],
        "p": [None if not np.isfinite(v) else round(float(v), 6) for v in table.phase[:n]],
        "chk": {str(r): "; ".join(m) for r, m in flagged.items()},
    }


def _experiment_data(schedule: Schedule, device: Device, findings: Findings, rows_left: int,
                     compress: bool) -> tuple[str, dict[str, Any]]:
    drawing = ScheduleDrawing(schedule, units=channel_units(device), findings=findings, compress=compress)
    figure = json.dumps(encode(drawing.figure_dict()), separators=(",", ":"))
    counts = findings.counts()
    messages = [findings.message(i) for i in range(min(len(findings), MAX_FINDINGS))]
    rows = _rows(drawing, findings, max(0, min(MAX_ROWS, rows_left)))
    return figure, {"rows": rows, "counts": counts, "findings": messages, "n_findings": len(findings),
                    "title": drawing.title}


def schedule_page(schedules: Sequence[Schedule], names: Sequence[str], device: Device, *, job_name: str,
                  findings: Sequence[Findings], rules_text: Sequence[str], instrument: str = "",
                  sweep_key: str | None = None, sweep_values: Sequence[Any] = (), compress: bool = False,
                  selected: int = 0, objection: str | None = None) -> str:
    """The page (HTML text) for every experiment of a job; ``selected`` is shown first."""
    from workbench.views.plotly_json import plotlyjs

    figures = []
    data = []
    rows_left = MAX_TOTAL_ROWS
    for schedule, found in zip(schedules, findings, strict=True):
        figure, extra = _experiment_data(schedule, device, found, rows_left, compress)
        rows_left -= len(extra["rows"]["t"])
        figures.append(figure)
        data.append(extra)
    title = f"{job_name} on {device.name}: pulse schedule"
    labels = []
    for i, name in enumerate(names):
        value = f" ({sweep_key} = {_value(sweep_values[i])})" if sweep_key is not None else ""
        labels.append(f"{i}: {name}{value}")
    meta = {
        "labels": labels, "selected": int(selected), "sweep": sweep_key,
        "sweep_values": [_value(v) for v in sweep_values] if sweep_key else [], "kinds": list(KINDS),
    }
    head = (f"<b>job</b> {html.escape(job_name)} &middot; <b>device</b> {html.escape(device.name)} "
            f"({html.escape(device.title or '')}) &middot; <b>executor</b> {html.escape(device.executor)} &middot; "
            f"<b>dt</b> {device.dt or 0:g} s &middot; {len(schedules)} experiment{'s' if len(schedules) != 1 else ''}")
    rules = "; ".join(rules_text) or "none"
    if objection:
        head += f'<br><span class="wb-objection">{html.escape(objection)}</span>'

    figure_tags = "\n".join(f'<script type="application/json" id="wb-fig-{i}">{_script_safe(f)}</script>'
                            for i, f in enumerate(figures))
    return _PAGE.format(
        title=html.escape(title), head=head, rules=html.escape(rules),
        instrument=html.escape(instrument or "the device's executor"),
        plotlyjs=plotlyjs()[0], figures=figure_tags,
        data=_script_safe(json.dumps(data, separators=(",", ":"))),
        meta=_script_safe(json.dumps(meta, separators=(",", ":"))),
    )


def _value(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _script_safe(text: str) -> str:
    """JSON inside a <script> element: no '</' can end it early."""
    return text.replace("</", "<\\/")


def write_page(job: Any, device: Any = None, *, config: Any = None, experiment: int | str = 0,
               compress: bool = False) -> tuple[str, str]:
    """(page HTML, one-line summary) for ``job`` on ``device``: what ``workbench show`` writes."""
    from workbench.views.schedule_inspect import pick_experiment, sweep, timing_findings, timing_rules, view_job

    viewed = view_job(job, device, config=config)
    schedules, dev = viewed.schedules, viewed.device
    names = viewed.job.experiment_names
    selected = pick_experiment(names, experiment)
    rules = timing_rules(dev)
    findings = [timing_findings(s, dev, rules) for s in schedules]
    key, values = sweep(schedules)
    page = schedule_page(schedules, names, dev, job_name=viewed.job.name, findings=findings,
                         rules_text=rules.describe(), instrument=rules.instrument, sweep_key=key,
                         sweep_values=values, compress=compress, selected=selected, objection=viewed.objection)
    total = sum(s.instruction_count() for s in schedules)
    flagged = sum(len(f) for f in findings)
    summary = (f"{viewed.job.name} on {dev.name}: {len(schedules)} experiment(s), {total} instructions, "
               f"{flagged} timing finding(s)" + (f"; {viewed.objection}" if viewed.objection else ""))
    return page, summary


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 16px 22px; color: #222; }}
h1 {{ font-size: 1.35em; margin: 0 0 4px 0; }}
.wb-head {{ color: #444; margin-bottom: 10px; }}
.wb-controls {{ display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin: 8px 0; }}
.wb-checks {{ background: #fff6f6; border-left: 4px solid #d62728; padding: 6px 10px; margin: 8px 0;
  max-height: 9em; overflow: auto; font-size: 0.9em; }}
.wb-checks.wb-clean {{ background: #f4fbf4; border-left-color: #2ca02c; }}
table.wb-events {{ border-collapse: collapse; font-size: 0.82em; width: 100%; }}
table.wb-events th, table.wb-events td {{ border-bottom: 1px solid #e5e5e5; padding: 2px 6px; text-align: left;
  white-space: nowrap; }}
table.wb-events tr.wb-row:hover {{ background: #eef5ff; cursor: pointer; }}
table.wb-events tr.wb-selected {{ background: #fff3c4; }}
table.wb-events tr.wb-flagged td:first-child {{ border-left: 3px solid #d62728; }}
.wb-note {{ color: #777; font-size: 0.85em; }}
.wb-objection {{ color: #b00020; }}
</style>
<script>{plotlyjs}</script>
</head><body>
<h1>{title}</h1>
<div class="wb-head">{head}<br><span class="wb-note">timing rules of {instrument}: {rules}</span></div>
<div class="wb-controls">
  <label>Experiment <select id="wb-experiment"></select></label>
  <span id="wb-sweep" style="display:none"><input type="range" id="wb-slider" min="0" value="0" step="1">
    <span id="wb-sweep-value"></span></span>
</div>
<div id="wb-checks" class="wb-checks"></div>
<div id="wb-figure"></div>
<div class="wb-controls">
  <label>Channel <select id="wb-channel"><option value="">all</option></select></label>
  <label>Kind <select id="wb-kind"><option value="">all</option></select></label>
  <label>from <input id="wb-from" size="9" placeholder="ns"></label>
  <label>to <input id="wb-to" size="9" placeholder="ns"></label>
  <label><input type="checkbox" id="wb-flagged"> only flagged</label>
  <button id="wb-prev">&larr;</button><span id="wb-page"></span><button id="wb-next">&rarr;</button>
</div>
<table class="wb-events"><thead><tr><th>t (ns)</th><th>sample</th><th>channel</th><th>kind</th><th>name</th>
<th>gate</th><th>source</th><th>duration (ns)</th><th>parameters</th><th>frame f (GHz)</th><th>phase (rad)</th>
<th>checks</th></tr></thead><tbody id="wb-rows"></tbody></table>
<div id="wb-rows-note" class="wb-note"></div>
{figures}
<script type="application/json" id="wb-data">{data}</script>
<script type="application/json" id="wb-meta">{meta}</script>
<script>
(function() {{
  const DATA = JSON.parse(document.getElementById('wb-data').textContent);
  const META = JSON.parse(document.getElementById('wb-meta').textContent);
  const PAGE = 100;
  const gd = document.getElementById('wb-figure');
  const select = document.getElementById('wb-experiment');
  let current = -1, page = 0, visible = [], selectedRow = -1;
  META.labels.forEach((label, i) => {{ const o = document.createElement('option'); o.value = i;
    o.textContent = label; select.appendChild(o); }});
  const esc = s => String(s).replace(/[&<>]/g, c => ({{'&': '&amp;', '<': '&lt;', '>': '&gt;'}}[c]));
  function figure(i) {{ return JSON.parse(document.getElementById('wb-fig-' + i).textContent); }}
  function show(i) {{
    current = i; page = 0; selectedRow = -1; select.value = i;
    const slider = document.getElementById('wb-slider'); slider.value = i;
    if (META.sweep) document.getElementById('wb-sweep-value').textContent = META.sweep + ' = ' + META.sweep_values[i];
    const fig = figure(i);
    Plotly.react(gd, fig.data, fig.layout, {{responsive: true}});
    const d = DATA[i], box = document.getElementById('wb-checks');
    const counts = Object.entries(d.counts).map(([k, v]) => v + ' ' + k).join(', ');
    box.className = 'wb-checks' + (d.n_findings ? '' : ' wb-clean');
    box.innerHTML = d.n_findings ? '<b>' + d.n_findings + ' timing finding(s)</b> (' + esc(counts) + ')<br>'
      + d.findings.map(esc).join('<br>') + (d.n_findings > d.findings.length ? '<br>...' : '')
      : 'no timing findings';
    const ch = document.getElementById('wb-channel');
    ch.innerHTML = '<option value="">all</option>' + d.rows.channels.map((c, k) =>
      '<option value="' + k + '">' + esc(c) + '</option>').join('');
    const kind = document.getElementById('wb-kind');
    kind.innerHTML = '<option value="">all</option>' + META.kinds.map((c, k) =>
      '<option value="' + k + '">' + c + '</option>').join('');
    filter();
  }}
  function filter() {{
    const r = DATA[current].rows, ch = document.getElementById('wb-channel').value;
    const kind = document.getElementById('wb-kind').value;
    const from = parseFloat(document.getElementById('wb-from').value);
    const to = parseFloat(document.getElementById('wb-to').value);
    const flagged = document.getElementById('wb-flagged').checked;
    visible = [];
    for (let i = 0; i < r.t.length; i++) {{
      if (ch !== '' && r.ch[i] != ch) continue;
      if (kind !== '' && r.k[i] != kind) continue;
      if (!isNaN(from) && r.t[i] + r.d[i] < from) continue;
      if (!isNaN(to) && r.t[i] > to) continue;
      if (flagged && !(String(i) in r.chk)) continue;
      visible.push(i);
    }}
    page = Math.min(page, Math.max(0, Math.ceil(visible.length / PAGE) - 1));
    render();
  }}
  function render() {{
    const r = DATA[current].rows, body = document.getElementById('wb-rows');
    const rows = visible.slice(page * PAGE, (page + 1) * PAGE);
    body.innerHTML = rows.map(i => '<tr class="wb-row' + (i === selectedRow ? ' wb-selected' : '')
      + (String(i) in r.chk ? ' wb-flagged' : '') + '" data-row="' + i + '"><td>' + r.t[i] + '</td><td>' + r.s[i]
      + '</td><td>' + esc(r.channels[r.ch[i]]) + '</td><td>' + META.kinds[r.k[i]] + '</td><td>' + esc(r.name[i])
      + '</td><td>' + esc(r.gate[i]) + '</td><td>' + (r.src[i] >= 0 ? r.src[i] : '') + '</td><td>' + r.d[i]
      + '</td><td>' + esc(r.par[i]) + '</td><td>' + (r.f[i] === null ? '' : r.f[i]) + '</td><td>'
      + (r.p[i] === null ? '' : r.p[i]) + '</td><td>' + esc(r.chk[String(i)] || '') + '</td></tr>').join('');
    const pages = Math.max(1, Math.ceil(visible.length / PAGE));
    document.getElementById('wb-page').textContent = ' page ' + (page + 1) + ' of ' + pages + ' (' +
      visible.length + ' rows) ';
    const total = r.total, shown = r.t.length;
    document.getElementById('wb-rows-note').textContent = shown < total ? ('the first ' + shown + ' of ' + total +
      ' events are in this page; workbench events JOB --csv FILE writes them all') : (total + ' events');
  }}
  function centre(i) {{
    const r = DATA[current].rows; selectedRow = i; render();
    const layout = gd.layout, span = (layout.xaxis.range[1] - layout.xaxis.range[0]);
    const full = figure(current).layout.xaxis.range;
    const w = r.xe[i] - r.x[i];
    const width = Math.min(span, Math.max(10 * w, 100));
    const c = r.x[i] + w / 2;
    Plotly.relayout(gd, {{'xaxis.range': [Math.max(full[0], c - width / 2), c + width / 2],
      'shapes': (figure(current).layout.shapes || []).concat([{{type: 'rect', xref: 'x', yref: 'paper',
        x0: r.x[i], x1: r.x[i] + Math.max(w, width / 200), y0: 0, y1: 1,
        fillcolor: 'rgba(255, 215, 0, 0.35)', line: {{width: 1, color: '#b8860b'}}, layer: 'below'}}])}});
  }}
  document.getElementById('wb-rows').addEventListener('click', e => {{
    const tr = e.target.closest('tr'); if (tr) centre(parseInt(tr.dataset.row)); }});
  select.addEventListener('change', () => show(parseInt(select.value)));
  ['wb-channel', 'wb-kind', 'wb-flagged'].forEach(id => document.getElementById(id).addEventListener('change', filter));
  ['wb-from', 'wb-to'].forEach(id => document.getElementById(id).addEventListener('input', filter));
  document.getElementById('wb-prev').addEventListener('click', () => {{ page = Math.max(0, page - 1); render(); }});
  document.getElementById('wb-next').addEventListener('click', () => {{
    page = Math.min(Math.ceil(visible.length / PAGE) - 1, page + 1); render(); }});
  if (META.sweep) {{
    document.getElementById('wb-sweep').style.display = '';
    const slider = document.getElementById('wb-slider'); slider.max = META.labels.length - 1;
    slider.addEventListener('input', () => show(parseInt(slider.value)));
  }}
  show(META.selected);
}})();
</script>
</body></html>
"""
