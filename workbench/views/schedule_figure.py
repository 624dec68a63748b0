"""The pulse-schedule figure (plotly), built from :mod:`workbench.views.schedule_lanes` data.

Cost is independent of the number of pulses: per channel one WebGL trace for the real part and one for
the imaginary part, one marker trace for all frame changes and one filled trace for all acquisition
windows, and the whole layout in one call. (One trace per pulse and one ``add_shape`` per
acquisition, as quantify-scheduler's plotly backend does, grows quadratically in plotly.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.schedule.ir import Schedule
from workbench.views.schedule_lanes import DEFAULT_MAX_POINTS, lane_offsets, nice_title, schedule_lanes

if TYPE_CHECKING:
    import plotly.graph_objects as go

_REAL = "#1f77b4"
_IMAG = "#ff7f0e"
_ACQ = "rgba(44, 160, 44, 0.25)"
_FRAME = "#7f7f7f"


def schedule_figure(
    schedule: Schedule,
    *,
    channels: list[str] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """A figure of one schedule: one lane per channel, real (solid) and imaginary (dotted) parts."""
    import plotly.graph_objects as go

    lanes = schedule_lanes(schedule, channels, max_points)
    centres = lane_offsets(len(lanes))
    traces: list[Any] = []
    frame_x: list[float] = []
    frame_y: list[float] = []
    frame_text: list[str] = []
    acq_x: list[float | None] = []
    acq_y: list[float | None] = []
    acq_text: list[str | None] = []
    for lane, y0 in zip(lanes, centres, strict=True):
        hover = "%{text}<br>t = %{x:.1f} ns<extra>" + lane.channel + "</extra>" if lane.labels is not None else (
            "t = %{x:.1f} ns, %{customdata:.3f}<extra>" + lane.channel + " (decimated: min/max per bucket)</extra>")
        drawn = () if not lane.pulses else (("real", lane.real, _REAL, "solid"), ("imag", lane.imag, _IMAG, "dot"))
        for part, values, colour, dash in drawn:
            trace = go.Scattergl(
                x=lane.t, y=values + y0, mode="lines", line={"color": colour, "width": 1.2, "dash": dash},
                name=part, legendgroup=part, showlegend=not any(t.name == part for t in traces), hovertemplate=hover,
                text=lane.labels, customdata=values if lane.labels is None else None,
            )
            traces.append(trace)
        for t, text in lane.frames:
            frame_x.append(t)
            frame_y.append(y0 + 1.15)
            frame_text.append(f"{lane.channel}: {text}")
        for t0, t1, text in lane.acquires:
            acq_x.extend([t0, t1, t1, t0, t0, None])
            acq_y.extend([y0 - 1, y0 - 1, y0 + 1, y0 + 1, y0 - 1, None])
            acq_text.extend([text] * 5 + [None])
    if acq_x:
        traces.append(go.Scatter(x=acq_x, y=acq_y, text=acq_text, mode="lines", fill="toself", fillcolor=_ACQ,
                                 line={"width": 0}, name="acquire", hoveron="fills+points",
                                 hovertemplate="%{text}<extra></extra>"))
    if frame_x:
        traces.append(go.Scattergl(x=frame_x, y=frame_y, text=frame_text, mode="markers", name="frame change",
                                   marker={"symbol": "triangle-down", "size": 8, "color": _FRAME},
                                   hovertemplate="%{text}<br>t = %{x:.1f} ns<extra></extra>"))
    fig = go.Figure(data=traces)
    fig.update_layout(
        title={"text": title if title is not None else nice_title(schedule), "x": 0.01},
        xaxis={"title": {"text": "time (ns)"}, "rangeslider": {"visible": False}, "zeroline": False},
        yaxis={"tickmode": "array", "tickvals": centres, "ticktext": [lane.channel for lane in lanes],
               "range": [min(centres, default=0) - 1.5, 1.6], "zeroline": False, "fixedrange": True},
        height=height or max(260, 90 + 70 * len(lanes)),
        margin={"l": 60, "r": 20, "t": 50, "b": 45},
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
        hovermode="closest",
        template="plotly_white",
        shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": y, "y1": y,
                 "line": {"color": "#dddddd", "width": 1}} for y in centres],
    )
    return fig


def lane_point_count(fig: go.Figure) -> int:
    """Points drawn by the waveform traces (what decimation bounds)."""
    return int(sum(np.size(t.x) for t in fig.data if t.name in ("real", "imag")))


def plot_schedule(
    job: Any,
    device: Any = None,
    *,
    experiment: int | str = 0,
    channels: list[str] | None = None,
    config: Any = None,
    max_points: int = DEFAULT_MAX_POINTS,
) -> go.Figure:
    """The schedule of one experiment of ``job`` on ``device`` (a pulse device), as a figure.

    ``job`` is anything :func:`workbench.run` accepts; circuits are shown as the pulses the device's
    calibrations turn them into.
    """
    from workbench.core import prepare
    from workbench.errors import InputError, UnsupportedError

    prepared = prepare(job, device, config=config)
    programs = prepared.programs
    if not programs or not isinstance(programs[0], Schedule):
        raise UnsupportedError(f"device '{prepared.device.name}' runs circuits at gate level and has no pulse "
                               "schedule; choose a pulse device to see one")
    names = prepared.job.experiment_names
    if isinstance(experiment, str):
        if experiment not in names:
            raise InputError(f"no experiment named '{experiment}'")
        experiment = names.index(experiment)
    if not -len(programs) <= experiment < len(programs):
        raise InputError(f"experiment index {experiment} out of range (0..{len(programs) - 1})")
    return schedule_figure(programs[experiment], channels=channels, max_points=max_points)
