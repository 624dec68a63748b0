"""The widgets without a browser, the way ipywidgets tests itself: set ``.value``, call ``.click()``.

Every run is a real simulation; the test waits for the runner thread with a bounded wait, never a
sleep. What a browser would draw is checked on the figure objects the views keep (``.figure``).
"""

from __future__ import annotations

import datetime as dt
import html
import json

import ipywidgets as widgets
import numpy as np
import pytest
import xarray as xr
import yaml
from plugin_support import TOKEN

from workbench.examples import rabi
from workbench.executors.registry import load_catalogue
from workbench.ui.app import Workbench
from workbench.ui.runner import CANCELLED, DONE, FAILED
from workbench.ui.session import Session
from workbench.views.schedule_figure import lane_channels

JOIN = 120  # seconds: a bound on waiting for the runner, not a speed expectation


SECRET_TOKEN = TOKEN  # the one the vault plugin accepts
UPLOADED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)  # what FileUpload reports as last_modified


@pytest.fixture(scope="module")
def lab_catalogue(tmp_path_factory):
    """Built-ins plus 'nodisc': qutip-1q without a discriminator (meas_level 2 fails after running)."""
    raw = load_catalogue(None).raw("qutip-1q")
    for q in raw["qubits"]:
        q["readout"] = {k: v for k, v in q["readout"].items() if k != "discriminator"}
    path = tmp_path_factory.mktemp("config") / "devices.yml"
    path.write_text(yaml.safe_dump({"devices": [{"name": "nodisc", "base": "qutip-1q", "qubits": raw["qubits"]}]}))
    return load_catalogue(path)




def _tree(widget: widgets.Widget) -> list[widgets.Widget]:
    """Every widget reachable from ``widget`` through its traits (children, titles' holders, ...)."""
    seen: dict[str, widgets.Widget] = {}
    stack = [widget]
    while stack:
        w = stack.pop()
        if w.model_id in seen:
            continue
        seen[w.model_id] = w
        for name in w.keys:
            value = getattr(w, name)
            items = value if isinstance(value, list | tuple) else [value]
            stack.extend(v for v in items if isinstance(v, widgets.Widget))
    return list(seen.values())


def _state_text(app: Workbench) -> str:
    return json.dumps([w.get_state() for w in _tree(app)], default=str)


# ---------------------------------------------------------------------------------------- device/options


def test_choosing_a_device_rebuilds_the_options_form(make_app):
    app = make_app()
    assert app.devices.select.value == "qutip-1q"
    assert {"noise", "levels", "shots", "seed", "meas_level", "meas_return"} <= set(app.options.rows)
    assert isinstance(app.options.rows["noise"].control, widgets.Checkbox)
    assert isinstance(app.options.rows["meas_level"].control, widgets.Dropdown)
    app.devices.select.value = "aer-simulator"
    assert app.session.device_key == "aer-simulator"
    assert {"statevector", "method"} <= set(app.options.rows) and "noise" not in app.options.rows
    assert "Qiskit Aer" in app.devices.info.value and "gate-level" in app.devices.info.value
    assert app.options.rows["method"].control.options[0][0] == "automatic"
    assert "gate-level" in app.job.error.value  # the pulse example cannot run there
    assert app.schedule.figure is None and "gate-level device" in app.schedule.message.value
    app.devices.select.value = "qutip-2q"
    assert "noise" in app.options.rows and "couplings" in app.devices.info.value


def test_invalid_options_block_the_run_with_a_message(make_app):
    app = make_app()
    shots = app.options.rows["shots"]
    shots.control.value = "0"
    assert "must be &gt;= 1, got 0" in shots.feedback.value and "wb-option-error" in shots.feedback._dom_classes
    assert app.run_panel.run_button.disabled
    assert "Run blocked" in app.run_panel.validation.value and "shots" in app.run_panel.validation.value
    app.run_panel.run_button.click()  # a disabled button's handler still refuses
    assert app.runner.records == [] and app.wait(JOIN)
    shots.control.value = "12"
    assert not app.run_panel.run_button.disabled and app.run_panel.validation.value == ""
    assert "wb-option-error" not in shots.feedback._dom_classes


