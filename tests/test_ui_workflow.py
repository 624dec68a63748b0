"""The workbench in the order of the work: panel order, the data directory, the export's download link and
the calibration panel's config file, shots and device. Widgets without a browser (``.value``, ``.click()``),
every run a real simulation; waits are bounded, never sleeps.
"""

from __future__ import annotations

import base64
import html
import io
import re
import zipfile

import workbench
from workbench.results import datadir
from workbench.ui.app import Workbench
from workbench.ui.runner import DONE
from workbench.ui.transfer import download_href

JOIN = 120  # seconds: a bound on waiting for the runner, not a speed expectation
DRIFTED = ("devices:\n  - name: drifted\n    base: qutip-1q\n    qubits:\n      0:\n"
           "        drive:\n          x: {amp: 0.39}\n")


def _run(app: Workbench, shots: str = "64", seed: str = "1") -> None:
    app.options.rows["shots"].control.value = shots
    app.options.rows["seed"].control.value = seed
    app.run_panel.run_button.click()
    assert app.wait(JOIN)


def test_the_panels_follow_the_work(make_app):
    app = make_app()
    headings = [c for w in app.children for c in w._dom_classes if c.endswith("-heading")]
    assert headings == ["wb-device-heading", "wb-job-heading", "wb-schedule-heading", "wb-options-heading",
                        "wb-run-heading", "wb-results-heading", "wb-export-heading", "wb-calibration-heading"]
    order = [app.children.index(panel) for panel in (app.devices, app.job, app.schedule, app.options,
                                                     app.run_panel, app.results, app.datadir, app.transfer,
                                                     app.calibration)]
    assert order == sorted(order)


# ------------------------------------------------------------------------------------------- data directory


def test_runs_are_kept_in_the_data_directory_and_browsed_back(make_app, tmp_path):
    root = tmp_path / "lab-data"
    app = make_app(datadir=root)
    _run(app)
    mine = app.session.selected_result
    [entry] = datadir.entries(root)
    assert entry.tuid == mine.tuid and entry.folder == datadir.find(mine.tuid, root)
    assert app.datadir.runs.options[0][1] == mine.tuid and "kept" in app.datadir.status.value

    # a colleague keeps a run there too: Refresh lists it (newest first), Load adds it to the results
    theirs = workbench.run("bell", device="qutip-2q", shots=50, seed=2)
    theirs.to_datadir(root)
    app.datadir.refresh_button.click()
    assert [v for _, v in app.datadir.runs.options] == [theirs.tuid, mine.tuid]
    app.datadir.runs.value = theirs.tuid
    app.datadir.load_button.click()
    assert app.session.selected_result == theirs and len(app.session.results) == 2
    assert theirs.tuid in app.results.select.label
    assert len(datadir.entries(root)) == 2  # a loaded run is not kept a second time


def test_a_data_directory_typed_in_the_panel_and_one_that_cannot_be_written(make_app, tmp_path):
    app = make_app()
    assert "no data directory" in app.datadir.status.value
    blocked = tmp_path / "file"
    blocked.write_text("a file, not a folder")
    app.datadir.path.value = str(blocked / "data")
    app.datadir.use.click()
    _run(app)
    assert app.session.selected_result is not None  # the run is in the history all the same
    assert "The last run was not kept there" in app.datadir.status.value
    assert "cannot create the data directory" in app.datadir.status.value

    app.datadir.path.value = str(tmp_path / "data")
    app.datadir.use.click()
    _run(app, seed="2")
    assert [e.tuid for e in datadir.entries(tmp_path / "data")] == [app.session.selected_result.tuid]


# -------------------------------------------------------------------------------------------------- export


def test_export_offers_the_zip_as_a_download_link(make_app, tmp_path):
    app = make_app()
    _run(app)
    app.transfer.folder.value = str(tmp_path / "x-out")
    assert app.transfer.archive.value is True  # the zip is what a browser on another machine can take away
    app.transfer.export_button.click()
    link = app.transfer.download.value
    match = re.search(r"href='data:application/zip;base64,([A-Za-z0-9+/=]+)' download='x-out.zip'", link)
    assert match, link
    content = base64.b64decode(match.group(1))
    assert content == (tmp_path / "x-out.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert {"x-out/dataset.nc", "x-out/report.html", "x-out/result-counts.json"} <= set(archive.namelist())
    assert download_href(tmp_path / "x-out.zip", max_bytes=100) is None  # too large for a link: none

    app.transfer.export_button.click()  # the same folder again: refused in the widget's words
    status = app.transfer.status.value
    assert "type another folder (results are never overwritten)" in status and "--out" not in status
    assert app.transfer.download.value == ""


# ---------------------------------------------------------------------------------------------- calibration


def test_calibration_shows_its_shots_follows_the_device_and_writes_to_a_file_chosen_in_the_panel(make_app,
                                                                                                 tmp_path):
    import inspect

    from workbench.tuneup import ROUTINES

    app = make_app()
    panel, tuneup = app.calibration, app.tuneup
    default = inspect.signature(ROUTINES["rabi"].function).parameters["shots"].default
    assert panel.shots.placeholder == f"{default} (rabi default)" and default >= 16
    panel.routine.value = "t1"
    assert panel.shots.placeholder.endswith("(t1 default)")
    panel.routine.value = "rabi"
    assert "qutip-1q" in panel.device.value
    app.devices.select.value = "qutip-2q"
    assert "qutip-2q" in panel.device.value and [v for _, v in panel.qubit.options] == [0, 1]
    app.devices.select.value = "qutip-1q"

    # no config file: the panel says how to give one, in its own words
    panel.seed.value, panel.shots.value = "5", "128"
    assert panel.measure(wait=True).state == DONE
    assert panel.write_button.disabled and "type one in 'Config file' and press Use" in html.unescape(
        panel.message.value)

    # a config file chosen in the panel: its devices load, and Write goes into it
    config = tmp_path / "lab.yml"
    config.write_text(DRIFTED)
    panel.config.value = str(config)
    panel.config_use.click()
    assert "drifted" in app.session.device_keys() and tuneup.config == str(config)
    app.devices.select.value = "drifted"
    assert panel.write_button.disabled  # the last measurement was of qutip-1q
    assert "measured on qutip-1q; select that device or measure drifted" in panel.write_button.tooltip
    assert panel.measure(wait=True).state == DONE
    assert not panel.write_button.disabled, panel.write_button.tooltip
    assert panel.write(wait=True).state == DONE
    assert "x: {amp: 0.39}" not in config.read_text() and "written to" in panel.message.value
    assert config.with_name("lab.yml.history").is_dir()

    panel.config.value = str(tmp_path / "no" / "such" / "lab.yml")
    panel.config_use.click()
    assert "no such folder for the config file" in panel.message.value and tuneup.config == str(config)
