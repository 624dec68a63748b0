"""The schedule viewer in a real JupyterLab, in Debian's Chromium: gate labels, zoom that refines, table clicks.

A throw-away notebook shows two viewers: a Bell circuit compiled to pulses on ``qutip-2q`` (its gate
labels must be drawn by plotly.js in the page) and a 100 000-instruction pulse train. Zooming the
train (a mouse drag, then a window of a few hundred ns) must bring back every sample of the window,
redrawn by the kernel; clicking a row of the event table must move the figure to that event.
Screenshots go to ``test-artifacts/schedule-*.png``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from lab_pages import run_all_cells

pytestmark = pytest.mark.browser

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0], q[1];\nmeasure q -> c;\n'
TRAIN = 100_000

_CELLS = [
    "from workbench.ui.session import Session\n"
    "from workbench.ui.widgets.schedule_view import ScheduleView\n"
    f"bell = Session(device='qutip-2q')\nbell.set_job_text({BELL!r}, origin='bell.qasm')\nScheduleView(bell)",
    "train = Session(device='qutip-2q')\ntrain.set_job_path('train.json')\nScheduleView(train)",
]

_PLOT = "i => document.querySelectorAll('.wb-schedule')[i].querySelector('.wb-schedule-figure .js-plotly-plot')"
_DRAWN = f"i => {{ const gd = ({_PLOT})(i); return !!gd && !!gd._fullLayout && !!window.Plotly; }}"
_META = f"i => {{ const gd = ({_PLOT})(i); return gd.layout.meta; }}"
_RANGE = f"i => {{ const gd = ({_PLOT})(i); return gd.layout.xaxis.range; }}"
# the d0 lane's real part, as the page holds it after the kernel's redraw (typed arrays decoded by plotly.js)
_D0_REAL = f"""i => {{
  const gd = ({_PLOT})(i);
  const t = gd._fullData.find(t => t.name === 'real' && (t.yaxis || 'y') === 'y');
  return {{x: Array.from(t.x).map(v => v === null ? NaN : v), y: Array.from(t.y)}};
}}"""


def _notebook() -> dict:
    return {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                       "source": source} for source in _CELLS],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def test_schedule_viewer_labels_refines_and_follows_the_table(jupyter_home, start_server, chromium_page,
                                                             loopback_port, artifacts, catalogue):
    from workbench.examples import pulse_train
    from workbench.jobs.pulse_job import PulseJob
    from workbench.schedule.table import event_table

    device = catalogue.get("qutip-2q")
    job = pulse_train(device, TRAIN)
    (jupyter_home.root / "train.json").write_text(json.dumps(job))
    (jupyter_home.root / "schedule.ipynb").write_text(json.dumps(_notebook()))
    schedule = PulseJob.from_data(job, "train.json").schedules(device)[0]
    jupyter_home.configure(loopback_port)
    server = start_server([sys.executable, "-m", "jupyterlab"], loopback_port)
    page = chromium_page
    page.set_default_timeout(120_000)
    try:
        run_all_cells(page, f"{server.url}/lab/tree/schedule.ipynb", kernel_timeout=90_000, cells_timeout=180_000)
        page.evaluate("window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight()")
        page.wait_for_function(_DRAWN, arg=0, timeout=60_000)
        page.wait_for_function(_DRAWN, arg=1, timeout=60_000)

        # 1. a compiled Bell circuit: its gate labels are drawn by plotly.js in the page
        texts = page.locator(".wb-schedule").nth(0).locator(".js-plotly-plot text").all_text_contents()
        for label in ("sx q0", "sx q1", "cz q0,q1", "measure q0"):
            assert label in texts, texts
        assert any(t.startswith("rz(π/2)") for t in texts), texts
        _screenshot(page, 0, artifacts / "schedule-bell.png")

        # 2. the 100k-instruction train: first drawn at min/max per pixel, then zoomed by the user...
        assert page.evaluate(_META, 1)["exact"] is False
        drag = page.locator(".wb-schedule").nth(1).locator(".js-plotly-plot .nsewdrag").first
        drag.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        box = drag.bounding_box()
        y = box["y"] + box["height"] / 2
        before = page.evaluate(_RANGE, 1)
        page.mouse.move(box["x"] + box["width"] * 0.40, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.45, y, steps=8)
        page.mouse.up()
        page.wait_for_function(
            f"([i, r]) => {{ const m = ({_META})(i); return m && m.window[1] - m.window[0] < (r[1] - r[0]) / 10; }}",
            arg=[1, before], timeout=60_000)
        # ...and again to a few hundred ns: every sample of the window, as the IR has it
        window = [1_000_000.0, 1_000_400.0]
        page.evaluate(f"([i, w]) => window.Plotly.relayout(({_PLOT})(i), {{'xaxis.range': w}})", [1, window])
        page.wait_for_function(
            f"([i, w]) => {{ const m = ({_META})(i); return m && m.exact && Math.abs(m.window[0] - w[0]) < 1e-6; }}",
            arg=[1, window], timeout=60_000)
        drawn = page.evaluate(_D0_REAL, 1)
        x = np.array(drawn["x"], dtype=float)
        yv = np.array(drawn["y"], dtype=float)
        plays = [p for p in schedule.plays_on("d0") if p.t1 > window[0] and p.t0 < window[1]]
        expected_x = np.concatenate([p.t0 + np.arange(p.duration) + 0.5 for p in plays])
        expected_y = np.concatenate([p.samples.real for p in plays])
        keep = (expected_x > window[0]) & (expected_x < window[1])
        np.testing.assert_allclose(x[np.isfinite(x)], expected_x[keep])
        np.testing.assert_allclose(yv[np.isfinite(x)], expected_y[keep], atol=1e-6)
        _screenshot(page, 1, artifacts / "schedule-zoom.png")

        # 3. a click on an event-table row moves the figure to that event and highlights it
        row = page.locator(".wb-schedule").nth(1).locator(".wb-events-table tr[data-row='37']")
        row.click()
        table = event_table(schedule)
        start, end = float(table.t0[37]), float(table.t1[37])
        page.wait_for_function(
            f"([i, a, b]) => {{ const r = ({_RANGE})(i); return r[0] <= a && b <= r[1] && r[1] - r[0] < 5000; }}",
            arg=[1, start, end], timeout=60_000)
        assert "wb-selected" in (row.get_attribute("class") or "")
        _screenshot(page, 1, artifacts / "schedule-table-click.png")
    except Exception:
        page.screenshot(path=str(artifacts / "schedule-failure.png"), full_page=True)
        print(f"server log:\n{server.log()}", file=sys.stderr)
        raise


def _screenshot(page, index: int, path: Path) -> None:
    viewer = page.locator(".wb-schedule").nth(index)
    viewer.scroll_into_view_if_needed()
    height = page.evaluate(f"document.querySelectorAll('.wb-schedule')[{index}].getBoundingClientRect().height")
    page.set_viewport_size({"width": 1400, "height": int(height) + 300})
    viewer.scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    viewer.screenshot(path=str(path))
