"""``report.html`` in Debian's Chromium: it draws every figure offline and shows the fitted parameters.

The page is opened from disk with every network request refused, so a figure that needed anything
but the inlined plotly.js would stay blank. A screenshot goes to ``test-artifacts/report.png``.
"""

from __future__ import annotations

import pytest

import workbench

pytestmark = pytest.mark.browser


def test_the_report_draws_offline_with_its_parameter_table(chromium_page, artifacts, tmp_path):
    result = workbench.run("rabi", device="qutip-1q", shots=400, seed=21)
    analysis = result.analyse()
    folder = result.export(tmp_path / "rabi-out")
    requests: list[str] = []

    def refuse(route):
        if not route.request.url.startswith("file://"):
            requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page = chromium_page
    page.route("**/*", refuse)
    page.goto((folder / "report.html").as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5", timeout=60_000)
    assert page.locator(".js-plotly-plot").count() == 5  # sweep, schedule, counts, distribution, IQ
    cell = page.locator("table.wb-analysis-table tr[data-parameter='pi_amplitude'] td").nth(1)
    assert cell.inner_text() == analysis.parameters["pi_amplitude"].text()
    title = page.locator("#wb-report-sweep .gtitle").text_content()
    assert title == "Rabi amplitude: π amplitude " + analysis.parameters["pi_amplitude"].text()
    assert page.locator("table.wb-counts-table tr").count() == 22  # header and 21 experiments
    assert requests == []
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
