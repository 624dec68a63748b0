"""OpenPulse programs in the workbench: pasted or uploaded, previewed, swept through the ``inputs``
option in the form, run, exported. Driven through the widgets without a browser (``.value``,
``.click()``) and through the plain Session, with real simulations."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from workbench.api import execute, prepare
from workbench.parallel import Parallel
from workbench.ui.app import Workbench
from workbench.ui.session import Session
from workbench.views.schedule_figure import plot_schedule

JOIN = 120  # seconds: a bound on waiting for the runner, not a speed expectation
UPLOADED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)

RABI = """OPENQASM 3.0;
defcalgrammar "openpulse";
input float amp;
cal {
    extern drag(complex[float[64]], duration, duration, float[64]) -> waveform;
}
defcal x_amp(float a) $0 {
    play(q0_drive, drag(a, 48dt, 12dt, 0.457119));
}
bit c;
x_amp(amp) $0;
c = measure $0;
"""


@pytest.fixture
def app():
    made = Workbench()
    yield made
    made.close()


def test_an_uploaded_program_is_previewed_swept_from_the_form_and_run(app):
    app.job.upload.value = ({"name": "rabi.qasm", "type": "text/plain", "size": 1,
                             "content": memoryview(RABI.encode()), "last_modified": UPLOADED},)
    assert app.job.error.value == "" and "pulse job &#x27;rabi&#x27;" in app.job.info.value
    assert "inputs" in app.options.rows  # the program's own option appears with the program
    assert "input &#x27;amp&#x27; has no value" in app.schedule.message.value
    app.options.rows["inputs"].control.value = '{"amp": [0.0, 0.238, 0.4768]}'
    assert app.schedule.figure is not None and len(app.schedule.experiment.options) == 3
    app.schedule.experiment.value = 2
    assert app.schedule.figure.layout.title.text.startswith("rabi-2")
    app.options.rows["shots"].control.value = "300"
    app.options.rows["seed"].control.value = "4"
    app.run_panel.run_button.click()
    assert app.wait(JOIN)
    result = app.session.selected_result
    assert result is not None and result.dataset.amp.values.tolist() == [0.0, 0.238, 0.4768]
    p1 = result.dataset.memory.sel(slot=0).mean("shot").values
    assert p1[0] < 0.05 and 0.35 < p1[1] < 0.65 and p1[2] > 0.95
    assert app.results.sweep.figure.layout.xaxis.title.text == "drive amplitude"  # named by the analysis


def test_pasted_program_errors_are_located_and_bad_inputs_are_option_errors(catalogue):
    session = Session(catalogue)
    session.set_job_text(RABI.replace("c = measure $0;", "c = measure $0"), origin="rabi.qasm")
    assert session.job_problem.source == "rabi.qasm" and session.job_problem.location.startswith("line 13")
    session.set_job_text(RABI)
    session.set_option("inputs", "[1, 2]")
    field = next(f for f in session.option_fields() if f.name == "inputs")
    assert field.error is not None and "expected dict" in field.error
    session.set_option("inputs", '{"ampl": 0.1}')
    assert "ampl is not an input" in session.schedule_problem.message


def test_the_schedule_view_draws_a_program(tmp_path):
    path = tmp_path / "rabi.qasm"
    path.write_text(RABI.replace("input float amp;", "const float amp = 0.2;"))
    fig = plot_schedule(str(path), "qutip-1q")
    assert "<b>d0</b>" in fig.layout.yaxis.title.text and fig.layout.title.text.startswith("rabi")


@pytest.mark.slow
def test_a_program_sweep_on_dask_equals_the_serial_run():
    pytest.importorskip("distributed")
    import distributed

    amps = [0.1 * k for k in range(6)]
    prepared = prepare(RABI, "qutip-1q", seed=9, shots=200, options={"inputs": {"amp": amps}})
    serial = execute(prepared)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0")
    try:
        with distributed.Client(cluster, set_as_default=False) as client:
            parallel = execute(prepared, parallel=Parallel(client=client))
    finally:
        cluster.close()
    assert parallel.counts_list() == serial.counts_list()
    assert parallel.dataset.amp.values.tolist() == amps
    assert math.isclose(float(parallel.dataset.memory.mean()), float(serial.dataset.memory.mean()))
