"""`workbench analyse`, `workbench run --analyse` and the calibration report, as users run them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data" / "analysis"


@pytest.fixture
def rabi_folder(run_cli, tmp_path):
    proc = run_cli("run", "rabi", "--seed", "4", "--shots", "400", "--out", "rabi-out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "rabi-out"


def test_run_prints_the_sweep_table_and_analyse_adds_the_fit(run_cli, rabi_folder, tmp_path):
    assert {p.name for p in rabi_folder.iterdir()} >= {"report.html", "dataset.nc", "result-counts.json"}
    assert not (rabi_folder / "analysis.json").exists()  # no analysis unless asked
    before = {p.name: p.read_bytes() for p in rabi_folder.iterdir()}
    proc = run_cli("analyse", str(rabi_folder), "--out", "fitted", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].split() == ["amp", "P(1)", "counts"]
    assert "Rabi amplitude: fit ok" in proc.stdout and "π amplitude" in proc.stdout
    saved = json.loads((tmp_path / "fitted" / "analysis.json").read_text())
    pi = saved["parameters"]["pi_amplitude"]
    assert abs(pi["value"] / 0.476817 - 1) < 0.01 and pi["stderr"] > 0
    assert f"{pi['value']:.4f}" in proc.stdout
    assert "wb-analysis-table" in (tmp_path / "fitted" / "report.html").read_text()
    assert {p.name: p.read_bytes() for p in rabi_folder.iterdir()} == before  # the saved result is untouched
    as_json = run_cli("analyse", str(rabi_folder / "dataset.nc"), "--json", cwd=tmp_path)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["parameters"]["pi_amplitude"] == pi


def test_run_analyse_writes_the_analysis_at_once(run_cli, tmp_path):
    proc = run_cli("run", "t1", "--seed", "2", "--shots", "300", "--analyse", "--out", "t1-out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "T1 (energy relaxation): fit ok" in proc.stdout and "delay" in proc.stdout.splitlines()[1]
    saved = json.loads((tmp_path / "t1-out" / "analysis.json").read_text())
    assert saved["analysis"] == "t1" and saved["parameters"]["t1"]["unit"] == "s"
    named = run_cli("run", "rabi", "--seed", "2", "--shots", "300", "--analysis", "rabi-amplitude", "--out", "r",
                    cwd=tmp_path)
    assert named.returncode == 0 and (tmp_path / "r" / "analysis.json").is_file()


def test_noise_fails_the_verdict_with_exit_1_and_no_number(run_cli, tmp_path):
    shutil.copy(DATA / "noise-rabi.nc", tmp_path / "noise.nc")
    proc = run_cli("analyse", "noise.nc", cwd=tmp_path)
    assert proc.returncode == 1
    assert "FAILED, no parameters reported" in proc.stdout and "no signal above the noise" in proc.stdout
    assert "π amplitude" not in proc.stdout.split("FAILED", 1)[1]


@pytest.fixture(scope="module")
def two_results(run_cli, tmp_path_factory):
    """A Rabi sweep and a single x gate, run once for the bad-input cases (which only read them)."""
    folder = tmp_path_factory.mktemp("analyse-bad-input")
    for args in (("rabi", "--seed", "4", "--shots", "400", "--out", "rabi-out"),
                 ("x-gate", "--seed", "1", "--shots", "10", "--out", "x-gate-out")):
        proc = run_cli("run", *args, cwd=folder)
        assert proc.returncode == 0, proc.stderr
    return folder


@pytest.mark.parametrize(("args", "message"), [
    (["x-gate-out"], "no analysis applies by itself"),
    (["rabi-out", "--analysis", "nope"], "argument --analysis: invalid choice: 'nope'"),
    (["rabi-out", "--analysis", "t1"], "not a sweep over delay"),
    (["missing"], "missing: no such file or folder"),
])
def test_bad_input_is_one_line_and_exit_2(run_cli, two_results, args, message):
    proc = run_cli("analyse", *args, cwd=two_results)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr


def test_a_tuneup_history_entry_is_analysed_again(run_cli, tmp_path):
    shutil.copy(DATA / "tuneup-rabi.nc", tmp_path / "entry.nc")
    proc = run_cli("analyse", "entry.nc", "--out", "again", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("tune-up rabi on drifted, qubit 0")
    assert "π amplitude (x)" in proc.stdout and "π amplitude (sx)" in proc.stdout
    report = (tmp_path / "again" / "report.html").read_text()
    assert "wb-calibration-diff" in report and "drive.x.amp" in report


def test_a_calibration_sequence_gets_one_report(run_cli, tmp_path):
    config = tmp_path / "lab.yml"
    config.write_text("devices:\n  - name: drifted\n    base: qutip-1q\n    qubits:\n      0:\n        drive:\n"
                      "          x: {amp: 0.42}\n")
    proc = run_cli("calibrate", "rabi", "t1", "--device", "drifted", "--config", str(config), "--seed", "3",
                   "--dry-run", "--out", "tuned", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "tuned"
    assert {p.name for p in out.iterdir()} == {"1-rabi", "2-t1", "report.html"}
    report = (out / "report.html").read_text()
    assert report.count("<section class='wb-calibration-routine'>") == 2
    assert "-          x: {amp: 0.42}" in report  # the previewed diff
    assert "T1" in report and "Nothing to write: this routine measures physics" in report
    assert config.read_text().endswith("x: {amp: 0.42}\n")  # a dry run writes nothing
