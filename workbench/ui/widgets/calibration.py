"""Calibration panel: run a tune-up routine on the selected device, look at the fit, then write it.

A view over :class:`workbench.ui.tuneup.Tuneup`, which does the work through the workbench's run
queue. Measuring never writes: it shows the figure, the summary (values, uncertainties, the verdict)
and the diff the config file would get. Writing is a second, explicit click, enabled only when the
fit passed its quality rules and the workbench has a config file (``Workbench(config=...)`` or
``WORKBENCH_CONFIG``). After a write the catalogue is reloaded from the file, so the device picker
and the next runs use the new calibration. The routine's runs join the results history, where they
can be viewed and exported like any run. *Cancel* stops a queued or running routine (or write);
messages go to widgets, never to stdout.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from workbench.ui.runner import RunRecord
from workbench.ui.tuneup import Notice, Tuneup
from workbench.ui.widgets._common import FigureView, Guard, error_html, note_html, styled


def _pre(text: str) -> str:
    return f"<pre style='font-size:12px;margin:0.3em 0;white-space:pre-wrap'>{html.escape(text)}</pre>" if text else ""


def _notice_html(notice: Notice) -> str:
    return error_html(notice.problems, prefix=notice.text) if notice.is_error else note_html(notice.text)


class CalibrationPanel(widgets.VBox):
    """CSS classes: ``wb-calibration`` (this box), ``wb-calibration-device``, ``wb-calibration-routine``,
    ``wb-calibration-qubit``, ``wb-calibration-shots``, ``wb-calibration-seed``, ``wb-calibration-measure``,
    ``wb-calibration-cancel``, ``wb-calibration-status``, ``wb-calibration-figure`` (also ``wb-figure``),
    ``wb-calibration-summary``, ``wb-calibration-diff``, ``wb-calibration-config``,
    ``wb-calibration-config-use``, ``wb-calibration-write``, ``wb-calibration-message``."""

    def __init__(self, tuneup: Tuneup) -> None:
        from workbench.tuneup import ROUTINES

        self.tuneup = tuneup
        self._guard = Guard()
        self._shown = None  # the CalibrationResult on display
        self._shown_config = tuneup.config
        self.routine = styled(widgets.Dropdown(options=[(f"{k}: {r.writes}", k) for k, r in ROUTINES.items()],
                                               value=tuneup.routine, description="Routine",
                                               layout=widgets.Layout(width="460px")), "wb-calibration-routine")
        self.qubit = styled(widgets.Dropdown(description="Qubit", layout=widgets.Layout(width="160px")),
                            "wb-calibration-qubit")
        self.device = styled(widgets.HTML(), "wb-calibration-device")
        self.shots = styled(widgets.Text(description="Shots", placeholder=tuneup.shots_placeholder,
                                         tooltip="shots per experiment; empty: the routine's default",
                                         layout=widgets.Layout(width="200px")), "wb-calibration-shots")
        self.seed = styled(widgets.Text(description="Seed", placeholder="random",
                                        layout=widgets.Layout(width="180px")), "wb-calibration-seed")
        self.measure_button = styled(widgets.Button(description="Measure", icon="flask", button_style="primary",
                                                    tooltip="run the routine and fit; writes nothing"),
                                     "wb-calibration-measure")
        self.cancel_button = styled(widgets.Button(description="Cancel", icon="stop",
                                                   tooltip="cancel the queued or running routine or write"),
                                    "wb-calibration-cancel")
        self.write_button = styled(widgets.Button(description="Write to config", icon="save", disabled=True,
                                                  tooltip="write the proposed calibration as a new version"),
                                   "wb-calibration-write")
        self.config = styled(widgets.Text(description="Config file", value=tuneup.config or "",
                                          placeholder="the YAML file calibrations are written to, e.g. lab.yml",
                                          layout=widgets.Layout(width="460px")), "wb-calibration-config")
        self.config_use = styled(widgets.Button(description="Use", icon="file",
                                                tooltip="write calibrations into this file (its devices are loaded)"),
                                 "wb-calibration-config-use")
        self.status = styled(widgets.HTML(), "wb-calibration-status")
        self.figure = FigureView("wb-calibration-figure", "measure to see the data and the fit")
        self.summary = styled(widgets.HTML(), "wb-calibration-summary")
        self.diff = styled(widgets.HTML(), "wb-calibration-diff")
        self.message = styled(widgets.HTML(), "wb-calibration-message")
        super().__init__([
            self.device,
            widgets.HBox([self.routine, self.qubit], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.shots, self.seed, self.measure_button, self.cancel_button],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.status, self.figure, self.summary, self.diff,
            widgets.HBox([self.config, self.config_use, self.write_button],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.message,
        ])
        styled(self, "wb-calibration")
        for name in ("routine", "qubit", "shots", "seed"):
            getattr(self, name).observe(self._on_field(name), names="value")
        self.measure_button.on_click(lambda _: self.measure())
        self.cancel_button.on_click(lambda _: self.tuneup.cancel())
        self.write_button.on_click(lambda _: self.write())
        self.config_use.on_click(lambda _: self.tuneup.set_config(self.config.value))
        tuneup.observers.append(self._on_tuneup)
        self._refresh_form()
        self._refresh_state()

    @property
    def result(self):
        """The last measurement (a :class:`~workbench.tuneup.base.CalibrationResult`), or None."""
        return self.tuneup.result

    # -- widgets -> state -----------------------------------------------------------------------
    def _on_field(self, name: str):
        def changed(change: dict) -> None:
            if not self._guard.active:
                self.tuneup.set(**{name: change["new"]})
        return changed

    def measure(self, wait: bool = False) -> RunRecord | None:
        """What Measure does: the queued record (``wait``: until it has finished), or None when refused."""
        outcome = self.tuneup.measure()
        if isinstance(outcome, list):
            return None
        if wait:
            outcome.wait()
        return outcome

    def write(self, wait: bool = False) -> RunRecord | None:
        """What Write does: the queued record (``wait``: until it has finished), or None when refused."""
        outcome = self.tuneup.write()
        if isinstance(outcome, list):
            return None
        if wait:
            outcome.wait()
        return outcome

    # -- state -> widgets -----------------------------------------------------------------------
    def _on_tuneup(self, event: str) -> None:
        if event == "form":
            self._refresh_form()
        self._refresh_state()

    def _refresh_form(self) -> None:
        t = self.tuneup
        with self._guard():
            self.qubit.options = [(str(i), i) for i in t.qubits()]
            self.qubit.value = t.qubit
            self.routine.value = t.routine
            self.shots.value = "" if t.shots is None else str(t.shots)
            self.seed.value = "" if t.seed is None else str(t.seed)
        self.shots.placeholder = t.shots_placeholder
        device = t.session.device
        self.device.value = (f"<b>{html.escape(device.name)}</b> ({device.qubit_count} qubit"
                             f"{'s' if device.qubit_count != 1 else ''}): the device selected above")
        self.measure_button.disabled = bool(t.device_note)

    def _refresh_state(self) -> None:
        t = self.tuneup
        self.status.value = note_html(t.device_note) if t.device_note else _notice_html(t.status)
        self.message.value = _notice_html(t.message)
        self.write_button.disabled = not t.can_write
        self.write_button.tooltip = "; ".join(p.text for p in t.write_problems()) or \
            f"write the proposed calibration into {t.config} as a new version"
        if t.config != self._shown_config:  # a file chosen or written: show it (never undo what is being typed)
            self._shown_config = t.config
            self.config.value = t.config or ""
        if t.result is not self._shown:  # a new measurement: its figure, summary and diff
            self._shown = t.result
            self.figure.show(t.result.figure if t.result is not None else None)
            self.summary.value = _pre(t.result.summary()) if t.result is not None else ""
        if t.preview_problem is not None:
            self.diff.value = error_html([t.preview_problem], prefix="Cannot prepare the change:")
        else:
            self.diff.value = _pre(t.preview.diff) if t.preview is not None else ""
