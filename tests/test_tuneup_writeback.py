"""Writing calibrations into a user's YAML: small diffs, the user's formatting kept, nothing else changed."""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import yaml

from workbench import tuneup
from workbench.errors import WorkbenchError
from workbench.executors.registry import load_catalogue
from workbench.tuneup import writeback
from workbench.tuneup.base import Update
from workbench.tuneup.writeback import edit_text

EXAMPLE = Path(__file__).parents[1] / "executor-config.example.yml"


def _changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:2] in ("- ", "+ ")]


def test_a_full_device_entry_changes_one_line_and_keeps_every_comment(tmp_path):
    config = tmp_path / "example.yml"
    shutil.copy(EXAMPLE, config)
    before = config.read_text()
    result = tuneup.rabi("qutip-1q-short-t1", config=config, seed=2, shots=512)
    assert result.ok, result.summary()
    outcome = result.write()
    assert outcome.written, outcome.message
    after = config.read_text()
    changed = _changed_lines(before, after)
    assert len(changed) == 2, changed  # only x's line: this device has no sx
    assert changed[0].startswith("-           x: {shape: drag, duration: 40, sigma: 10.0, amp: 0.5, beta: 0.0}")
    assert f"amp: {result.updates[0].new}" in changed[1]
    catalogue = load_catalogue(config)
    assert catalogue.get("qutip-1q-short-t1").qubit(0).drive.x.amp == result.updates[0].new
    assert catalogue.get("my-sim-2q") == load_catalogue(EXAMPLE).get("my-sim-2q")


def test_four_space_files_stay_four_space():
    text = "devices:\n    -   name: x\n        base: qutip-1q\n        qubits:\n            0:\n" \
           "                t1: 2.0e-5\n"
    out = edit_text(text, "x", [Update(0, ("drive", "x", "amp"), 0.47, 0.46)])
    assert out.startswith(text.rstrip("\n"))
    assert yaml.safe_load(out)["devices"][0]["qubits"][0] == {"t1": 2.0e-5, "drive": {"x": {"amp": 0.46}}}


def test_written_floats_read_back_as_floats_with_pyyaml():
    out = edit_text("", "qutip-1q", [Update(0, ("readout", "discriminator"), None,
                                            {"kind": "linear", "weights": [1e-05, -2.5e-07], "offset": 1e20}),
                                     Update(0, ("drive", "frequency"), None, 4800001234.0)])
    entry = yaml.safe_load(out)["devices"][0]
    assert entry["qubits"][0]["readout"]["discriminator"] == {"kind": "linear", "weights": [1e-05, -2.5e-07],
                                                              "offset": 1e20}
    assert entry["qubits"][0]["drive"]["frequency"] == 4800001234.0
    assert "discriminator: {kind: linear" in out  # one readable line


def test_a_value_shared_through_a_yaml_anchor_is_not_written(tmp_path):
    config = tmp_path / "shared.yml"
    text = """devices:
  - name: a
    base: qutip-1q
    qubits:
      0:
        drive: &drive {x: {amp: 0.4}}
  - name: b
    base: qutip-1q
    qubits:
      0:
        drive: *drive
"""
    config.write_text(text)
    result = tuneup.rabi("a", config=config, seed=3, shots=256)
    assert result.ok
    outcome = result.write()
    assert not outcome.written
    assert "also change device 'b'" in outcome.message
    assert config.read_text() == text


def test_an_edit_that_would_not_load_is_refused(tmp_path):
    config = tmp_path / "lab.yml"
    config.write_text("devices: []\n")
    result = tuneup.rabi("qutip-1q", seed=3, shots=256)
    bogus = type(result)(result.routine, result.device.model_copy(update={"name": "not-a-device"}), result.qubit,
                         result.dataset, result.updates, result.quality)
    outcome = bogus.write(config)
    assert not outcome.written
    assert "base device 'not-a-device' is not defined" in outcome.message
    assert config.read_text() == "devices: []\n"


def test_values_beyond_the_models_bounds_are_refused(tmp_path):
    config = tmp_path / "lab.yml"
    config.write_text("")
    result = tuneup.rabi("qutip-1q", seed=3, shots=256)
    wild = [Update(0, ("drive", "x", "amp"), result.updates[0].old, 1.7)]
    outcome = type(result)(result.routine, result.device, 0, result.dataset, wild, result.quality).write(config)
    assert not outcome.written
    assert "valid device" in outcome.message or "would not load" in outcome.message
    assert config.read_text() == ""


@pytest.mark.parametrize("routine", ["t1"])
def test_measure_only_routines_write_nothing(tmp_path, routine):
    config = tmp_path / "lab.yml"
    config.write_text("")
    result = tuneup.ROUTINES[routine].function("qutip-1q", seed=1, shots=256)
    outcome = result.write(config)
    assert not outcome.written and "measures physics" in outcome.message
    assert config.read_text() == "" and not tuneup.history(config)


def _hold_in_another_process(lock: Path) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from workbench.tuneup.writeback import _locked
        with _locked(Path({str(lock)!r})):
            print("held", flush=True)
            sys.stdin.readline()
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _let_go(holder: subprocess.Popen) -> None:
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.wait(timeout=30) == 0


def test_a_writer_waits_for_another_process_then_gives_up_in_one_line(tmp_path, monkeypatch):
    """The write-back lock excludes other processes; a bounded wait ends in one line and writes nothing."""
    config = tmp_path / "lab.yml"
    config.write_text("")
    result = tuneup.rabi("qutip-1q", seed=3, shots=256)
    assert result.ok
    history = writeback.history_folder(config)
    history.mkdir()
    holder = _hold_in_another_process(history / ".lock")
    try:
        monkeypatch.setattr(writeback, "LOCK_TIMEOUT", 0.3)
        with pytest.raises(WorkbenchError) as info:
            result.write(config)
        assert str(info.value) == ("another write-back to this config file is in progress "
                                   f"(lock {history / '.lock'}, waited 0.3 s); nothing written")
        assert config.read_text() == "" and not tuneup.history(config)
    finally:
        _let_go(holder)
    outcome = result.write(config)  # free again once the other process let go
    assert outcome.written and outcome.version == 1, outcome.message


def test_the_write_back_lock_excludes_other_threads(tmp_path):
    lock = tmp_path / ".lock"
    order: list[str] = []
    with writeback._locked(lock):
        with pytest.raises(WorkbenchError, match="another write-back to this config file is in progress"), \
                writeback._locked(lock, timeout=0.1):
            pass

        def second() -> None:
            with writeback._locked(lock, timeout=10):
                order.append("second")

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        order.append("first done")
    thread.join(timeout=10)
    assert order == ["first done", "second"]


def test_a_symlinked_config_is_written_through_the_link(tmp_path):
    """Before: ``os.replace`` put a copy where the link was, and the shared file never changed."""
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "devices.yml"
    shutil.copy(EXAMPLE, target)
    home = tmp_path / "home"
    home.mkdir()
    link = home / "devices.yml"
    link.symlink_to(Path("..") / "shared" / "devices.yml")
    before = target.read_text()
    result = tuneup.rabi("qutip-1q-short-t1", config=link, seed=2, shots=512)
    outcome = result.write()
    assert outcome.written, outcome.message
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert target.read_text() != before
    assert load_catalogue(target).get("qutip-1q-short-t1").qubit(0).drive.x.amp == result.updates[0].new
    assert sorted(p.name for p in home.iterdir()) == ["devices.yml"]  # no history, no copy beside the link
    assert [v.version for v in writeback.history(link)] == [1] == [v.version for v in writeback.history(target)]
