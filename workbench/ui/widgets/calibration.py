"""Calibration panel: run a tune-up routine on the selected device, look at the fit, then write it.

Measuring never writes: it shows the figure, the summary (values, uncertainties, the verdict) and
the diff the config file would get. Writing is a second, explicit click, enabled only when the fit
passed its quality rules and the workbench has a config file (``Workbench(config=...)`` or
``WORKBENCH_CONFIG``). After a write the catalogue is reloaded from the file, so the device picker
and the next runs use the new calibration. The routine's runs join the results history, where they
can be viewed and exported like any run.

Routines run on a background thread (a Rabi sweep on the Qblox twin takes a few seconds), and all
messages go to widgets, never to stdout.
"""

from __future__ import annotations

import html
import logging
import threading

import ipywidgets as widgets

from workbench.executors.registry import load_catalogue
from workbench.ui.session import Problem, Session
from workbench.ui.widgets._common import FigureView, error_html, note_html, styled

log = logging.getLogger("workbench.ui")


def _pre(text: str) -> str:
    return f"<pre style='font-size:12px;margin:0.3em 0;white-space:pre-wrap'>{html.escape(text)}</pre>" if text else ""


class CalibrationPanel(widgets.VBox):
    """CSS classes: ``wb-calibration`` (this box), ``wb-calibration-routine``, ``wb-calibration-qubit``,
    ``wb-calibration-shots``, ``wb-calibration-seed``, ``wb-calibration-measure``, ``wb-calibration-status``,
    ``wb-calibration-figure`` (also ``wb-figure``), ``wb-calibration-summary``, ``wb-calibration-diff``,
    ``wb-calibration-write``, ``wb-calibration-message``."""

    def __init__(self, session: Session) -> None:
        from workbench.tuneup import ROUTINES

        self.session = session
        self.result = None  # the last CalibrationResult
        self._thread: threading.Thread | None = None
        self.routine = styled(widgets.Dropdown(options=[(f"{k}: {r.writes}", k) for k, r in ROUTINES.items()],
                                               value="rabi", description="Routine",
                                               layout=widgets.Layout(width="460px")), "wb-calibration-routine")
        self.qubit = styled(widgets.Dropdown(description="Qubit", layout=widgets.Layout(width="160px")),
                            "wb-calibration-qubit")
        self.shots = styled(widgets.IntText(value=0, description="Shots", tooltip="0: the routine's default",
                                            layout=widgets.Layout(width="180px")), "wb-calibration-shots")
        self.seed = styled(widgets.Text(description="Seed", placeholder="random",
                                        layout=widgets.Layout(width="180px")), "wb-calibration-seed")
        self.measure_button = styled(widgets.Button(description="Measure", icon="flask", button_style="primary",
                                                    tooltip="run the routine and fit; writes nothing"),
                                     "wb-calibration-measure")
        self.write_button = styled(widgets.Button(description="Write to config", icon="save", disabled=True,
                                                  tooltip="write the proposed calibration as a new version"),
                                   "wb-calibration-write")
        self.status = styled(widgets.HTML(), "wb-calibration-status")
        self.figure = FigureView("wb-calibration-figure", "measure to see the data and the fit")
        self.summary = styled(widgets.HTML(), "wb-calibration-summary")
        self.diff = styled(widgets.HTML(), "wb-calibration-diff")
        self.message = styled(widgets.HTML(), "wb-calibration-message")
        super().__init__([
            widgets.HBox([self.routine, self.qubit], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.shots, self.seed, self.measure_button, self.write_button],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.status, self.figure, self.summary, self.diff, self.message,
        ])
        styled(self, "wb-calibration")
        self.measure_button.on_click(lambda _: self.measure())
        self.write_button.on_click(lambda _: self.write())
        session.observers.append(self._on_session)
        self._refresh_qubits()

    # -- state ----------------------------------------------------------------------------------
    @property
    def config(self) -> str | None:
        return self.session.catalogue.config_path

    def _refresh_qubits(self) -> None:
        device = self.session.device
        indices = [q.index for q in device.qubits]
        current = self.qubit.value
        self.qubit.options = [(str(i), i) for i in indices]
        self.qubit.value = current if current in indices else (indices[0] if indices else None)
        self.measure_button.disabled = not device.is_pulse_device
        self.status.value = "" if device.is_pulse_device else note_html(
            f"{device.name} is a gate-level device: tune-up needs a pulse device")

    def _on_session(self, event: str) -> None:
        if event == "device":
            self._refresh_qubits()

    # -- actions --------------------------------------------------------------------------------
    def measure(self, wait: bool = False) -> threading.Thread | None:
        """What Measure does: run the routine on a background thread (``wait``: until it is done)."""
        if self._thread is not None and self._thread.is_alive():
            self.status.value = note_html("a routine is already running")
            return None
        seed_text = self.seed.value.strip()
        try:
            seed = int(seed_text) if seed_text else None
        except ValueError:
            self.status.value = error_html([f"seed must be an integer, got {seed_text!r}"])
            return None
        kwargs = {"qubit": self.qubit.value, "seed": seed, "config": self.config}
        if self.shots.value:
            kwargs["shots"] = int(self.shots.value)
        name, device = self.routine.value, self.session.device
        self.result = None
        self.write_button.disabled = True
        self.message.value = ""
        self.status.value = note_html(f"running {name} on {device.name} ...")
        self._thread = threading.Thread(target=self._run, args=(name, device, kwargs), daemon=True,
                                        name="workbench-calibration")
        self._thread.start()
        if wait:
            self._thread.join()
        return self._thread

    def _run(self, name: str, device: object, kwargs: dict) -> None:
        from workbench.tuneup import ROUTINES

        try:
            result = ROUTINES[name].function(device, **kwargs)
        except Exception as exc:  # one line in the panel, never a traceback
            self.status.value = error_html([Problem.from_error(exc, "run")], prefix=f"{name} failed:")
            return
        self.result = result
        for run in result.runs:
            self.session.add_result(run)
        self.figure.show(result.figure)
        self.summary.value = _pre(result.summary())
        self._preview()
        self.status.value = note_html(f"{name} done: " + ("fit ok" if result.ok else "fit rejected, nothing to write"))

    def _preview(self) -> None:
        """The diff the config file would get (a dry run), and whether Write is possible."""
        result = self.result
        if result is None or not result.updates:
            self.diff.value = ""
            return
        try:
            outcome = result.write(self.config, dry_run=True)
        except Exception as exc:
            self.diff.value = error_html([Problem.from_error(exc, "device")], prefix="Cannot prepare the change:")
            return
        self.diff.value = _pre(outcome.diff)
        if not result.ok or outcome.reasons:
            self.message.value = error_html(outcome.reasons or list(result.quality.reasons), prefix="Not writable:")
        elif self.config is None:
            self.message.value = note_html("no config file: start Workbench(config='lab.yml') or set "
                                           "WORKBENCH_CONFIG to write calibrations")
        else:
            self.write_button.disabled = False

    def write(self) -> None:
        """What Write does: a new version of the config file, then the catalogue reloaded from it."""
        result = self.result
        if result is None:
            self.message.value = error_html(["measure first"])
            return
        try:
            outcome = result.write(self.config)
        except Exception as exc:
            self.message.value = error_html([Problem.from_error(exc, "device")], prefix="Write failed:")
            return
        if not outcome.written:
            self.message.value = error_html(outcome.reasons, prefix="Not written:")
            return
        self.write_button.disabled = True
        self.message.value = note_html(outcome.message)
        self.session.reload_catalogue(load_catalogue(self.config))
