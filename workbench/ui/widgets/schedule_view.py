"""Schedule viewer: the job's pulses on the selected device, with its event table.

A thin view over :class:`workbench.ui.schedule_inspector.ScheduleInspector` (the session's schedule
state): choosing the experiment (a list, and a slider over the swept value), overlaying experiments,
highlighting differences to another experiment, comparing with the same job on another device,
channels, real/imaginary parts or envelope, fitted or full-scale axes, folded time, and the event
table with its filters. Zooming and panning redraw the visible window in the kernel at full detail
(:class:`~workbench.ui.widgets.schedule_front.FigureBridge`); table and figure share one selection.
"""

from __future__ import annotations

import json
from typing import Any

import ipywidgets as widgets

from workbench.schedule.table import KINDS
from workbench.ui.session import Session
from workbench.ui.widgets._common import FigureView, Guard, note_html, styled
from workbench.ui.widgets.schedule_front import EventTableWidget, FigureBridge

MAX_DROPDOWN_EXPERIMENTS = 1000  # more: a number box (a list of 10 000 names helps nobody)
_MIME = "application/vnd.plotly.v1+json"


class ScheduleView(widgets.VBox):
    """CSS classes: ``wb-schedule`` (this box), ``wb-schedule-experiment``, ``wb-schedule-sweep``,
    ``wb-schedule-overlay``, ``wb-schedule-diff``, ``wb-schedule-compare``, ``wb-schedule-channels`` (with a
    ``wb-schedule-channel`` checkbox per channel), ``wb-schedule-mode``, ``wb-schedule-scale``,
    ``wb-schedule-fold``, ``wb-schedule-reset``, ``wb-schedule-status``, ``wb-schedule-figure``,
    ``wb-schedule-message``, ``wb-events`` (the table box: ``wb-events-channel``, ``wb-events-kind``,
    ``wb-events-from``, ``wb-events-to``, ``wb-events-flagged``, ``wb-events-prev``, ``wb-events-next``,
    ``wb-events-page``, ``wb-events-table``)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.inspector = session.schedule_inspector  # observes the session before this view does
        self._guard = Guard()
        self._names: list[str] = []
        self._channels: list[str] = []
        self._shown = False
        self.last_json: str | None = None  # the figure last sent to the page (tests read it)
        layout = widgets.Layout
        self.experiment = styled(widgets.Dropdown(description="Experiment", layout=layout(width="420px")),
                                 "wb-schedule-experiment")
        self.experiment_number = styled(widgets.BoundedIntText(description="Experiment", min=0, max=0,
                                                               layout=layout(width="220px")),
                                        "wb-schedule-experiment")
        self.sweep = styled(widgets.SelectionSlider(options=[("-", 0)], description="", continuous_update=False,
                                                    layout=layout(width="360px", display="none")),
                            "wb-schedule-sweep")
        self.overlay = styled(widgets.SelectMultiple(description="Overlay", rows=3, layout=layout(width="330px")),
                              "wb-schedule-overlay")
        self.diff = styled(widgets.Dropdown(description="Differences to", layout=layout(width="330px"),
                                            style={"description_width": "initial"}), "wb-schedule-diff")
        self.compare = styled(widgets.Dropdown(description="Compare with device", layout=layout(width="330px"),
                                               style={"description_width": "initial"}), "wb-schedule-compare")
        self.channel_boxes: dict[str, widgets.Checkbox] = {}
        self.channels = styled(widgets.HBox(layout=layout(flex_flow="row wrap")), "wb-schedule-channels")
        self.mode = styled(widgets.ToggleButtons(options=[("real / imag", "iq"), ("envelope", "envelope")],
                                                 value="iq", style={"button_width": "90px"}), "wb-schedule-mode")
        self.scale = styled(widgets.ToggleButtons(options=[("fit", "fit"), ("full scale", "full")], value="fit",
                                                  style={"button_width": "80px"}), "wb-schedule-scale")
        self.fold = styled(widgets.Checkbox(description="fold idle and long stretches", indent=False,
                                            layout=layout(width="auto")), "wb-schedule-fold")
        self.reset = styled(widgets.Button(description="Show all", layout=layout(width="90px")), "wb-schedule-reset")
        self.status = styled(widgets.HTML(), "wb-schedule-status")
        self.view = FigureView("wb-schedule-figure")
        self.message = styled(self.view.message, "wb-schedule-message")
        self.bridge = FigureBridge(self._on_front)
        self.bridge.layout = layout(height="0px", width="0px", overflow="hidden")
        # event table
        self.events_channel = styled(widgets.SelectMultiple(description="Channels", rows=3,
                                                            layout=layout(width="200px")), "wb-events-channel")
        self.events_kind = styled(widgets.SelectMultiple(description="Kinds", options=list(KINDS), rows=3,
                                                         layout=layout(width="200px")), "wb-events-kind")
        self.events_from = styled(widgets.Text(description="from (ns)", placeholder="start",
                                               layout=layout(width="170px")), "wb-events-from")
        self.events_to = styled(widgets.Text(description="to (ns)", placeholder="end", layout=layout(width="170px")),
                                "wb-events-to")
        self.events_flagged = styled(widgets.Checkbox(description="only timing findings", indent=False,
                                                      layout=layout(width="auto")), "wb-events-flagged")
        self.events_prev = styled(widgets.Button(description="◀", layout=layout(width="40px")), "wb-events-prev")
        self.events_next = styled(widgets.Button(description="▶", layout=layout(width="40px")), "wb-events-next")
        self.events_page = styled(widgets.HTML(), "wb-events-page")
        self.table = styled(EventTableWidget(self._on_row), "wb-events-table")
        self.events = styled(widgets.VBox([
            widgets.HBox([self.events_channel, self.events_kind,
                          widgets.VBox([self.events_from, self.events_to]),
                          widgets.VBox([self.events_flagged,
                                        widgets.HBox([self.events_prev, self.events_page, self.events_next])])],
                         layout=layout(flex_flow="row wrap")),
            self.table]), "wb-events")
        super().__init__([
            widgets.HBox([self.experiment, self.experiment_number, self.sweep], layout=layout(flex_flow="row wrap")),
            widgets.HBox([self.overlay, widgets.VBox([self.diff, self.compare])], layout=layout(flex_flow="row wrap")),
            self.channels,
            widgets.HBox([self.mode, self.scale, self.fold, self.reset], layout=layout(flex_flow="row wrap")),
            self.status, self.view, self.bridge, self.events,
        ])
        styled(self, "wb-schedule")
        self.experiment.observe(self._on_experiment, names="value")
        self.experiment_number.observe(self._on_experiment, names="value")
        self.sweep.observe(self._on_experiment, names="value")
        for control in (self.overlay, self.diff, self.compare, self.mode, self.scale, self.fold):
            control.observe(self._on_options, names="value")
        self.reset.on_click(lambda _: self.inspector.set_window(None, None))
        for control in (self.events_channel, self.events_kind, self.events_from, self.events_to, self.events_flagged):
            control.observe(self._on_filter, names="value")
        self.events_prev.on_click(lambda _: self.inspector.set_page(self.inspector.state.page - 1))
        self.events_next.on_click(lambda _: self.inspector.set_page(self.inspector.state.page + 1))
        session.observers.append(self._on_session)
        self.inspector.observers.append(self._on_inspector)
        self.refresh()

    @property
    def figure(self) -> Any:
        """The figure as it is shown now (a plotly ``go.Figure``), None when there is none."""
        return self.inspector.figure() if self._shown else None

    # -- drawing ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        session = self.session
        names = session.schedule_experiment_names()
        with self._guard():
            labels = self.inspector.experiment_labels() if names else []
            if names != self._names:
                self._names = names
                many = len(names) > MAX_DROPDOWN_EXPERIMENTS
                self.experiment.options = [] if many else [(label, i) for i, label in enumerate(labels)]
                self.experiment.layout.display = "none" if many else None
                self.experiment_number.max = max(len(names) - 1, 0)
                self.experiment_number.layout.display = None if many else "none"
                others = [] if many else [(label, i) for i, label in enumerate(labels)]
                self.overlay.options = others
                self.diff.options = [("nothing", None), *others]
                key, values = self.inspector.sweep()
                if key is not None and len(names) > 1:
                    self.sweep.options = [(f"{key} = {_text(v)}", i) for i, v in enumerate(values)]
                    self.sweep.description = key
                    self.sweep.layout.display = None
                else:
                    self.sweep.layout.display = "none"
            self.compare.options = [("nothing", None)] + [(k, k) for k in session.device_keys()
                                                           if k != session.device_key]
            self.experiment.disabled = len(names) <= 1
            options = self.inspector.options
            self.overlay.value = tuple(i for i in options.overlays if i < len(names))
            self.diff.value = options.diff_with if options.diff_with is None or options.diff_with < len(names) else None
            compare_keys = [value for _, value in self.compare.options]
            self.compare.value = options.compare_device if options.compare_device in compare_keys else None
            self.mode.value, self.scale.value, self.fold.value = options.mode, options.scale, options.compress
            if names:
                index = min(session.schedule_experiment, len(names) - 1)
                if self.experiment.options:
                    self.experiment.value = index
                self.experiment_number.value = index
                if self.sweep.layout.display != "none":
                    self.sweep.value = index
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
                self.events_channel.options = channels
            shown = set(channels if session.schedule_channels is None else session.schedule_channels)
            for name, box in self.channel_boxes.items():
                box.value = name in shown
        problem = session.schedule_problem
        self._shown = False
        if problem is not None:
            self.view.show(None, problem.text)
            self.events.layout.display = "none"
            self.status.value = ""
            return
        if not shown:
            self.view.show(None, "no channel selected")
            self.events.layout.display = "none"
            return
        self._show_figure()
        self.events.layout.display = None
        self._show_table()

    def _show_figure(self) -> None:
        """Draw the figure anew (experiment, channels or options changed): a new display bundle."""
        text = self.inspector.view_json()
        if text is None:
            self.view.show(None, "nothing to draw")
            return
        self.last_json = text
        figure = json.loads(text)
        figure["config"] = {"displaylogo": False}
        self.view.figure = None
        self.view.message.value = note_html(self.inspector.compare_problem() or "")
        self.view.layout.display = None
        self.view.output.outputs = ({"output_type": "display_data", "metadata": {},
                                     "data": {_MIME: figure, "text/plain": "<schedule figure>"}},)
        self._shown = True
        self._show_status(figure)

    def _redraw_window(self) -> None:
        """The same figure, another window or selection: patched in place in the page."""
        text = self.inspector.view_json()
        if text is None:
            return
        self.last_json = text
        self.bridge.draw(text)
        self._show_status(json.loads(text))

    def _show_status(self, figure: dict[str, Any]) -> None:
        meta = figure.get("layout", {}).get("meta", {})
        window = meta.get("real_window") or [0, 0]
        detail = "every sample" if meta.get("exact") else "min/max per pixel; zoom in for every sample"
        self.status.value = note_html(f"{_ns(window[0])} – {_ns(window[1])} ns: {detail}. {self.inspector.summary()}")

    def _show_table(self) -> None:
        page = self.inspector.page()
        if page is None:
            return
        selected = self.inspector.state.selected
        with self.table.hold_sync():
            self.table.columns = page.columns
            self.table.rows = page.rows
            self.table.row_ids = page.row_ids
            self.table.flagged = page.flagged
            self.table.selected = -1 if selected is None else selected
        self.events_page.value = (f"page {page.page + 1} of {page.pages} ({page.matching} of {page.total} "
                                  "events)")

    # -- events ----------------------------------------------------------------------------------
    def _on_session(self, event: str) -> None:
        if event in ("schedule", "job", "device"):
            self.refresh()

    def _on_inspector(self, event: str) -> None:
        if event == "view":
            self.refresh()
        elif event == "window" and self._shown:
            self._redraw_window()
        elif event == "table":
            self._show_table()

    def _on_front(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "view":
            width = message.get("width")
            if message.get("reset"):
                self.inspector.set_window(None, None, width)
            else:
                self.inspector.set_window(_number(message.get("x0")), _number(message.get("x1")), width)
        elif kind == "click":
            x = _number(message.get("x"))
            if x is not None:
                self.inspector.click(str(message.get("axis", "y")), x)
        elif kind == "hello":
            width = message.get("width")
            if isinstance(width, int | float) and width > 0 and abs(width - self.inspector.state.width) > 50:
                self.inspector.set_window(*(self.inspector.state.window or (None, None)), int(width))

    def _on_row(self, row: int) -> None:
        self.inspector.select_row(row)

    def _on_experiment(self, change: dict) -> None:
        if self._guard.active or change["new"] is None:
            return
        self.session.set_schedule_experiment(int(change["new"]))

    def _on_channel(self, _: dict) -> None:
        if self._guard.active:
            return
        chosen = [c for c, box in self.channel_boxes.items() if box.value]
        self.session.set_schedule_channels(None if len(chosen) == len(self.channel_boxes) else chosen)

    def _on_options(self, _: dict) -> None:
        if self._guard.active:
            return
        self.inspector.set_options(mode=self.mode.value, scale=self.scale.value, compress=bool(self.fold.value),
                                   overlays=tuple(self.overlay.value), diff_with=self.diff.value,
                                   compare_device=self.compare.value)

    def _on_filter(self, _: dict) -> None:
        if self._guard.active:
            return
        self.inspector.set_filter(channels=tuple(self.events_channel.value) or None,
                                  kinds=tuple(self.events_kind.value) or None,
                                  t_from=_number(self.events_from.value), t_to=_number(self.events_to.value),
                                  flagged=bool(self.events_flagged.value))


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _text(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _ns(t: float) -> str:
    """A time for the status line as people read it: 1,000,400, not 1.0004e+06; fractions only when short."""
    return f"{t:,.0f}" if abs(t) >= 100 or float(t).is_integer() else f"{t:.3g}"
