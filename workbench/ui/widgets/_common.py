"""Small pieces every panel uses: figure display, messages, and a guard against observer echo."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from workbench.ui.session import Problem

log = logging.getLogger("workbench.ui")

ERROR_COLOUR = "#b00020"
NOTE_COLOUR = "#666666"


def error_html(problems: Iterable[Problem | str], *, prefix: str = "") -> str:
    """Problems as red lines; the location (JSON path, QASM line, option) in bold so it is found first."""
    lines = []
    for p in problems:
        if isinstance(p, str):
            lines.append(html.escape(p))
            continue
        where = " ".join(x for x in (p.source and f"{p.source}:", p.location and f"{p.location}:") if x)
        lines.append((f"<b>{html.escape(where)}</b> " if where else "") + html.escape(" ".join(p.message.split())))
    if not lines:
        return ""
    head = f"<b>{html.escape(prefix)}</b> " if prefix else ""
    return f"<div style='color:{ERROR_COLOUR}'>{head}" + "<br>".join(lines) + "</div>"


def note_html(text: str) -> str:
    return f"<span style='color:{NOTE_COLOUR}'>{html.escape(text)}</span>" if text else ""


def styled(widget: widgets.DOMWidget, *classes: str) -> Any:
    """Add stable CSS classes (the browser tests find widgets by them) and return the widget."""
    for name in classes:
        widget.add_class(name)
    return widget


class Guard:
    """Set while a view updates its own widgets, so their observers do not echo the change back."""

    def __init__(self) -> None:
        self.active = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        previous, self.active = self.active, True
        try:
            yield
        finally:
            self.active = previous


def figure_bundle(fig: go.Figure) -> dict[str, Any]:
    """The display bundle JupyterLab's plotly renderer draws (plotly.js ships with the plotly wheel)."""
    import plotly.io as pio

    bundle = pio.renderers["plotly_mimetype"].to_mimebundle(fig.to_dict())
    title = fig.layout.title.text or "figure"
    return {**bundle, "text/plain": f"<plotly figure: {title}>"}


class FigureView(widgets.VBox):
    """Shows one plotly figure, or a message when there is none.

    The figure goes into an ``Output`` as a display bundle set on ``outputs``: it works from the
    runner's thread (no ``with output:`` capture, which depends on the executing cell), keeps no
    JavaScript in the widget state, and ``figure`` keeps the plotly object for tests and scripts.
    """

    def __init__(self, css_class: str, empty: str = "") -> None:
        self.figure: go.Figure | None = None
        self.output = widgets.Output()
        self.message = widgets.HTML(note_html(empty))
        super().__init__([self.message, self.output])
        styled(self, "wb-figure", css_class)

    def show(self, fig: go.Figure | None, message: str = "") -> None:
        self.figure = fig
        self.message.value = note_html(message)
        if fig is None:
            self.output.outputs = ()
            self.layout.display = "none" if not message else None
            return
        self.layout.display = None
        self.output.outputs = ({"output_type": "display_data", "data": figure_bundle(fig), "metadata": {}},)
