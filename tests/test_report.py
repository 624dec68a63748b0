"""The HTML report and ``workbench show``: self-contained files that open offline and hold no secrets.

The report is read back as a person reads it: its tables are parsed (html.parser), not searched for
fragments of markup.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import pytest
from plotly.offline import get_plotlyjs

import workbench
from workbench.errors import OutputError
from workbench.views.report import report_html, write_report

PLOTLY_BANNER = get_plotlyjs()[:60]  # the licence header plotly.js starts with
SECRET = "tok-report-5150"


class Tables(HTMLParser):
    """Every table of a page by its CSS class (or its caption): a list of rows of cell texts."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._names: list[str] = []
        self.headings: list[str] = []
        self._heading: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._stack.append([])
            self._names.append(attrs.get("class") or f"table-{len(self.tables)}")
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack:
            self._cell = []
        elif tag in ("h1", "h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag):
        if tag == "table" and self._stack:
            self.tables[self._names.pop()] = self._stack.pop()
        elif tag in ("td", "th") and self._cell is not None:
            self._stack[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading.append(data)


def as_dict(rows):
    return {row[0]: row[1] for row in rows if len(row) >= 2}


@pytest.fixture(scope="module")
def rabi_result():
    result = workbench.run("rabi", device="qutip-1q", shots=200, seed=9, options={"api-token": SECRET})
    result.analyse()
    return result


@pytest.fixture(scope="module")
def rabi_report(rabi_result):
    return report_html(rabi_result)


def _outside_plotlyjs(page: str) -> str:
    head, _, rest = page.partition(PLOTLY_BANNER)
    return head + rest.split("</script>", 1)[1]


def test_plotlyjs_is_inlined_once_and_nothing_is_fetched(rabi_report):
    assert rabi_report.count(PLOTLY_BANNER) == 1
    assert "<script src" not in rabi_report
    rest = _outside_plotlyjs(rabi_report)
    assert not re.findall(r"https?://", rest)
    assert rest.count("Plotly.newPlot") == 5  # sweep with its fit, schedule, counts, distribution, IQ


def test_the_header_says_what_ran_where_when_and_how(rabi_result, rabi_report):
    page = Tables(rabi_report)
    assert page.headings[0] == "Rabi amplitude: example-rabi on qutip-1q"
    header = as_dict(page.tables["wb-report-header"])
    trace = rabi_result.trace
    assert header["tuid"] == rabi_result.tuid and header["date"] == trace["date"]
    assert header["device"] == "qutip-1q" and header["executor"] == "qutip (simulator)"
    assert header["shots"] == "200" and header["seed"] == "9"
    assert header["job"] == "example-rabi (pulse, 21 experiments)"
    assert f"workbench {workbench.__version__}" in header["versions"] and "numpy" in header["versions"]


def test_the_fit_and_its_parameters_lead_the_report(rabi_result, rabi_report):
    page = Tables(rabi_report)
    analysis = rabi_result.analysis
    (row,) = page.tables["wb-analysis-table"][1:]
    assert row == ["π amplitude", analysis.parameters["pi_amplitude"].text()]
    assert abs(analysis.parameters["pi_amplitude"].value / 0.476817 - 1) < 0.02
    sweep = rabi_report.index('id="wb-report-sweep"')
    assert sweep < rabi_report.index("wb-analysis-table") < rabi_report.index("wb-counts-table")
    title = "Rabi amplitude: π amplitude " + analysis.parameters["pi_amplitude"].text()
    assert title in rabi_report or json.dumps(title)[1:-1] in rabi_report  # the sweep figure's title (JSON)


def test_experiments_are_listed_by_swept_value_with_their_counts(rabi_result, rabi_report):
    rows = Tables(rabi_report).tables["wb-counts-table"]
    header = rows[0]
    assert header[:4] == ["#", "amp", "experiment", "P(1)"]
    amps = rabi_result.dataset["amp"].values
    for row in rows[1:]:
        e = int(row[0])
        assert row[2] == f"rabi-{e:03d}" and float(row[1]) == pytest.approx(amps[e], rel=1e-3)
        shown = {k: int(v) for k, v in zip(header[4:], row[4:], strict=True) if int(v)}
        assert shown == rabi_result.counts(e)
        assert float(row[3]) == pytest.approx(rabi_result.counts(e).get("1", 0) / 200, abs=1e-4)


def test_the_schedule_shown_is_the_one_at_the_fitted_value(rabi_result, rabi_report):
    pi = rabi_result.analysis.parameters["pi_amplitude"].value
    nearest = int(abs(rabi_result.dataset["amp"].values - pi).argmin())
    assert f"Experiment amp = {rabi_result.dataset['amp'].values[nearest]:.4g} (rabi-{nearest:03d})" in rabi_report
    chosen = report_html(rabi_result, experiment=3)
    assert "(rabi-003)." in chosen


def test_options_and_trace_are_tables_not_json(rabi_result, rabi_report):
    page = Tables(rabi_report)
    trace = as_dict(page.tables["wb-report-trace"])
    assert trace["seed"] == "9" and trace["tuid"] == rabi_result.tuid
    assert trace["optionSources.shots"] == rabi_result.trace["optionSources"]["shots"]
    assert trace["versions.numpy"] == rabi_result.trace["versions"]["numpy"]
    assert re.search(f"<td>shots</td><td[^>]*>200</td><td>{rabi_result.trace['optionSources']['shots']}</td>",
                     rabi_report)
    assert '"optionSources": {' not in rabi_report  # no raw JSON dump


def test_a_failed_fit_shows_its_reasons_not_a_number(tmp_path):
    path = tmp_path / "blind.yml"
    path.write_text("devices:\n  - name: blind\n    base: qutip-1q\n    qubits:\n      0:\n        readout: "
                    "{iq_centers: {0: [0.3, 0.3], 1: [0.3, 0.3], 2: [0.3, 0.3]}}\n")
    result = workbench.run("rabi", "blind", config=path, shots=200, seed=4)
    analysis = result.analyse()
    assert not analysis.ok
    page = report_html(result)
    assert "wb-analysis-table" not in page and "FAILED" in page
    reasons = Tables(page)
    assert all(html.escape(reason) in page for reason in analysis.quality.reasons)
    assert "π amplitude" not in [row[0] for table in reasons.tables.values() for row in table]


def test_no_secret_in_the_report(rabi_result, rabi_report, tmp_path):
    assert SECRET not in rabi_report
    assert "api-token" not in rabi_result.options
    folder = tmp_path / "out"
    rabi_result.export(folder)
    assert (folder / "report.html").is_file() and (folder / "analysis.json").is_file()
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_reloaded_result_gives_the_same_report_body(rabi_result, rabi_report, tmp_path):
    rabi_result.export(tmp_path / "out", report=False)
    assert not (tmp_path / "out" / "report.html").exists()
    again = report_html(workbench.load_result(tmp_path / "out"))
    strip = re.compile(r'id="[0-9a-f-]{36}"|"[0-9a-f-]{36}"')  # plotly's random div ids
    assert strip.sub("", again) == strip.sub("", rabi_report)


def test_gate_level_result_explains_the_missing_schedule():
    result = workbench.run('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nx q[0];\n'
                           "measure q -> c;\n", seed=1, shots=10)
    page = report_html(result)
    assert "No schedule figure" in page and "gate-level device" in page
    assert "wb-report-iq" not in page  # aer keeps no IQ points


def test_write_report_never_overwrites(rabi_result, tmp_path):
    target = tmp_path / "report.html"
    target.write_text("mine")
    with pytest.raises(OutputError, match="never overwritten"):
        write_report(rabi_result, target)
    assert target.read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["report.html"]


# ----------------------------------------------------------------------------------- workbench show


def test_show_writes_a_self_contained_schedule_page(run_cli, tmp_path):
    page = tmp_path / "rabi.html"
    proc = run_cli("show", "rabi", "--experiment", "20", "--html", str(page))
    assert proc.returncode == 0, proc.stderr
    text = page.read_text()
    assert text.count(PLOTLY_BANNER) == 1 and "<script src" not in text
    assert "rabi-020" in text and "schedule written to" in proc.stdout
    by_name = tmp_path / "by-name.html"
    assert run_cli("show", "rabi", "--experiment", "rabi-003", "--html", str(by_name)).returncode == 0
    assert "rabi-003" in by_name.read_text()


def test_show_default_file_name_and_refusing_to_overwrite(run_cli, tmp_path):
    proc = run_cli("show", "x-gate", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = tmp_path / "x-gate-schedule.html"
    before = page.read_bytes()
    again = run_cli("show", "x-gate", cwd=tmp_path)
    assert again.returncode == 2 and again.stderr.startswith("error: x-gate-schedule.html: exists")
    assert len(again.stderr.strip().splitlines()) == 1 and page.read_bytes() == before


@pytest.mark.parametrize(("args", "message"), [
    (["rabi", "--experiment", "21"], "experiment index 21 out of range (0..20)"),
    (["bell.qasm"], "gate level and has no pulse schedule"),
    (["bad.json"], "bad.json: experiments[0].instructions[0].pulse_shape"),
    (["x-gate", "--device", "nope"], "unknown device 'nope'"),
])
def test_show_bad_input_exits_2_with_one_line(run_cli, tmp_path, args, message):
    (tmp_path / "bell.qasm").write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
                                        "h q[0];\ncx q[0],q[1];\nmeasure q -> c;\n")
    (tmp_path / "bad.json").write_text('{"qobj_id": "b", "type": "PULSE", "schema_version": "1.3.0", "config": '
                                       '{"shots": 10, "meas_level": 2, "memory_slots": 1}, "experiments": '
                                       '[{"instructions": [{"name": "parametric_pulse", "t0": 0, "ch": "d0", '
                                       '"pulse_shape": "foo", "parameters": {}}]}]}')
    proc = run_cli("show", *args, "--html", "page.html", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    assert not (tmp_path / "page.html").exists()


def test_figure_json_cannot_close_its_script_and_names_the_template():
    """Figures are embedded in <script> elements: text from a job file (experiment names, labels) must not
    end the script; the template is named, not written out again, and comes back the same in plotly.js."""
    import json

    import plotly.graph_objects as go

    from workbench.views.plotly_json import figure_json, set_template

    fig = set_template(go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name="</script><script>alert(1)</script>")))
    text = figure_json(fig)
    assert "</" not in text and "<script" not in text
    decoded = json.loads(text)
    assert decoded["data"][0]["name"] == "</script><script>alert(1)</script>"
    assert decoded["layout"]["template"] == json.loads(fig.to_json())["layout"]["template"]


def test_plotly_templates_and_plotlyjs_are_read_from_plotly_files_as_plotly_gives_them():
    """A report needs plotly's template and plotly.js, not plotly: they are read from its package data
    (importing plotly took ~0.13 s of every command-line run), and equal what plotly.io gives."""
    import json
    import subprocess
    import sys

    import plotly.io as pio

    from workbench.views.plotly_json import _template, plotlyjs

    code = ("import sys; from workbench.views.plotly_json import _template, plotlyjs; "
            "_template('plotly_white'); plotlyjs(); print('plotly' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    for name in ("plotly_white", "plotly", "simple_white"):
        assert json.loads(_template(name)) == pio.templates[name].to_plotly_json()
    assert plotlyjs()[0] == get_plotlyjs() and plotlyjs()[1] == get_plotlyjs().encode("utf-8")


def test_a_result_that_is_not_a_sweep_has_no_empty_result_section():
    page = report_html(workbench.run("x-gate", device="qutip-1q", shots=50, seed=1))
    assert "<h2>Result</h2>" not in page and "<h2>Counts and IQ</h2>" in page


def test_a_sweep_leads_with_its_result_section(rabi_report):
    assert rabi_report.index("<h2>Result</h2>") < rabi_report.index("<h2>Experiments</h2>")


def test_the_written_report_is_the_report_html(rabi_result, rabi_report, tmp_path):
    """write_report writes plotly.js from bytes encoded once per process, between the same page parts."""
    written = write_report(rabi_result, tmp_path / "report.html").read_text(encoding="utf-8")
    strip = re.compile(r'id="[0-9a-f-]{36}"|"[0-9a-f-]{36}"')
    assert strip.sub("", written) == strip.sub("", rabi_report)