def test_reset_restores_defaults(make_app):
    app = make_app()
    app.options.rows["noise"].control.value = False
    app.options.rows["shots"].control.value = "9"
    assert app.session.overrides == {"noise": False, "shots": "9"}
    app.options.reset.click()
    assert app.session.overrides == {}
    assert app.options.rows["noise"].control.value is True and app.options.rows["shots"].control.value == ""


# -------------------------------------------------------------------------------------------- running


def test_run_shows_results(make_app):
    app = make_app()
    app.options.rows["shots"].control.value = "400"
    app.options.rows["seed"].control.value = "3"
    app.run_panel.run_button.click()
    assert app.wait(JOIN)
    result = app.session.selected_result
    assert result is not None and result.options["shots"] == 400
    bars = app.results.histogram.figure.data[0]
    assert dict(zip(bars.x, (int(v) for v in bars.y), strict=True)) == result.counts()
    counts, probability = app.results.histogram.figure.data  # one figure, the toggle shows one or the other
    assert counts.visible is not False and probability.visible is False
    assert sum(probability.y) == pytest.approx(1.0) and app.results.distribution.figure is None
    assert app.results.iq.figure is not None and app.results.sweep.figure is None  # one experiment
    assert "x-gate" in app.results.dataset.value and "<b>Result" in app.results.dataset.value
    row = app.run_panel.rows[1]
    assert row.bar.value == row.bar.max == 1 and row.bar.bar_style == "success"
    assert "done" in app.run_panel.status.value


def test_sweep_result_shows_the_sweep_and_one_experiment_at_a_time(make_app):
    app = make_app()
    app.job.example.value = "rabi"
    app.options.rows["shots"].control.value = "100"
    app.run_panel.run_button.click()
    assert app.wait(JOIN)
    sweep = app.results.sweep.figure
    analysis = app.session.selected_result.analysis  # the example names its analysis: fitted at once
    assert analysis.name == "rabi-amplitude" and analysis.ok
    assert sweep.layout.xaxis.title.text == "drive amplitude" and len(sweep.data[0].x) == 21
    assert [t.name for t in sweep.data[:2]] == ["rabi", "rabi fit"]
    assert sweep.layout.title.text == "Rabi amplitude: π amplitude " + analysis.parameters["pi_amplitude"].text()
    table = app.results.analysis.value
    assert "wb-analysis-table" in table and "data-parameter='pi_amplitude'" in table
    assert analysis.parameters["pi_amplitude"].text() in table
    assert len(app.results.histogram.figure.data) == 2  # 21 experiments: one shown at a time (counts, probability)
    amp = app.session.selected_result.dataset["amp"].values[10]
    assert app.results.experiment.options[10] == (f"10: amp = {amp:.4g} (rabi-010)", 10)  # picked by swept value
    app.results.experiment.value = 10
    assert app.results.histogram.figure.data[0].name == f"amp = {amp:.4g} (rabi-010)"
    assert app.results.iq.figure.layout.title.text.startswith(f"IQ: amp = {amp:.4g} (rabi-010)")


def test_a_failing_run_shows_its_error_and_keeps_earlier_results(make_app, lab_catalogue):
    app = make_app(catalogue=lab_catalogue)
    app.run_panel.run_button.click()
    assert app.wait(JOIN)
    first = app.session.selected_result
    figure = app.results.histogram.figure
    app.devices.select.value = "nodisc"
    app.run_panel.run_button.click()
    assert app.wait(JOIN)
    record = app.runner.records[-1]
    assert record.state == FAILED
    assert "Run failed" in app.run_panel.error.value and "no discriminator calibration" in app.run_panel.error.value
    assert app.session.results == (first,) and app.results.histogram.figure is figure
    assert len(app.results.select.options) == 1
    assert app.run_panel.rows[record.id].bar.bar_style == "danger"


def test_queued_runs_execute_in_order(make_app):
    app = make_app()
    app.runner.pause()
    app.options.rows["shots"].control.value = "100"
    app.run_panel.run_button.click()
    app.options.rows["shots"].control.value = "200"
    app.run_panel.run_button.click()
    assert "2 queued" in app.run_panel.queue.value and "queue on hold" in app.run_panel.status.value
    app.runner.resume()
    assert app.wait(JOIN)
    assert [r.state for r in app.runner.records] == [DONE, DONE]
    assert [r.options["shots"] for r in app.session.results] == [100, 200]
    assert [label for label, _ in app.results.select.options][1].startswith("2. ")
    assert app.run_panel.queue.value == ""


