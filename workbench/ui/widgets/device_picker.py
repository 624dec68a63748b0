"""Device picker: the catalogue (and devices rebuilt from imported results) with what helps choosing."""

from __future__ import annotations

import html

import ipywidgets as widgets

from workbench.ui.session import Session
from workbench.ui.widgets._common import ERROR_COLOUR, Guard, note_html, styled
from workbench.views.report import calibration_tables, html_table


def device_label(entry: dict) -> str:
    state = "" if entry.get("available", True) else " [unavailable]"
    qubits = entry.get("qubits")
    return f"{entry['key']} - {entry.get('title', '')} ({qubits} qubit{'s' if qubits != 1 else ''}, " \
           f"{entry.get('executor', '')}){state}"


def device_info_html(session: Session) -> str:
    """Title, description, availability, executor and the calibration summary of the selected device."""
    entry = session.device_entry()
    device = session.device
    problem = session.device_problem
    state = ("<span style='color:#1a7f37'>available</span>" if problem is None
             else f"<span style='color:{ERROR_COLOUR}'>{html.escape(problem.message)}</span>")
    facts = [
        ("executor", f"{entry.get('executor', '')}: {entry.get('executor_title', '')} ({entry.get('kind', '?')})"),
        ("qubits", str(entry.get("qubits"))),
        ("runs", ", ".join(entry.get("accepts", [])) + " jobs"),
        ("meas_level", ", ".join(str(x) for x in entry.get("meas_levels", []))),
    ]
    if device.dt:
        facts.append(("dt", f"{device.dt * 1e9:g} ns"))
    if entry.get("needs_credentials"):
        facts.append(("credentials", ", ".join(entry["needs_credentials"])))
    if entry.get("imported_from"):
        facts.append(("imported from", entry["imported_from"]))
    rows = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
                   f"<td>{html.escape(v)}</td></tr>" for k, v in facts)
    tables = "".join(html_table(t, css_class="wb-calibration-table") for t in calibration_tables(device))
    return (f"<div><b>{html.escape(entry.get('title') or device.name)}</b> &middot; {state}"
            f"<p style='margin:0.3em 0'>{html.escape(entry.get('description', ''))}</p>"
            f"<table>{rows}</table>{tables}</div>")


class DevicePicker(widgets.VBox):
    """Choosing a device here updates the options form, the job (examples are per device), the schedule.

    CSS classes: ``wb-device-picker`` (this box), ``wb-device-select`` (the list), ``wb-device-info``
    (description and ``wb-calibration-table`` tables).
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._guard = Guard()
        self.select = styled(widgets.Dropdown(description="Device", layout=widgets.Layout(width="100%")),
                             "wb-device-select")
        self.info = styled(widgets.HTML(), "wb-device-info")
        self.message = widgets.HTML()
        super().__init__([self.select, self.message, self.info], layout=widgets.Layout(width="100%"))
        styled(self, "wb-device-picker")
        self.select.observe(self._on_select, names="value")
        session.observers.append(self._on_session)
        self.refresh()

    def refresh(self) -> None:
        with self._guard():
            self.select.options = [(device_label(e), e["key"]) for e in self.session.listing()]
            self.select.value = self.session.device_key
        self.info.value = device_info_html(self.session)

    def _on_select(self, change: dict) -> None:
        if self._guard.active or change["new"] is None:
            return
        try:
            self.session.select_device(change["new"])
            self.message.value = ""
        except Exception as exc:  # shown, never raised into the browser's void
            self.message.value = f"<span style='color:{ERROR_COLOUR}'>{html.escape(str(exc))}</span>"

    def _on_session(self, event: str) -> None:
        imported = event == "results" and len(self.select.options) != len(self.session.device_keys())
        if event == "device" or imported:
            self.refresh()

    def note(self, text: str) -> None:
        self.message.value = note_html(text)
