"""Run panel: validate and queue runs, follow their progress, cancel them.

Run is :meth:`Session.submit_run <workbench.ui.session.Session.submit_run>`: it validates everything
first (the core's ``prepare``, as the CLI does), checks the credentials and queues the run, or returns
the problems, which this panel lists; nothing reaches the executor that would fail on input.
Runs queue in order on the session's :class:`~workbench.ui.runner.Runner`; each has a progress bar
counting its experiments. A failed run shows its one-line error here and changes nothing else:
the results panel keeps the earlier results.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets

from workbench.ui.runner import CANCELLED, DONE, FAILED, Runner, RunRecord
from workbench.ui.session import Problem, Session
from workbench.ui.widgets._common import ERROR_COLOUR, error_html, note_html, styled

MAX_ROWS = 8  # runs listed; older ones are in the results history
_BAR_STYLE = {DONE: "success", FAILED: "danger", CANCELLED: "warning"}


class RunRow(widgets.HBox):
    """One run: label, a progress bar over its experiments, its state."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self.label = widgets.HTML(f"<code>#{record.id}</code> {html.escape(record.label)}",
                                  layout=widgets.Layout(width="300px"))
        self.bar = styled(widgets.IntProgress(value=0, min=0, max=max(record.total, 1),
                                              layout=widgets.Layout(width="220px")), "wb-run-progress")
        self.state = styled(widgets.HTML(), "wb-run-state")
        super().__init__([self.label, self.bar, self.state])
        styled(self, "wb-run")
        self.update()

    def update(self) -> None:
        r = self.record
        self.bar.max = max(r.total, 1)
        self.bar.value = min(r.done, self.bar.max)
        self.bar.bar_style = _BAR_STYLE.get(r.state, "info")
        text = f"{r.done}/{r.total} experiments" if r.state == "running" else r.state
        if r.state == FAILED:
            self.state.value = f"<span style='color:{ERROR_COLOUR}'>failed</span>"
        else:
            self.state.value = note_html(text)


class RunPanel(widgets.VBox):
    """CSS classes: ``wb-run-panel`` (this box), ``wb-run-button``, ``wb-cancel-button``, ``wb-status``,
    ``wb-queue``, ``wb-validation`` (why a run was refused), ``wb-run-error`` (the last failure),
    ``wb-runs`` (rows ``wb-run`` with a ``wb-run-progress`` bar and a ``wb-run-state``)."""

    def __init__(self, session: Session, runner: Runner,
                 before_run: Callable[[], None] | None = None) -> None:
        self.session = session
        self.runner = runner
        self.before_run = before_run  # e.g. the options form moving typed credentials into the session
        self.rows: dict[int, RunRow] = {}
        self.run_button = styled(widgets.Button(description="Run", icon="play", button_style="primary",
                                                tooltip="validate, then queue a run"), "wb-run-button")
        self.cancel_button = styled(widgets.Button(description="Cancel", icon="stop",
                                                   tooltip="cancel the running run and the queued ones"),
                                    "wb-cancel-button")
        self.parallel = styled(widgets.Checkbox(value=False, description="parallel (Dask)", indent=False,
                                                tooltip="spread the experiments over Dask workers (a local "
                                                "cluster, or $WORKBENCH_DASK_SCHEDULER); same results"),
                               "wb-run-parallel")
        self.status = styled(widgets.HTML(note_html("idle")), "wb-status")
        self.queue = styled(widgets.HTML(), "wb-queue")
        self.validation = styled(widgets.HTML(), "wb-validation")
        self.error = styled(widgets.HTML(), "wb-run-error")
        self.runs = styled(widgets.VBox(), "wb-runs")
        super().__init__([widgets.HBox([self.run_button, self.cancel_button, self.parallel, self.queue]), self.status,
                          self.validation, self.error, self.runs])
        styled(self, "wb-run-panel")
        self.run_button.on_click(self._on_run)
        self.cancel_button.on_click(self._on_cancel)
        runner.observers.append(self._on_runner)
        session.observers.append(self._on_session)
        self._refresh_blocked()
        self._refresh_status()

    # -- actions --------------------------------------------------------------------------------
    def run(self) -> RunRecord | None:
        """What the Run button does (:meth:`Session.submit_run`): the queued record, or None with the
        reasons shown."""
        if self.before_run is not None:
            self.before_run()
        outcome = self.session.submit_run(self.runner, parallel=True if self.parallel.value else None)
        if isinstance(outcome, list):
            self._blocked(outcome)
            return None
        self.validation.value = ""
        return outcome

    def _on_run(self, _: widgets.Button) -> None:
        try:
            self.run()
        except Exception as exc:  # anything unexpected is still one line in the panel
            self._blocked([Problem.from_error(exc)])

    def _on_cancel(self, _: widgets.Button) -> None:
        if not self.runner.cancel_all():
            self.status.value = note_html("nothing to cancel")

    def _blocked(self, problems: list[Problem]) -> None:
        self.validation.value = error_html(problems, prefix="Run blocked:")

    # -- updates --------------------------------------------------------------------------------
    def _refresh_blocked(self) -> None:
        errors = self.session.option_errors()
        self.run_button.disabled = bool(errors)
        if errors:
            self._blocked([Problem("options", message, f"option '{name}'") for name, message in errors.items()])
        else:  # what blocked the last attempt may be fixed now; Run says again if not
            self.validation.value = ""

    def _refresh_status(self) -> None:
        self.status.value = note_html(self.runner.status)
        waiting = len(self.runner.queued)
        self.queue.value = note_html(f"{waiting} queued" if waiting else "")

    def _on_session(self, event: str) -> None:
        if event in ("options", "device", "job"):
            self._refresh_blocked()

    def _on_runner(self, record: RunRecord, event: str) -> None:
        row = self.rows.get(record.id)
        if row is None:
            row = self.rows[record.id] = RunRow(record)
            for old in sorted(self.rows)[:-MAX_ROWS]:
                self.rows.pop(old).close()
            self.runs.children = tuple(self.rows[i] for i in sorted(self.rows))
        row.update()
        if event == "finished":
            if record.state == FAILED:
                self.error.value = error_html([f"#{record.id} {record.label}: {record.error}"], prefix="Run failed:")
            elif record.state == DONE:
                self.error.value = ""
        self._refresh_status()