def test_cancel_button_cancels_running_and_queued_runs(make_app):
    app = make_app()
    big = rabi(app.session.device, amplitudes=list(np.linspace(0, 0.9, 600)), shots=5)
    app.job.text.value = json.dumps(big)
    assert app.session.job is not None and len(app.session.job.experiment_names) == 600

    def press_cancel_on_first_progress(record, event):
        if event == "progress" and record.id == 1:
            app.run_panel.cancel_button.click()

    app.runner.observers.append(press_cancel_on_first_progress)
    app.runner.pause()
    app.run_panel.run_button.click()
    app.run_panel.run_button.click()
    app.runner.resume()
    assert app.wait(JOIN)
    assert [r.state for r in app.runner.records] == [CANCELLED, CANCELLED]
    assert app.session.results == () and "cancelled" in app.run_panel.status.value
    assert app.run_panel.rows[1].bar.bar_style == "warning"
    assert app.run_panel.error.value == ""  # a cancel is not an error


# ------------------------------------------------------------------------------------------ job source


def test_job_source_upload_paste_and_example(make_app):
    app = make_app()
    bad = rabi(app.session.device, amplitudes=[0.1, 0.2])
    bad["experiments"][1]["instructions"][0]["t0"] = -4
    app.job.upload.value = ({"name": "sweep.json", "type": "application/json", "size": 1,
                             "content": memoryview(json.dumps(bad, indent=1).encode()), "last_modified": UPLOADED},)
    assert "sweep.json:" in app.job.error.value and "experiments[1].instructions[0].t0" in app.job.error.value
    assert app.job.upload.value == ()  # the content lives in the session, not in the widget state
    assert json.loads(app.job.text.value)["experiments"][1]["instructions"][0]["t0"] == -4
    bad["experiments"][1]["instructions"][0]["t0"] = 0
    app.job.text.value = json.dumps(bad)
    assert app.job.error.value == "" and "rabi-000, rabi-001" in app.job.info.value
    assert app.session.job.experiment_names == ["rabi-000", "rabi-001"]
    assert app.schedule.experiment.options[1] == ("1: rabi-001 (amp = 0.2)", 1)  # the swept value too
    app.schedule.experiment.value = 1
    assert app.schedule.figure.layout.title.text.startswith("rabi-001")
    app.job.text.value = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nfoo q[0];\n'
    assert "line 5" in app.job.error.value
    app.job.example.value = "t1"
    assert app.job.error.value == "" and '"qobj_id": "example-t1"' in app.job.text.value
    assert len(app.schedule.experiment.options) == 16


def test_job_from_a_path(make_app, tmp_path):
    app = make_app()
    path = tmp_path / "bell.qasm"
    path.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\n'
                    "measure q -> c;\n")
    app.devices.select.value = "qutip-2q"
    app.job.path.value = str(path)
    app.job.load.click()
    assert app.session.job.name == "bell" and "circuit job &#x27;bell&#x27;" in app.job.info.value
    assert app.job.text.value == path.read_text()
    assert set(app.schedule.channel_boxes) == {"d0", "u0", "m0", "a0", "d1", "m1", "a1"}
    app.schedule.channel_boxes["u0"].value = False
    assert "u0" not in lane_channels(app.schedule.figure)
    app.job.path.value = str(tmp_path / "missing.qasm")
    app.job.load.click()
    assert "no such file" in app.job.error.value


# ------------------------------------------------------------------------------------ results artefacts


def test_qblox_run_shows_its_compiled_programs(make_app):
    app = make_app(device="qblox-dummy-1q")
    app.options.rows["shots"].control.value = "20"
    app.run_panel.run_button.click()
    assert app.wait(JOIN)
    assert app.runner.records[-1].state == DONE, app.runner.records[-1].error
    titles = app.results.artifacts.titles
    assert any(t.endswith(".q1asm") for t in titles) and "timing_table.csv" in titles
    assert app.results.artifacts.layout.display is None
    q1asm = titles.index(next(t for t in titles if t.endswith(".q1asm")))
    assert "play" in app.results.artifacts.children[q1asm].value or "acquire" in \
        app.results.artifacts.children[q1asm].value


