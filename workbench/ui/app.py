"""``Workbench()``: the whole interactive workbench as one widget for JupyterLab.

::

    from workbench import Workbench
    wb = Workbench()                 # shows itself as the cell's output
    wb.session, wb.runner, wb.tuneup # the plain-Python state behind it, scriptable

Widget tree (top to bottom), with the stable CSS classes browser tests select by:

==========================  ==================================================================================
``wb-app``                  the Workbench itself (a VBox); its panels follow the work, each under a heading
                            (``wb-<panel>-heading``): Device, Job, Schedule, Options, Run, Results, Export,
                            Calibration
``wb-device-picker``        ``wb-device-select`` (Dropdown), ``wb-device-info`` (HTML, with
                            ``wb-calibration-table`` tables)
``wb-job-source``           ``wb-job-example``, ``wb-job-path``, ``wb-job-load``, ``wb-job-upload``, ``wb-job-text``,
                            ``wb-job-info``, ``wb-job-error``
``wb-schedule``             ``wb-schedule-experiment``, ``wb-schedule-channels`` (``wb-schedule-channel``
                            checkboxes), ``wb-schedule-figure`` (also ``wb-figure``), ``wb-schedule-message``
``wb-options``              one ``wb-option wb-option-<name>`` row per OptionSpec (``wb-option-control``,
                            ``wb-option-feedback``, plus ``wb-option-error`` when invalid), ``wb-options-reset``,
                            ``wb-options-message``, ``wb-credentials`` (only for executors that need credentials:
                            ``wb-credential wb-credential-<name>`` Password fields)
``wb-run-panel``            ``wb-run-button``, ``wb-cancel-button``, ``wb-queue``, ``wb-status``, ``wb-validation``,
                            ``wb-run-error``, ``wb-runs`` (rows ``wb-run``: ``wb-run-progress``, ``wb-run-state``)
``wb-job-source``           ``wb-job-example``, ``wb-job-path``, ``wb-job-load``, ``wb-job-upload``, ``wb-job-text``,
                            ``wb-job-info``, ``wb-job-error``
``wb-schedule``             ``wb-schedule-experiment``, ``wb-schedule-sweep``, ``wb-schedule-overlay``,
                            ``wb-schedule-diff``, ``wb-schedule-compare``, ``wb-schedule-channels``
                            (``wb-schedule-channel`` checkboxes), ``wb-schedule-mode``, ``wb-schedule-scale``,
                            ``wb-schedule-fold``, ``wb-schedule-reset``, ``wb-schedule-status``, ``wb-schedule-figure``
                            (also ``wb-figure``), ``wb-schedule-message``, ``wb-schedule-bridge``; the event table
                            ``wb-events`` (``wb-events-channel``, ``wb-events-kind``, ``wb-events-from``,
                            ``wb-events-to``, ``wb-events-flagged``, ``wb-events-prev``, ``wb-events-next``,
                            ``wb-events-page``, ``wb-events-table`` with rows ``wb-event-row``)
``wb-results``              ``wb-result-select``, ``wb-result-experiment``, ``wb-result-summary``, ``wb-histogram``
                            (counts, with a Counts/Probability toggle), ``wb-sweep``, ``wb-iq`` (figures, each also
                            ``wb-figure``), ``wb-dataset``, ``wb-artifacts`` (one ``wb-artifact`` per compiled file)
``wb-datadir``              the data directory: ``wb-datadir-path``, ``wb-datadir-use``, ``wb-datadir-runs``,
                            ``wb-datadir-refresh``, ``wb-datadir-load``, ``wb-datadir-status``
``wb-export``               ``wb-export-path``, ``wb-export-zip``, ``wb-export-button``, ``wb-export-download`` (a
                            ``wb-download-link`` to the zip), ``wb-import-path``, ``wb-import-button``,
                            ``wb-import-upload``, ``wb-export-status``
``wb-calibration``          tune-up: ``wb-calibration-device``, ``wb-calibration-routine``, ``wb-calibration-qubit``,
                            ``wb-calibration-shots``, ``wb-calibration-measure``, ``wb-calibration-cancel``,
                            ``wb-calibration-figure``, ``wb-calibration-diff``, ``wb-calibration-config``,
                            ``wb-calibration-config-use``, ``wb-calibration-write`` (see
                            :mod:`workbench.ui.widgets.calibration`)
==========================  ==================================================================================

Figures are plotly figures shown in ``Output`` widgets (the ``wb-figure`` boxes); each view keeps
its figure object as ``.figure``. Panels are stacked, not tabbed, so no figure is ever drawn into a
hidden container (plotly sizes itself when drawn). All messages go to widgets, none to stdout,
which JupyterLab drops for output printed from callbacks.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from workbench.devices.catalogue import Catalogue
from workbench.ui.runner import Runner
from workbench.ui.session import Session
from workbench.ui.tuneup import Tuneup
from workbench.ui.widgets import (
    DevicePicker,
    ExportPanel,
    JobSourcePanel,
    OptionsForm,
    ResultsPanel,
    RunPanel,
    ScheduleView,
)
from workbench.ui.widgets._common import styled
from workbench.ui.widgets.calibration import CalibrationPanel
from workbench.ui.widgets.datadir_panel import DatadirPanel

log = logging.getLogger("workbench.ui")

_STYLE = """<style>
.wb-app .wb-job-text textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.wb-app .wb-calibration-table { border-collapse: collapse; margin: 0.4em 0; font-size: 12px; }
.wb-app .wb-calibration-table th, .wb-app .wb-calibration-table td { border: 1px solid #ddd; padding: 2px 6px; }
.wb-app .wb-section { border-top: 1px solid #ddd; padding-top: 4px; margin-top: 8px; }
</style>"""


def _section(title: str, css_class: str) -> widgets.HTML:
    return styled(widgets.HTML(f"<h3 style='margin:0.3em 0'>{title}</h3>"), "wb-section", css_class)


class Workbench(widgets.VBox):
    """Device, job, schedule, options, run, results, export/import and calibration, over one Session and Runner.

    ``job`` is an example name, a path or job text to start with; ``device`` a catalogue name;
    ``datadir`` a data directory to keep every run in (default ``$WORKBENCH_DATADIR``; none: runs are
    kept in the session only).
    See the module docstring for the widget tree and its CSS classes.
    """

    def __init__(self, job: str | None = "x-gate", *, device: str | None = None,
                 config: str | os.PathLike[str] | None = None, catalogue: Catalogue | None = None,
                 datadir: str | os.PathLike[str] | None = None, session: Session | None = None,
                 runner: Runner | None = None) -> None:
        self.session = session or Session(catalogue, config=config, device=device, datadir=datadir)
        self.runner = runner or Runner()
        self.session.follow(self.runner)
        if job is not None and self.session.source is None:
            self._load_initial_job(job)
        self.devices = DevicePicker(self.session)
        self.options = OptionsForm(self.session)
        self.run_panel = RunPanel(self.session, self.runner, before_run=self.options.consume_credentials)
        self.job = JobSourcePanel(self.session)
        self.schedule = ScheduleView(self.session)
        self.results = ResultsPanel(self.session)
        self.datadir = DatadirPanel(self.session)
        self.transfer = ExportPanel(self.session)
        self.tuneup = Tuneup(self.session, self.runner)
        self.calibration = CalibrationPanel(self.tuneup)
        # In the order of the work: what to run it on, what to run, what it plays, how, run, look, share, tune.
        super().__init__([
            widgets.HTML(_STYLE),
            widgets.HTML("<h2 style='margin:0.2em 0'>Quantum Executor Workbench</h2>"),
            _section("Device", "wb-device-heading"), self.devices,
            _section("Job", "wb-job-heading"), self.job,
            _section("Schedule", "wb-schedule-heading"), self.schedule,
            _section("Options", "wb-options-heading"), self.options,
            _section("Run", "wb-run-heading"), self.run_panel,
            _section("Results", "wb-results-heading"), self.results, self.datadir,
            _section("Export / import", "wb-export-heading"), self.transfer,
            _section("Calibration", "wb-calibration-heading"), self.calibration,
        ])
        styled(self, "wb-app")

    def _load_initial_job(self, job: str) -> None:
        from workbench.jobs.loader import source_kind

        kind = source_kind(job)
        if kind in ("example", "example-file"):
            self.session.set_example(job)
        elif kind == "path" and Path(job).expanduser().exists():
            self.session.set_job_path(job)
        else:
            self.session.set_job_text(job)

    def run(self) -> Any:
        """Press Run: the queued RunRecord, or None with the reasons shown in the run panel."""
        return self.run_panel.run()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for queued runs to finish (bounded by ``timeout`` seconds)."""
        return self.runner.wait(timeout)

    def close(self) -> None:
        """Stop the runner and close every widget."""
        self.runner.close(timeout=5)
        super().close()
        for child in self._all_children(self):
            child.close()

    @staticmethod
    def _all_children(widget: widgets.Widget) -> list[widgets.Widget]:
        found = []
        for child in getattr(widget, "children", ()):
            found.append(child)
            found.extend(Workbench._all_children(child))
        return found
