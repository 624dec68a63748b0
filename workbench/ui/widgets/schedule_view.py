"""Schedule viewer: the job's pulses on the selected device, one experiment at a time.

The figure is :func:`workbench.views.schedule_figure.schedule_figure`, the same the CLI's ``show`` and
the report draw; this view only chooses the experiment and the channels.
"""

from __future__ import annotations

import ipywidgets as widgets

from workbench.ui.session import Session
from workbench.ui.widgets._common import FigureView, Guard, styled

MAX_DROPDOWN_EXPERIMENTS = 1000  # more: a number box (a list of 10 000 names helps nobody)


class ScheduleView(widgets.VBox):
    """CSS classes: ``wb-schedule`` (this box), ``wb-schedule-experiment``, ``wb-schedule-channels`` (with a
    ``wb-schedule-channel`` checkbox per channel), ``wb-schedule-figure``, ``wb-schedule-message``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._guard = Guard()
        self._names: list[str] = []
        self._channels: list[str] = []
        self.experiment = styled(widgets.Dropdown(description="Experiment", layout=widgets.Layout(width="420px")),
                                 "wb-schedule-experiment")
        self.experiment_number = styled(widgets.BoundedIntText(description="Experiment", min=0, max=0,
                                                               layout=widgets.Layout(width="220px")),
                                        "wb-schedule-experiment")
        self.channel_boxes: dict[str, widgets.Checkbox] = {}
        self.channels = styled(widgets.HBox(layout=widgets.Layout(flex_flow="row wrap")), "wb-schedule-channels")
        self.view = FigureView("wb-schedule-figure")
        self.message = styled(self.view.message, "wb-schedule-message")
        super().__init__([widgets.HBox([self.experiment, self.experiment_number]), self.channels, self.view])
        styled(self, "wb-schedule")
        self.experiment.observe(self._on_experiment, names="value")
        self.experiment_number.observe(self._on_experiment, names="value")
        session.observers.append(self._on_session)
        self.refresh()

    @property
    def figure(self):
        return self.view.figure

    def refresh(self) -> None:
        session = self.session
        names = session.schedule_experiment_names()
        with self._guard():
            if names != self._names:
                self._names = names
                many = len(names) > MAX_DROPDOWN_EXPERIMENTS
                self.experiment.options = [] if many else [(f"{i}: {n}", i) for i, n in enumerate(names)]
                self.experiment.layout.display = "none" if many else None
                self.experiment_number.max = max(len(names) - 1, 0)
                self.experiment_number.layout.display = None if many else "none"
            self.experiment.disabled = len(names) <= 1
            if names:
                index = min(session.schedule_experiment, len(names) - 1)
                if self.experiment.options:
                    self.experiment.value = index
                self.experiment_number.value = index
            channels = session.schedule_channels_available()
            if channels != self._channels:
                self._channels = channels
                for box in self.channel_boxes.values():
                    box.close()
                self.channel_boxes = {c: styled(widgets.Checkbox(description=c, indent=False,
                                                                 layout=widgets.Layout(width="auto")),
                                                "wb-schedule-channel") for c in channels}
                for box in self.channel_boxes.values():
                    box.observe(self._on_channel, names="value")
                self.channels.children = tuple(self.channel_boxes.values())
            shown = set(channels if session.schedule_channels is None else session.schedule_channels)
            for name, box in self.channel_boxes.items():
                box.value = name in shown
        problem = session.schedule_problem
        if problem is not None:
            self.view.show(None, problem.text)
            return
        if not shown:
            self.view.show(None, "no channel selected")
            return
        self.view.show(session.schedule_figure())

    def _on_session(self, event: str) -> None:
        if event in ("schedule", "job", "device"):
            self.refresh()

    def _on_experiment(self, change: dict) -> None:
        if self._guard.active or change["new"] is None:
            return
        self.session.set_schedule_experiment(int(change["new"]))

    def _on_channel(self, _: dict) -> None:
        if self._guard.active:
            return
        chosen = [c for c, box in self.channel_boxes.items() if box.value]
        self.session.set_schedule_channels(None if len(chosen) == len(self.channel_boxes) else chosen)