# -------------------------------------------------------------------------------------- export/import


def test_export_then_import_round_trips(make_app, tmp_path):
    app = make_app()
    app.job.example.value = "rabi"
    app.options.rows["shots"].control.value = "50"
    app.run_panel.run_button.click()
    assert app.wait(JOIN)
    original = app.session.selected_result
    app.transfer.folder.value = str(tmp_path / "rabi-out")
    app.transfer.archive.value = True
    app.transfer.export_button.click()
    assert "results written to" in app.transfer.status.value
    assert (tmp_path / "rabi-out" / "report.html").is_file() and (tmp_path / "rabi-out.zip").is_file()
    app.transfer.export_button.click()  # the same folder again: refused, shown, nothing changed
    assert "Export failed" in app.transfer.status.value

    colleague = make_app(job=None, device="aer-simulator")
    assert colleague.schedule.figure is None
    colleague.transfer.source.value = str(tmp_path / "rabi-out.zip")
    colleague.transfer.import_button.click()
    assert "loaded" in colleague.transfer.status.value, colleague.transfer.status.value
    xr.testing.assert_identical(colleague.session.selected_result.dataset, original.dataset)
    assert colleague.devices.select.value == "qutip-1q"
    assert colleague.schedule.figure is not None and len(colleague.schedule.experiment.options) == 21
    assert colleague.results.sweep.figure is not None
    assert colleague.options.rows["shots"].control.value == "50"

    third = make_app(job=None)
    third.transfer.upload.value = ({"name": "rabi-out.zip", "type": "application/zip", "size": 1,
                                    "content": memoryview((tmp_path / "rabi-out.zip").read_bytes()),
                                    "last_modified": UPLOADED},)
    xr.testing.assert_identical(third.session.selected_result.dataset, original.dataset)
    assert third.transfer.upload.value == ()
    third.transfer.source.value = str(tmp_path / "nowhere")
    third.transfer.import_button.click()
    assert "Import failed" in third.transfer.status.value and "no such file" in third.transfer.status.value


# -------------------------------------------------------------------------------------------- secrets


def test_credentials_prompt_only_when_needed_and_never_kept(make_app, vault_catalogue, tmp_path):
    app = make_app(catalogue=vault_catalogue)
    assert app.options.credentials_box.layout.display == "none" and app.options.credentials == {}
    app.devices.select.value = "vault"
    assert app.options.credentials_box.layout.display is None
    box = app.options.credentials["api-token"]
    assert isinstance(box, widgets.Password) and "wb-credential-api-token" in box._dom_classes

    app.run_panel.run_button.click()  # no credential typed: refused before anything runs
    assert "needs credentials: api-token" in app.run_panel.validation.value and app.runner.records == []

    box.value = SECRET_TOKEN
    app.run_panel.run_button.click()
    assert box.value == ""  # consumed at run time
    assert app.wait(JOIN)
    record = app.runner.records[-1]
    assert record.state == DONE, record.error
    assert app.session.pending_credentials == ()
    app.transfer.folder.value = str(tmp_path / "vault-out")
    app.transfer.archive.value = True
    app.transfer.export_button.click()
    assert "results written" in app.transfer.status.value
    assert SECRET_TOKEN not in _state_text(app)
    files = [p for p in (tmp_path / "vault-out").rglob("*") if p.is_file()] + [tmp_path / "vault-out.zip"]
    assert any(p.name == "report.html" for p in files)
    for path in files:
        assert SECRET_TOKEN.encode() not in path.read_bytes(), path


def test_credentials_of_a_refused_run_are_held_for_the_next_run_only(make_app, vault_catalogue):
    app = make_app(catalogue=vault_catalogue, device="vault")
    app.options.rows["shots"].control.value = "0"
    app.options.credentials["api-token"].value = SECRET_TOKEN
    app.run_panel.run_button.click()
    assert app.runner.records == [] and app.options.credentials["api-token"].value == ""
    assert app.session.pending_credentials == ("api-token",) and "Held for the next run" in _state_text(app)
    assert SECRET_TOKEN not in _state_text(app)
    app.options.rows["shots"].control.value = "5"
    app.run_panel.run_button.click()
    assert app.wait(JOIN) and app.runner.records[-1].state == DONE
    app.run_panel.run_button.click()  # used once: asked for again
    assert "needs credentials" in app.run_panel.validation.value


