"""Plain figure dicts -> the JSON plotly.js reads, without building plotly.py objects.

``go.Figure(...)`` validates every attribute of every trace, which costs more than drawing a
window of a large schedule; the schedule views build plain dicts and send them here. Numeric numpy
arrays become plotly.js typed-array specs (``{"dtype": "f8", "bdata": <base64>, "shape": ...}``, read
natively by plotly.js 2.28 and later): a third of the size of JSON numbers and no number formatting.
Named templates (``"plotly_white"``) are resolved, because plotly.js knows none.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

_TYPES = {"float64": "f8", "float32": "f4", "int32": "i4", "uint32": "u4", "int16": "i2", "uint16": "u2",
          "int8": "i1", "uint8": "u1"}
_PLAIN_KEYS = {"range", "tickvals", "domain"}  # plotly.js reads these as plain lists only


def _package_data(relative: str) -> str | None:
    """A file of plotly's ``package_data`` (templates, plotly.js), found without importing plotly: importing
    it and resolving a template took ~0.13 s of a command-line run that only needs the two files. None
    when plotly is laid out differently (the callers then ask plotly)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder, "package_data", relative)
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


@lru_cache(maxsize=8)
def _template(name: str) -> str:
    text = _package_data(f"templates/{name}.json") if name.replace("_", "").isalnum() else None
    if text is not None:
        return json.dumps(json.loads(text))  # plotly's templates are these files, as plotly.io reads them
    import plotly.io as pio

    return json.dumps(pio.templates[name].to_plotly_json())


@lru_cache(maxsize=1)
def plotlyjs() -> tuple[str, bytes]:
    """plotly.js for pages that inline it, read from plotly's package once per process, as text and as
    UTF-8 (4.8 MB, not ASCII: encoding it costs more than writing it)."""
    text = _package_data("plotly.min.js")
    if text is None:
        from plotly.offline import get_plotlyjs

        text = get_plotlyjs()
    return text, text.encode("utf-8")


def _array(value: np.ndarray) -> Any:
    if value.dtype == object or value.dtype.kind in "USb":
        return [None if v is None else str(v) for v in value.tolist()]
    if value.dtype.kind in "iu" and value.dtype.itemsize == 8:
        value = value.astype(np.float64) if value.size and np.abs(value).max() >= 2**31 else value.astype(np.int32)
    if value.dtype.kind == "c":
        raise TypeError("complex arrays have no plotly.js typed array")
    code = _TYPES.get(str(value.dtype))
    if code is None:
        value = value.astype(np.float64)
        code = "f8"
    spec: dict[str, Any] = {"dtype": code, "bdata": base64.b64encode(np.ascontiguousarray(value)).decode("ascii")}
    if value.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in value.shape)
    return spec


def encode(obj: Any, key: str = "") -> Any:
    """A JSON-able copy of ``obj`` with numpy arrays as typed-array specs and NaN as null."""
    if isinstance(obj, np.ndarray):
        if key in _PLAIN_KEYS:
            return [encode(v) for v in obj.tolist()]
        return _array(obj)
    if isinstance(obj, Mapping):
        return {k: encode(v, k) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [encode(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def to_json(figure: Mapping[str, Any]) -> str:
    """The figure as plotly.js JSON (its layout's named template resolved)."""
    layout = dict(figure.get("layout", {}))
    template = layout.pop("template", None)
    body = json.dumps({"data": encode(figure.get("data", [])), "layout": encode(layout)}, separators=(",", ":"))
    if isinstance(template, str):  # splice the template in without decoding it again
        body = body[:-2] + ("," if layout else "") + f'"template":{_template(template)}' + "}}"
    return body


def to_dict(figure: Mapping[str, Any]) -> dict[str, Any]:
    """The same, as a dict (what a display bundle or an HTML page embeds)."""
    return json.loads(to_json(figure))


def set_template(fig: Any, name: str = "plotly_white") -> Any:
    """Give a plotly figure a registered template without validating it again.

    ``update_layout(template="plotly_white")`` rebuilds and validates a copy of the whole template for
    every figure (~70 ms each, most of a results report); registered templates were validated when they
    were registered, so they are assigned the way plotly assigns its default one, with validation off.
    """
    import plotly.io as pio

    layout = fig.layout
    layout._validate = False
    try:
        layout.template = pio.templates[name]
    finally:
        layout._validate = True
    return fig


@lru_cache(maxsize=8)
def _template_props(name: str) -> Any:
    import plotly.io as pio

    return pio.templates[name].to_plotly_json()


_SCRIPT_SAFE = (("<", "\\u003c"), (">", "\\u003e"), ("/", "\\u002f"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def figure_json(fig: Any, *, templates: tuple[str, ...] = ("plotly_white",)) -> str:
    """A plotly figure (``go.Figure`` or plain dict) as plotly.js JSON, safe inside a ``<script>``.

    ``go.Figure.to_dict()`` deep-copies the figure with its whole template (tens of milliseconds per
    figure, a fifth of a results report); this reads the figure's own data and layout without copying
    and names a registered template instead of writing it out again. Every ``<``, ``>`` and ``/`` is
    escaped (as plotly does), so text from a job file cannot close the script it is embedded in.
    """
    if isinstance(fig, Mapping):
        data, layout = fig.get("data", []), dict(fig.get("layout", {}))
    else:
        try:
            data, layout = fig._data, dict(fig._layout)
        except AttributeError:  # a plotly version without them: its public copy
            as_dict = fig.to_dict()
            data, layout = as_dict["data"], dict(as_dict.get("layout", {}))
    template = layout.get("template")
    if isinstance(template, Mapping):
        layout["template"] = next((n for n in templates if template == _template_props(n)), template)
    text = to_json({"data": data, "layout": layout})
    for unsafe, escaped in _SCRIPT_SAFE:  # str.replace runs in C; str.translate with a dict does not
        text = text.replace(unsafe, escaped)
    return text


def figure_from(traces: list[dict[str, Any]], title: str, *, plain: bool = False, **layout: Any) -> Any:
    """A figure from plain trace and layout dicts. Building ``go.Bar(...)`` objects and calling
    ``update_layout`` validates every attribute on the way (tens of milliseconds per figure); one
    ``go.Figure(dict)`` validates the same content at once, several times faster. ``layout`` adds to the
    house layout (title, margins, the white template) or replaces its keys.

    ``plain=True`` returns the dict itself (template by name): a page that only embeds the figure's JSON
    (the report) skips plotly.py's validation and its deep copies altogether; widgets, which need a
    ``go.Figure``, validate the very same dicts, so the tests of either cover both."""
    layout = {k: v for k, v in layout.items() if not (isinstance(v, list) and not v)}  # as plotly.py drops them
    spec = {"data": traces, "layout": {"title": {"text": title, "x": 0.01},
                                       "margin": {"l": 60, "r": 20, "t": 60, "b": 50}, **layout}}
    if plain:
        spec["layout"]["template"] = "plotly_white"
        return spec
    import plotly.graph_objects as go

    return set_template(go.Figure(spec))
