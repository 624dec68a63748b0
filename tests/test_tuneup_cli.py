"""`workbench calibrate` as users run it, and the calibration panel of the interactive workbench."""

from __future__ import annotations

import yaml

from workbench import tuneup
from workbench.cli.calibrate import ROUTINE_NAMES
from workbench.executors.registry import load_catalogue

DRIFTED = """devices:
  - name: drifted
    base: qutip-1q
    qubits:
      0:
        drive:
          x: {amp: 0.39}   # 18% low
"""


def test_the_cli_lists_every_routine():
    assert set(ROUTINE_NAMES) == set(tuneup.ROUTINES)


def test_calibrate_dry_run_then_write(run_cli, tmp_path):
    config = tmp_path / "lab.yml"
    config.write_text(DRIFTED)
    dry = run_cli("calibrate", "rabi", "--device", "drifted", "--config", str(config), "--seed", "3", "--shots",
                  "512", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "-          x: {amp: 0.39}   # 18% low" in dry.stdout
    assert "dry run: nothing written" in dry.stdout
    assert config.read_text() == DRIFTED and not (tmp_path / "lab.yml.history").exists()

    done = run_cli("--config", str(config), "calibrate", "rabi", "--device", "drifted", "--seed", "3", "--shots",
                   "512", "--out", "rabi-out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "as version 1" in done.stdout
    amp = load_catalogue(config).get("drifted").qubit(0).drive.x.amp
    assert abs(amp / 0.476817 - 1) < 0.01
    assert "# 18% low" in config.read_text()  # the user's comment stays
    out = tmp_path / "rabi-out"
    assert {p.name for p in out.iterdir()} == {"dataset.nc", "figure.html", "summary.txt", "runs", "report.html"}
    (run_folder,) = (out / "runs").iterdir()
    assert (run_folder / "result-trace.json").is_file()  # an ordinary output folder
    (version,) = (tmp_path / "lab.yml.history").glob("0001-*")
    change = yaml.safe_load((version / "change.yml").read_text())
    assert change["routine"] == "rabi" and change["changes"][0]["old"] == 0.39
    assert {p.name for p in version.iterdir()} == {"change.yml", "config-before.yml", "diff.patch", "dataset.nc"}


def test_calibrate_refuses_without_config_and_on_a_rejected_fit(run_cli, tmp_path):
    none = run_cli("calibrate", "rabi", cwd=tmp_path)
    assert none.returncode == 2
    assert "--config FILE" in none.stderr and "WORKBENCH_CONFIG" in none.stderr
    config = tmp_path / "blind.yml"
    text = ("devices:\n  - name: blind\n    base: qutip-1q\n    qubits:\n      0:\n"
            "        readout: {iq_centers: {0: [0.3, 0.3], 1: [0.3, 0.3]}}\n")
    config.write_text(text)
    rejected = run_cli("calibrate", "rabi", "--device", "blind", "--config", str(config), "--seed", "1", cwd=tmp_path)
    assert rejected.returncode == 1
    assert "REJECTED" in rejected.stdout
    assert "error: rabi: nothing written" in rejected.stderr
    assert config.read_text() == text


def test_calibration_panel_measures_then_writes(tmp_path):
    from workbench.ui.app import Workbench

    config = tmp_path / "lab.yml"
    config.write_text(DRIFTED)
    wb = Workbench(config=config, device="drifted")
    try:
        panel = wb.calibration
        panel.routine.value = "rabi"
        panel.seed.value = "5"
        panel.shots.value = "512"
        panel.measure(wait=True)
        assert panel.result is not None and panel.result.ok
        assert "x: {amp: 0.39}" in panel.diff.value  # the dry-run diff, before anything is written
        assert config.read_text() == DRIFTED
        assert not panel.write_button.disabled
        assert len(wb.session.results) == 1  # the routine's run joined the results history
        panel.write_button.click()  # the write goes through the run queue
        assert wb.tuneup.wait(120)
        assert "version 1" in panel.message.value
        amp = wb.session.device.qubit(0).drive.x.amp  # the session reloaded the written file
        assert amp == panel.result.updates[0].new != 0.39
        assert panel.figure.figure is not None
    finally:
        wb.close()


def test_calibration_panel_without_config_cannot_write():
    from workbench.ui.app import Workbench

    wb = Workbench()
    try:
        panel = wb.calibration
        panel.routine.value = "t1"
        panel.shots.value = "256"
        panel.measure(wait=True)
        assert panel.result is not None
        assert panel.write_button.disabled
        panel.routine.value = "rabi"
        panel.measure(wait=True)
        assert panel.write_button.disabled
        assert "no config file" in panel.message.value
    finally:
        wb.close()