def test_workbench_is_lazy_from_the_package():
    import workbench

    assert workbench.Workbench is Workbench


@pytest.mark.slow
def test_parallel_checkbox_runs_on_dask_with_the_serial_result(make_app):
    """The run panel's 'parallel (Dask)' runs the same job on a local Dask cluster: same Dataset."""
    import xarray as xr

    from workbench.parallel import close_local_cluster

    app = make_app()
    app.session.set_example("rabi")
    app.options.rows["shots"].control.value = "64"
    app.options.rows["seed"].control.value = "5"
    try:
        app.run_panel.run_button.click()
        assert app.wait(JOIN)
        serial = app.session.selected_result
        app.run_panel.parallel.value = True
        app.run_panel.run_button.click()
        assert app.wait(JOIN)
        parallel = app.session.selected_result
    finally:
        close_local_cluster()
    assert parallel is not serial and "parallel" in parallel.trace
    for name in ("iq", "memory", "counts", "populations"):
        xr.testing.assert_identical(parallel.dataset[name], serial.dataset[name])


# ------------------------------------------------------------------------------- panels over plain methods


class _CountingSession(Session):
    """A real Session that counts how often the Run button reached :meth:`Session.submit_run`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitted: list[object] = []

    def submit_run(self, runner, *, parallel=None):
        outcome = super().submit_run(runner, parallel=parallel)
        self.submitted.append(outcome)
        return outcome


def test_the_run_button_is_session_submit_run(make_app, catalogue):
    session = _CountingSession(catalogue)
    app = make_app(session=session)
    app.options.rows["shots"].control.value = "64"
    app.run_panel.run_button.click()
    assert app.wait(JOIN)
    (record,) = session.submitted
    assert app.runner.records == [record] and record.state == DONE
    assert session.selected_result is record.result and record.result.options["shots"] == 64

    app.job.text.value = '{"qobj_id": 1}'  # a broken job: the panel shows what the method returned
    app.run_panel.run_button.click()
    problems = session.submitted[-1]
    assert isinstance(problems, list) and app.runner.records == [record]
    assert "Run blocked" in app.run_panel.validation.value
    assert all(html.escape(p.message) in app.run_panel.validation.value for p in problems)


def test_tuneup_panel_refuses_a_bad_seed_with_the_run_forms_message(make_app):
    app = make_app()
    app.options.rows["seed"].control.value = "abc"
    run_message = app.options.rows["seed"].feedback.value  # the run form's inline error
    assert 'expected int, got &quot;abc&quot;' in run_message and "Run blocked" in app.run_panel.validation.value
    app.calibration.seed.value = "abc"
    app.calibration.measure_button.click()
    status = app.calibration.status.value
    assert "Measure blocked" in status and "option &#x27;seed&#x27;:</b> expected int, got &quot;abc&quot;" in status
    assert app.runner.records == []
    (problem,) = app.tuneup.problems()
    assert problem.text == next(p.text for p in app.session.validate() if p.option == "seed")


def test_tuneup_panel_cancel_button_and_the_run_queue(make_app, tmp_path):
    config = tmp_path / "lab.yml"
    config.write_text("devices:\n  - name: drifted\n    base: qutip-1q\n    qubits:\n      0:\n"
                      "        drive:\n          x: {amp: 0.39}\n")
    before = config.read_text()
    app = make_app(config=config, device="drifted")
    panel = app.calibration
    panel.shots.value, panel.seed.value = "128", "4"
    app.runner.pause()
    record = panel.measure()
    assert app.runner.queued == [record] and "1 queued" in app.run_panel.queue.value  # one queue for both
    panel.cancel_button.click()
    assert record.state == CANCELLED and "cancelled" in panel.status.value
    assert app.run_panel.rows[record.id].bar.bar_style == "warning"
    app.runner.resume()
    assert panel.measure(wait=True).state == DONE
    assert panel.figure.figure is not None and "x: {amp: 0.39}" in panel.diff.value
    assert not panel.write_button.disabled and config.read_text() == before
