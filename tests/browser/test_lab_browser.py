"""What a user sees: the getting-started notebook in a real JupyterLab, in a real browser.

nbval proves the notebooks' code runs; only a browser proves the widgets render, the Run button
reaches the kernel and the histogram is drawn by plotly.js in the page. The server is a real
``jupyter lab`` process with a token-less test configuration on a free loopback port, the browser
Debian's Chromium driven by Playwright. The screenshot of the workbench goes to
``test-artifacts/workbench.png`` for people (and reviews) to look at.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
import zipfile
from pathlib import Path

import pytest
from lab_pages import run_all_cells

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "getting-started.ipynb"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

# Wait for whichever comes first: the drawn bars, or the panel saying why the run failed or was refused.
_BARS_OR_REFUSAL = """bars => !!document.querySelector(bars)
  || Array.from(document.querySelectorAll('.wb-app .wb-run-error, .wb-app .wb-validation'))
       .some(e => e.innerText.trim() !== '')"""
# Bars drawn by plotly.js (SVG paths), not merely an empty plot container.
HISTOGRAM_BARS = ".wb-app .wb-results .wb-histogram .js-plotly-plot .barlayer .point path"


def test_getting_started_workbench_runs_in_chromium(jupyter_home, start_server, chromium_page, loopback_port,
                                                    artifacts):
    """Run all cells, press Run in the workbench, see the counts histogram; screenshot it."""
    shutil.copy(NOTEBOOK, jupyter_home.root / NOTEBOOK.name)  # the kernel works in a copy, never in the repo
    jupyter_home.configure(loopback_port)
    server = start_server([sys.executable, "-m", "jupyterlab"], loopback_port)
    page = chromium_page
    page.set_default_timeout(60_000)

    try:
        run_all_cells(page, f"{server.url}/lab/tree/{NOTEBOOK.name}", cells_timeout=60_000)
        run_button = page.locator(".wb-app .wb-run-button")
        run_button.wait_for(state="visible")
        # Nothing has run yet: the histogram must come from the click below.
        assert page.locator(HISTOGRAM_BARS).count() == 0
        assert page.locator(".wb-app .wb-runs .wb-run").count() == 0

        run_button.click()
        page.wait_for_function(_BARS_OR_REFUSAL, arg=HISTOGRAM_BARS, timeout=60_000)
        refusal = page.locator(".wb-app .wb-run-error, .wb-app .wb-validation").all_inner_texts()
        assert not "".join(refusal).strip(), refusal
        assert page.locator(".wb-app .wb-runs .wb-run").count() == 1
        summary = page.locator(".wb-app .wb-result-summary").inner_text()
        assert "device qutip-1q" in summary and "x-gate" in summary, summary
        # The main job flips the qubit: outcome '1' is on the axis (the notebook's seeded run gets only '1's).
        x_labels = page.locator(".wb-app .wb-histogram .js-plotly-plot .xtick text").all_text_contents()
        assert "1" in x_labels and set(x_labels) <= {"0", "1"}, x_labels

        # The notebook scrolls inside its own panel, which would clip a tall widget: hide the side bars and
        # make the window tall enough for the whole workbench, then put it at the top of the panel.
        page.evaluate("window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight()")
        height = page.evaluate("document.querySelector('.wb-app').getBoundingClientRect().height")
        page.set_viewport_size({"width": 1400, "height": int(height) + 400})
        page.evaluate("document.querySelector('.wb-app').scrollIntoView({block: 'start'})")
        page.wait_for_timeout(1000)  # plotly redraws figures after a resize; take the picture after that
        page.locator(".wb-app").first.screenshot(path=str(artifacts / "workbench.png"))
    except Exception:
        page.screenshot(path=str(artifacts / "lab-failure.png"), full_page=True)
        print(f"server log:\n{server.log()}", file=sys.stderr)
        raise


def test_workbench_lab_serves_a_working_copy_and_leaves_the_checkout_alone(jupyter_home, start_server,
                                                                          loopback_port):
    """`workbench lab` copies the notebooks into the user's folder (~/workbench-notebooks) on first use,
    serves that copy, and never writes to the repository's notebooks; a second start keeps the user's edits."""
    home = jupyter_home.base / "home"
    home.mkdir()
    jupyter_home.env["HOME"] = str(home)
    jupyter_home.env.pop("WORKBENCH_NOTEBOOKS", None)
    before = {p.name: p.read_bytes() for p in NOTEBOOK.parent.glob("*.ipynb")}
    copy = home / "workbench-notebooks"
    jupyter_home.configure(loopback_port)  # token-less, so the test can ask the REST API; lab overrides the root
    command = [sys.executable, "-m", "workbench", "lab", "--port", str(loopback_port), "--no-browser"]
    server = start_server(command, loopback_port, cwd=jupyter_home.base)
    status, body = server.get(f"/api/contents/{NOTEBOOK.name}?content=0")
    assert status == 200, body[:300]
    assert json.loads(body)["path"] == NOTEBOOK.name
    status, _ = server.get(f"/lab/tree/{NOTEBOOK.name}")
    assert status == 200
    assert sorted(p.name for p in copy.glob("*.ipynb")) == sorted(before)
    # save the notebook through the server, as JupyterLab does after running cells: only the copy changes
    status, body = server.get(f"/api/contents/{NOTEBOOK.name}")
    model = json.loads(body)
    model["content"]["cells"][0]["source"] = "# my edit\n" + "".join(model["content"]["cells"][0]["source"])
    saved = server.put(f"/api/contents/{NOTEBOOK.name}", {"type": "notebook", "content": model["content"]})
    assert saved == 200
    log = server.log()
    assert f"JupyterLab on {copy / NOTEBOOK.name}" in log
    assert f"copied {len(before)} notebooks from {NOTEBOOK.parent} into {copy}" in log
    assert f"/lab/tree/{NOTEBOOK.name}" in log  # the URL it prints opens the notebook
    server.stop()
    assert {p.name: p.read_bytes() for p in NOTEBOOK.parent.glob("*.ipynb")} == before
    assert "# my edit" in (copy / NOTEBOOK.name).read_text()

    port = _free_port()
    jupyter_home.configure(port)
    again = start_server([*command[:5], str(port), "--no-browser"], port, cwd=jupyter_home.base)
    assert "# my edit" in (copy / NOTEBOOK.name).read_text()  # never overwritten
    assert "copied" not in again.log()


# -------------------------------------------------------------------- a sweep, its analysis, export, report

SWEEP_DRAWN = ".wb-app .wb-results .wb-sweep .js-plotly-plot .scatterlayer .trace"
DOWNLOAD_LINK = ".wb-app .wb-export-download a.wb-download-link"
ANALYSIS_TABLE = "table.wb-analysis-table"


def test_rabi_sweep_its_fit_export_and_report_in_chromium(jupyter_home, start_server, chromium_page, loopback_port,
                                                         artifacts, tmp_path):
    """Run the Rabi example in the workbench, see the sweep (and its fitted pi amplitude) in Results, export,
    download the zip through the page's link, open its report.html in Chromium and find the tables there."""
    shutil.copy(NOTEBOOK, jupyter_home.root / NOTEBOOK.name)
    jupyter_home.configure(loopback_port)
    server = start_server([sys.executable, "-m", "jupyterlab"], loopback_port)
    page = chromium_page
    page.set_default_timeout(60_000)
    try:
        run_all_cells(page, f"{server.url}/lab/tree/{NOTEBOOK.name}")
        page.locator(".wb-app .wb-run-button").wait_for(state="visible")

        choose = page.locator(".wb-app .wb-job-example select")
        labels = choose.locator("option").all_text_contents()  # ipywidgets writes spaces as no-break spaces
        choose.select_option(index=next(i for i, label in enumerate(labels) if label.startswith("rabi:")))
        # textContent, not innerText: JupyterLab does not lay out cells scrolled out of view
        page.wait_for_function("() => document.querySelector('.wb-app .wb-job-info').textContent.includes('rabi')")
        page.locator(".wb-app .wb-run-button").click()
        page.wait_for_function(_BARS_OR_REFUSAL, arg=SWEEP_DRAWN, timeout=120_000)
        refusal = page.locator(".wb-app .wb-run-error, .wb-app .wb-validation").all_inner_texts()
        assert not "".join(refusal).strip(), refusal
        results = page.locator(".wb-app .wb-results").first
        _show_whole(page, ".wb-app .wb-results")
        assert "amp" in results.locator(".wb-sweep .xtitle").text_content()
        # the fitted pi amplitude in the results panel's parameter table
        table = results.locator(f".wb-analysis {ANALYSIS_TABLE}")
        table.wait_for(state="visible")
        assert "π amplitude" in table.inner_text()
        # the experiment at the pi amplitude: its IQ cloud sits on the |1> centre, which stays drawn over it
        pick = results.locator(".wb-result-experiment select")
        labels = pick.locator("option").all_text_contents()
        pick.select_option(index=next(i for i, label in enumerate(labels) if label.endswith("(rabi-010)")))
        page.wait_for_function("() => document.querySelector('.wb-app .wb-iq .gtitle').textContent"
                               ".includes('rabi-010')")
        iq_labels = results.locator(".wb-iq .annotation-text").all_text_contents()
        assert "|1>" in iq_labels and "|0>" in iq_labels, iq_labels
        # one histogram, two scales: the Probability button switches it
        histogram = results.locator(".wb-histogram .js-plotly-plot")
        assert histogram.locator(".ytitle").text_content() == "shots"
        histogram.locator(".updatemenu-button", has_text="Probability").click()
        page.wait_for_function("() => document.querySelector('.wb-app .wb-histogram .ytitle').textContent"
                               " === 'probability'")
        page.wait_for_timeout(500)
        results.screenshot(path=str(artifacts / "rabi-results.png"))

        page.locator(".wb-app .wb-export-button").click()
        link = page.locator(DOWNLOAD_LINK)
        link.wait_for(state="visible")
        with page.expect_download() as download:
            link.click()
        archive = tmp_path / download.value.suggested_filename
        download.value.save_as(archive)
        with zipfile.ZipFile(archive) as zipped:
            names = zipped.namelist()
            zipped.extractall(tmp_path / "unzipped")
        reports = [n for n in names if n.endswith("/report.html")]
        assert len(reports) == 1 and any(n.endswith("/dataset.nc") for n in names), names
        report = tmp_path / "unzipped" / reports[0]

        page.goto(report.as_uri())
        page.locator("h2", has_text="Counts").wait_for()
        assert page.locator("h2", has_text="Device").count() == 1
        assert page.locator("table").count() >= 3  # calibration, options, counts
        page.locator(".js-plotly-plot").first.wait_for()
        # the report's parameter table with the fitted pi amplitude
        table = page.locator(ANALYSIS_TABLE).first
        table.wait_for(state="visible")
        assert "π amplitude" in table.inner_text()
        table.scroll_into_view_if_needed()
        page.set_viewport_size({"width": 1400, "height": 1600})
        page.wait_for_timeout(1000)
        page.screenshot(path=str(artifacts / "lab-report.png"), full_page=False)
    except Exception:
        page.screenshot(path=str(artifacts / "rabi-failure.png"), full_page=True)
        print(f"server log:\n{server.log()}", file=sys.stderr)
        raise


def _show_whole(page, selector: str) -> None:
    """Hide the side bars and make the window tall enough for the element, at the top of the notebook panel."""
    page.evaluate("window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight()")
    height = page.evaluate(f"document.querySelector('{selector}').getBoundingClientRect().height")
    page.set_viewport_size({"width": 1400, "height": int(height) + 400})
    page.evaluate(f"document.querySelector('{selector}').scrollIntoView({{block: 'start'}})")
    page.wait_for_timeout(1000)  # plotly redraws figures after a resize
