"""What the schedule viewer shows, as a plain object: testable without a browser, driven by the widget.

A :class:`ScheduleInspector` belongs to a :class:`~workbench.ui.session.Session` (which owns the job,
the device, the chosen experiment and channels) and adds the view state: drawing options (real and
imaginary parts or the envelope, fitted or full-scale axes, folded time), experiments overlaid, a
second experiment or device to compare with, the visible window, the selected event and the event
table's filters and page. Table and figure share one selection: selecting a row centres the figure on
it, a click on the figure selects the nearest row and turns the table to its page.

Drawing goes through one :class:`~workbench.views.schedule_figure.ScheduleDrawing` per combination
of options (cached), so a zoom or pan only redraws the visible window (:meth:`view_json`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from workbench.schedule.checks import Findings, TimingRules
    from workbench.schedule.ir import Schedule
    from workbench.schedule.table import EventTable
    from workbench.ui.session import Session
    from workbench.views.schedule_figure import ScheduleDrawing

log = logging.getLogger("workbench.ui")

PAGE_SIZE = 50
VIEW_EVENTS = ("view", "window", "table")  # redraw everything / the visible window / the table


@dataclass
class TableFilter:
    """Which rows the event table lists: channels and kinds (None: all), a time window in ns, flagged only."""

    channels: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    t_from: float | None = None
    t_to: float | None = None
    flagged: bool = False


@dataclass
class TablePage:
    """One page of the filtered event table, as texts ready to show."""

    columns: list[str]
    rows: list[list[str]]
    row_ids: list[int]  # table row of each line
    flagged: list[bool]
    page: int
    pages: int
    matching: int  # rows passing the filter
    total: int  # rows of the experiment


@dataclass
class _Options:
    mode: str = "iq"
    scale: str = "fit"
    compress: bool = False
    overlays: tuple[int, ...] = ()
    diff_with: int | None = None
    compare_device: str | None = None


@dataclass
class _State:
    window: tuple[float, float] | None = None
    width: int = 1100
    selected: int | None = None
    filter: TableFilter = field(default_factory=TableFilter)
    page: int = 0


TABLE_COLUMNS = ["t (ns)", "sample", "channel", "kind", "name", "gate", "source", "duration (ns)", "parameters",
                 "frame f (GHz)", "phase (rad)", "checks"]


def format_rows(table: EventTable, rows: np.ndarray, findings: Findings | None) -> tuple[list[list[str]], list[bool]]:
    """The texts of some rows of an event table (the :data:`TABLE_COLUMNS`), and whether each is flagged.
    Only these rows are formatted: a page of a million-row table costs a page."""
    from workbench.schedule.table import KINDS

    messages = findings.for_rows(rows) if findings is not None and len(findings) else {}
    ns = table.dt_ns
    lines = []
    for r in rows:
        r = int(r)
        f, p = table.frequency[r], table.phase[r]
        lines.append([
            f"{table.t0[r] * ns:.6g}", str(int(table.t0[r])), table.channels[int(table.channel[r])],
            KINDS[int(table.kind[r])], table.name_of(r), table.gate_label(r),
            str(table.source_of(r)) if table.source_of(r) >= 0 else "", f"{table.duration[r] * ns:.6g}",
            table.parameters_text(r), "" if not np.isfinite(f) else f"{f / 1e9:.9g}",
            "" if not np.isfinite(p) else f"{p:+.4f}", "; ".join(messages.get(r, [])),
        ])
    return lines, [int(r) in messages for r in rows]


class ScheduleInspector:
    """View state of the schedule viewer over a session (see the module doc)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.options = _Options()
        self.state = _State()
        self.observers: list[Callable[[str], None]] = []
        self._drawings: dict[Any, ScheduleDrawing] = {}
        self._findings: dict[Any, Findings] = {}
        self._masks: dict[Any, np.ndarray] = {}
        self._compare_cache: dict[Any, list[Schedule] | None] = {}
        self._for: Any = None
        session.observers.append(self._on_session)

    # -- plumbing --------------------------------------------------------------------------------
    def _emit(self, *events: str) -> None:
        for event in events:
            for observer in list(self.observers):
                try:
                    observer(event)
                except Exception:  # a broken view must not break the state or the other views
                    log.exception("inspector observer %r failed on %r", observer, event)

    def _on_session(self, event: str) -> None:
        if event in ("schedule", "job", "device"):
            key = self._key()
            if key != self._for:
                self._for = key
                self._drawings.clear()
                self._findings.clear()
                self._masks.clear()
                self._compare_cache.clear()
                self.options = _Options(self.options.mode, self.options.scale, self.options.compress)
                self.state = _State(width=self.state.width)
            else:  # same schedules, another experiment or other channels
                self.state.window = None
                self.state.selected = None
                self.state.page = 0

    def _key(self) -> Any:
        schedules = self.session.schedules()
        return (id(schedules), self.session.device_key)

    # -- what is shown ---------------------------------------------------------------------------
    @property
    def schedules(self) -> list[Schedule] | None:
        return self.session.schedules()

    @property
    def experiment(self) -> int:
        schedules = self.schedules or []
        return min(self.session.schedule_experiment, max(len(schedules) - 1, 0))

    @property
    def schedule(self) -> Schedule | None:
        schedules = self.schedules
        return schedules[self.experiment] if schedules else None

    def sweep(self) -> tuple[str | None, list[Any]]:
        """The swept metadata entry and its value per experiment (``(None, [])`` when there is none)."""
        from workbench.views.schedule_inspect import sweep

        return sweep(self.schedules or [])

    def experiment_labels(self) -> list[str]:
        """``3: rabi-003 (amp = 0.3)`` per experiment."""
        from workbench.views.schedule_inspect import experiment_label

        names = self.session.schedule_experiment_names()
        key, values = self.sweep()
        return [experiment_label(names, i, key, values) for i in range(len(names))]

    def rules(self) -> TimingRules:
        from workbench.views.schedule_inspect import timing_rules

        return timing_rules(self.session.device)

    def findings(self, experiment: int | None = None) -> Findings | None:
        """Timing findings of an experiment under the device's rules (cached)."""
        schedules = self.schedules
        if not schedules:
            return None
        index = self.experiment if experiment is None else experiment
        key = (id(schedules), self.session.device_key, index)
        found = self._findings.get(key)
        if found is None:
            from workbench.views.schedule_inspect import timing_findings

            found = self._findings[key] = timing_findings(schedules[index], self.session.device, self.rules())
        return found

    def table(self) -> EventTable | None:
        from workbench.schedule.table import event_table

        schedule = self.schedule
        return event_table(schedule) if schedule is not None else None

    # -- options ---------------------------------------------------------------------------------
    def set_options(self, **changes: Any) -> None:
        """``mode`` ("iq"/"envelope"), ``scale`` ("fit"/"full"), ``compress``, ``overlays`` (experiment
        indices), ``diff_with`` (an experiment, or None), ``compare_device`` (a device key, or None)."""
        count = len(self.schedules or [])
        for name, value in changes.items():
            if name == "mode" and value not in ("iq", "envelope"):
                raise ValueError(f"mode must be 'iq' or 'envelope', got {value!r}")
            if name == "scale" and value not in ("fit", "full"):
                raise ValueError(f"scale must be 'fit' or 'full', got {value!r}")
            if name == "overlays":
                value = tuple(sorted({int(v) for v in value if 0 <= int(v) < count}))
            if name == "diff_with" and value is not None and not 0 <= int(value) < count:
                raise IndexError(f"experiment index {value} out of range (0..{count - 1})")
            if name == "compare_device" and value is not None:
                self.session.device_for(value)  # unknown names raise DeviceNotFoundError
            if not hasattr(self.options, name):
                raise TypeError(f"unknown option {name!r}")
            setattr(self.options, name, value)
        self.state.window = None if "compress" in changes or "compare_device" in changes else self.state.window
        self._emit("view")

    def compare_schedule(self) -> tuple[str, Schedule, str] | None:
        """(label of ours, the other schedule, its label) for the comparison view, or None."""
        device_key = self.options.compare_device
        if device_key is None or self.schedule is None:
            return None
        key = (id(self.schedules), device_key)
        if key not in self._compare_cache:
            job = self.session.job
            try:
                self._compare_cache[key] = job.schedules(self.session.device_for(device_key)) if job else None
            except Exception as exc:  # an input error of the other device: shown as a message, not raised
                log.info("no comparison with %s: %s", device_key, exc)
                self._compare_cache[key] = None
        others = self._compare_cache[key]
        if not others:
            return None
        other = others[min(self.experiment, len(others) - 1)]
        return self.session.device_key, other, device_key

    def compare_problem(self) -> str | None:
        if self.options.compare_device is not None and self.compare_schedule() is None:
            return f"the job has no pulse schedule on '{self.options.compare_device}'"
        return None

    def drawing(self) -> ScheduleDrawing | None:
        """The drawing of the current experiment with the current options (cached)."""
        schedules = self.schedules
        if not schedules:
            return None
        from workbench.views.schedule_figure import ScheduleDrawing
        from workbench.views.schedule_inspect import differences
        from workbench.views.schedule_lanes import channel_units

        o = self.options
        channels = self.session.schedule_channels
        key = (id(schedules), self.session.device_key, self.experiment, channels, o.mode, o.scale, o.compress,
               o.overlays, o.diff_with, o.compare_device)
        drawing = self._drawings.get(key)
        if drawing is not None:
            return drawing
        schedule = schedules[self.experiment]
        names = self.session.schedule_experiment_names()
        overlays = [(f"{i}: {names[i]}", schedules[i]) for i in o.overlays if i != self.experiment]
        highlights = []
        if o.diff_with is not None and o.diff_with != self.experiment:
            other = schedules[o.diff_with]
            overlays.append((f"{o.diff_with}: {names[o.diff_with]}", other))
            highlights = differences(schedule, other, (f"#{self.experiment}", f"#{o.diff_with}"))
        compare = self.compare_schedule()
        compare_findings = None
        if compare is not None:
            from workbench.views.schedule_inspect import timing_findings

            device_b = self.session.device_for(compare[2])
            compare_findings = timing_findings(compare[1], device_b)
            highlights = differences(schedule, compare[1], (compare[0], compare[2]))
        drawing = ScheduleDrawing(
            schedule, channels=None if channels is None else list(channels), mode=o.mode, scale=o.scale,
            compress=o.compress, units=channel_units(self.session.device), findings=self.findings(),
            overlays=overlays, highlights=highlights, compare=compare, compare_findings=compare_findings)
        if len(self._drawings) > 16:
            self._drawings.clear()
        self._drawings[key] = drawing
        return drawing

    def differences(self) -> list[Any]:
        drawing = self.drawing()
        return list(drawing.highlights) if drawing is not None else []

    # -- the figure ------------------------------------------------------------------------------
    def figure_dict(self) -> dict[str, Any] | None:
        drawing = self.drawing()
        if drawing is None:
            return None
        return drawing.figure_dict(self.state.window, self.state.width, self.state.selected)

    def figure(self) -> Any:
        """The current view as a plotly ``go.Figure`` (scripts and tests)."""
        import plotly.graph_objects as go

        data = self.figure_dict()
        return None if data is None else go.Figure(data)

    def view_json(self) -> str | None:
        """The current view as plotly.js JSON (what the widget's front end draws)."""
        drawing = self.drawing()
        if drawing is None:
            return None
        return drawing.figure_json(self.state.window, self.state.width, self.state.selected)

    def set_window(self, x0: float | None, x1: float | None, width: int | None = None) -> None:
        """The visible window in drawn time (None: everything), after a zoom or pan in the figure."""
        if width is not None and width > 0:
            self.state.width = int(width)
        if x0 is None or x1 is None or not (math.isfinite(x0) and math.isfinite(x1)) or x1 <= x0:
            self.state.window = None
        else:
            self.state.window = (float(x0), float(x1))
        self._emit("window")

    # -- selection -------------------------------------------------------------------------------
    def select_row(self, row: int | None, *, centre: bool = True) -> None:
        """Select a table row (None: nothing); the figure centres on it and the table turns to its page."""
        table = self.table()
        if row is not None and (table is None or not 0 <= row < len(table)):
            raise IndexError(f"row {row} out of range")
        self.state.selected = row
        if row is not None:
            drawing = self.drawing()
            if centre and drawing is not None:
                self.state.window = drawing.row_window(row, self.state.window)
            self._turn_to(row)
        self._emit("window", "table")

    def click(self, axis: str, x: float) -> int | None:
        """A click on the figure at drawn time ``x`` in the lane of ``axis``: selects the nearest event."""
        drawing = self.drawing()
        if drawing is None:
            return None
        lane = drawing.lane_of(axis)
        if lane is None or not lane.primary:
            return None
        row = drawing.nearest_row(lane.channel, x)
        if row is not None:
            self.state.selected = row
            self._turn_to(row)
            self._emit("window", "table")
        return row

    def _turn_to(self, row: int) -> None:
        mask = self._mask()
        if mask is None:
            return
        if not mask[row]:  # the selected row is filtered out: show every row again
            self.state.filter = TableFilter()
            mask = self._mask()
        position = int(np.count_nonzero(mask[:row]))
        self.state.page = position // PAGE_SIZE

    # -- the event table -------------------------------------------------------------------------
    def set_filter(self, *, channels: Iterable[str] | None = None, kinds: Iterable[str] | None = None,
                   t_from: float | None = None, t_to: float | None = None, flagged: bool = False) -> None:
        from workbench.schedule.table import KINDS

        kinds = None if kinds is None else tuple(kinds)
        if kinds is not None and not set(kinds) <= set(KINDS):
            raise ValueError(f"kinds must be among {', '.join(KINDS)}, got {', '.join(kinds)}")
        self.state.filter = TableFilter(None if channels is None else tuple(channels), kinds, t_from, t_to,
                                        bool(flagged))
        self.state.page = 0
        self._emit("table")

    def set_page(self, page: int) -> None:
        self.state.page = max(0, int(page))
        self._emit("table")

    def _mask(self) -> np.ndarray | None:
        table = self.table()
        if table is None:
            return None
        f = self.state.filter
        key = (id(table), f.channels, f.kinds, f.t_from, f.t_to, f.flagged)
        mask = self._masks.get(key)
        if mask is not None:
            return mask
        from workbench.schedule.table import KINDS

        mask = np.ones(len(table), dtype=bool)
        if f.channels is not None:
            mask &= np.isin(table.channel, [table.channel_code(c) for c in f.channels])
        if f.kinds is not None:
            mask &= np.isin(table.kind, [KINDS.index(k) for k in f.kinds])
        ns = table.dt_ns
        if f.t_from is not None:
            mask &= table.t1 * ns >= f.t_from
        if f.t_to is not None:
            mask &= table.t0 * ns <= f.t_to
        if f.flagged:
            found = self.findings()
            mask &= found.flagged() if found is not None else False
        if len(self._masks) > 8:
            self._masks.clear()
        self._masks[key] = mask
        return mask

    def page(self) -> TablePage | None:
        """The current page of the filtered table (texts formatted for these rows only)."""

        table = self.table()
        mask = self._mask()
        if table is None or mask is None:
            return None
        matching = np.flatnonzero(mask)
        pages = max(1, math.ceil(matching.size / PAGE_SIZE))
        page = min(self.state.page, pages - 1)
        rows = matching[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
        lines, flagged = format_rows(table, rows, self.findings())
        return TablePage(list(TABLE_COLUMNS), lines, [int(r) for r in rows], flagged, page, pages,
                         int(matching.size), len(table))

    def summary(self) -> str:
        """One line for the viewer: the window, the level of detail and the timing findings."""
        drawing = self.drawing()
        found = self.findings()
        if drawing is None:
            return ""
        counts = found.counts() if found is not None else {}
        checks = ("no timing findings" if not counts else
                  f"{sum(counts.values())} timing findings (" + ", ".join(f"{n} {k}" for k, n in counts.items()) + ")")
        rules = self.rules()
        where = f" under the rules of {rules.instrument}" if rules.instrument else ""
        return f"{checks}{where}"
