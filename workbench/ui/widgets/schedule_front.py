"""The two small front-end pieces of the schedule viewer (anywidget modules, a few KB of JavaScript).

**Why not plotly's FigureWidget or plotly-resampler.** Both need a kernel round trip per zoom, which
we need too, but FigureWidget (anywidget in plotly 6 and later) sends its own 4.9 MB copy of
plotly.js as widget state with every instance, and plotly-resampler 0.11 requires plotly < 7 (this
package has 7), brings Dash and Flask, and resamples x-y series it must hold in full (48 samples per
pulse: 48 million points for a million pulses). Gate labels, frame strips and folded time would
still be ours. So the figure stays what every other figure of the workbench is, a plotly display
bundle drawn by JupyterLab's plotly renderer, and :class:`FigureBridge` only connects it to the
kernel: it listens to the plot's ``plotly_relayout`` and ``plotly_click`` events, sends the visible
window (debounced), and applies the redrawn window with ``Plotly.react`` on the same plot (the
renderer's plotly.js, which sets ``window.Plotly``). Without plotly.js in the page (another front
end) the figure stays as first drawn.

:class:`EventTableWidget` draws one page of the event table and reports clicks on rows.
Messages go through anywidget's custom messages, so nothing of the schedule is kept in the
notebook's saved widget state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

BRIDGE_ESM = r"""
function plotIn(root) { return root ? root.querySelector('.wb-schedule-figure .js-plotly-plot') : null; }
export default {
  render({ model, el }) {
    el.classList.add('wb-schedule-bridge');
    let gd = null, timer = null, applying = false, last = null, seq = 0, lastWidth = 0;
    const root = () => el.closest('.wb-schedule');
    const width = () => (gd && gd._fullLayout && gd._fullLayout._size) ? Math.round(gd._fullLayout._size.w) : 0;
    function onRelayout(ev) {
      if (applying || !ev) return;
      let x0 = ev['xaxis.range[0]'], x1 = ev['xaxis.range[1]'];
      if (Array.isArray(ev['xaxis.range'])) { x0 = ev['xaxis.range'][0]; x1 = ev['xaxis.range'][1]; }
      if (x0 !== undefined && x1 !== undefined) {
        const key = (+x0).toPrecision(12) + ':' + (+x1).toPrecision(12);
        if (key === last) return;
        last = key;
        clearTimeout(timer);
        timer = setTimeout(() => model.send({type: 'view', x0: +x0, x1: +x1, width: width()}), 120);
      } else if (ev['xaxis.autorange']) {
        last = null;
        clearTimeout(timer);
        timer = setTimeout(() => model.send({type: 'view', reset: true, width: width()}), 60);
      } else if (Math.abs(width() - lastWidth) > 50) {  // resized: labels and buckets follow the pixels
        lastWidth = width();
        const range = gd.layout.xaxis.range;
        clearTimeout(timer);
        timer = setTimeout(() => model.send({type: 'view', x0: +range[0], x1: +range[1], width: width()}), 200);
      }
    }
    function onClick(ev) {
      const p = ev && ev.points && ev.points[0];
      if (p) model.send({type: 'click', x: +p.x, axis: (p.data && p.data.yaxis) || 'y'});
    }
    function hook() {
      const found = plotIn(root());
      if (!found || found === gd || typeof found.on !== 'function') return;
      gd = found;
      last = null;
      gd.on('plotly_relayout', onRelayout);
      gd.on('plotly_click', onClick);
      lastWidth = width();
      model.send({type: 'hello', width: lastWidth, plotly: !!window.Plotly});
    }
    const observer = new MutationObserver(hook);
    const start = () => {
      const r = root();
      if (!r) { setTimeout(start, 200); return; }
      observer.observe(r, {childList: true, subtree: true});
      hook();
    };
    start();
    model.on('msg:custom', (msg) => {
      if (!msg || msg.type !== 'figure') return;
      hook();
      if (!gd || !window.Plotly) {
        model.send({type: 'cannot', why: gd ? 'no plotly.js in the page' : 'no plot'});
        return;
      }
      const fig = JSON.parse(msg.json);
      const r = fig.layout && fig.layout.xaxis && fig.layout.xaxis.range;
      if (r) last = (+r[0]).toPrecision(12) + ':' + (+r[1]).toPrecision(12);
      applying = true;
      seq = msg.seq;
      window.Plotly.react(gd, fig.data, fig.layout).then(() => {
        applying = false;
        el.dataset.seq = String(seq);
        gd.dataset.wbSeq = String(seq);
      }, () => { applying = false; });
    });
    return () => observer.disconnect();
  }
};
"""

TABLE_ESM = r"""
const esc = s => String(s).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
export default {
  render({ model, el }) {
    el.classList.add('wb-events-table');
    const box = document.createElement('div');
    box.className = 'wb-events-scroll';
    el.appendChild(box);
    function draw() {
      const cols = model.get('columns'), rows = model.get('rows'), ids = model.get('row_ids');
      const flagged = model.get('flagged'), sel = model.get('selected');
      let h = '<table><thead><tr>' + cols.map(c => '<th>' + esc(c) + '</th>').join('') + '</tr></thead><tbody>';
      rows.forEach((r, i) => {
        h += '<tr class="wb-event-row' + (ids[i] === sel ? ' wb-selected' : '') + (flagged[i] ? ' wb-flagged' : '')
          + '" data-row="' + ids[i] + '">' + r.map(c => '<td>' + esc(c) + '</td>').join('') + '</tr>';
      });
      box.innerHTML = h + '</tbody></table>';
      const chosen = box.querySelector('tr.wb-selected');
      if (chosen) chosen.scrollIntoView({block: 'nearest'});
    }
    box.addEventListener('click', (e) => {
      const tr = e.target.closest('tr[data-row]');
      if (tr) model.send({type: 'click', row: parseInt(tr.dataset.row, 10)});
    });
    ['columns', 'rows', 'row_ids', 'flagged', 'selected'].forEach(n => model.on('change:' + n, draw));
    draw();
  }
};
"""

TABLE_CSS = """
.wb-events-table .wb-events-scroll { max-height: 420px; overflow: auto; border: 1px solid #e0e0e0; }
.wb-events-table table { border-collapse: collapse; font-size: 12px; width: 100%; }
.wb-events-table th { position: sticky; top: 0; background: #f5f5f5; text-align: left; padding: 3px 6px; }
.wb-events-table td { padding: 2px 6px; border-bottom: 1px solid #eeeeee; white-space: nowrap; }
.wb-events-table tr.wb-event-row:hover { background: #eef5ff; cursor: pointer; }
.wb-events-table tr.wb-event-row.wb-selected,
.wb-events-table tr.wb-event-row.wb-selected:hover { background: #ffe680; }
.wb-events-table tr.wb-flagged td:first-child { border-left: 3px solid #d62728; }
"""


class FigureBridge(anywidget.AnyWidget):
    """Connects the plot drawn next to it (in the same ``.wb-schedule`` box) to the kernel."""

    _esm = BRIDGE_ESM

    def __init__(self, on_message: Callable[[dict[str, Any]], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._handler = on_message
        self.sent = 0
        self.on_msg(self._receive)

    def _receive(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict):
            self._handler(content)

    def draw(self, figure_json: str) -> None:
        """Redraw the plot with this figure (plotly.js JSON), keeping the element and its listeners."""
        self.sent += 1
        self.send({"type": "figure", "json": figure_json, "seq": self.sent})


class EventTableWidget(anywidget.AnyWidget):
    """One page of the event table; a click on a row calls ``on_click(row)``."""

    _esm = TABLE_ESM
    _css = TABLE_CSS
    columns = traitlets.List(traitlets.Unicode()).tag(sync=True)
    rows = traitlets.List().tag(sync=True)
    row_ids = traitlets.List(traitlets.Int()).tag(sync=True)
    flagged = traitlets.List(traitlets.Bool()).tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)

    def __init__(self, on_click: Callable[[int], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_click = on_click
        self.on_msg(self._receive)

    def _receive(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "click" and isinstance(content.get("row"), int):
            self._on_click(content["row"])
