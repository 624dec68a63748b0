"""The HTML report and ``workbench show``: self-contained files that open offline and hold no secrets."""

from __future__ import annotations

import re

import pytest
from plotly.offline import get_plotlyjs

import workbench
from workbench.errors import OutputError
from workbench.views.report import report_html, write_report

PLOTLY_BANNER = get_plotlyjs()[:60]  # the licence header plotly.js starts with
SECRET = "tok-report-5150"


@pytest.fixture(scope="module")
def rabi_result():
    return workbench.run("rabi", device="qutip-1q", shots=200, seed=9, options={"api-token": SECRET})


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
    assert rest.count("Plotly.newPlot") == 5  # counts, distribution, sweep, IQ, schedule


def test_report_holds_device_options_counts_and_figures(rabi_result, rabi_report):
    assert "qutip-1q" in rabi_report and "Simulated transmon, 1 qubit" in rabi_report
    assert "<th>f01 (GHz)</th>" in rabi_report and "<td class=num>4.8</td>" in rabi_report
    sources = rabi_result.trace["optionSources"]
    assert re.search(f"<td>shots</td><td[^>]*>200</td><td>{sources['shots']}</td>", rabi_report)
    counts = rabi_result.counts("rabi-005")
    header = re.search(r"<th>experiment</th>(.*?)</tr>", rabi_report).group(1)
    row = re.search(r"<tr><td>rabi-005</td>(.*?)</tr>", rabi_report).group(1)
    shown = dict(zip(re.findall(r"<th>(\d+)</th>", header), (int(n) for n in re.findall(r">(\d+)<", row)),
                     strict=True))
    assert {k: v for k, v in shown.items() if v} == counts and len(counts) == 2
    for key in ("counts", "distribution", "sweep", "iq", "schedule"):
        assert f'id="wb-report-{key}"' in rabi_report
    assert rabi_result.tuid in rabi_report


def test_no_secret_in_the_report(rabi_result, rabi_report, tmp_path):
    assert SECRET not in rabi_report
    assert "api-token" not in rabi_result.options
    folder = tmp_path / "out"
    rabi_result.export(folder)
    write_report(rabi_result, folder / "report.html")
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_reloaded_result_gives_the_same_report_body(rabi_result, rabi_report, tmp_path):
    rabi_result.export(tmp_path / "out")
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
