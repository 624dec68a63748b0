"""The data directory in the results history: where runs are kept, and its earlier runs to load back.

A view over :class:`workbench.ui.session.Session` (``datadir``, ``datadir_entries``,
``load_from_datadir``): the folder (``Workbench(datadir=...)``, ``$WORKBENCH_DATADIR`` or typed here),
the latest runs kept there, newest first, by this workbench or by colleagues, and *Load* to add one to
the results above, where it is viewed and exported like a run of this session.
"""

from __future__ import annotations

import ipywidgets as widgets

from workbench.ui.session import Problem, Session
from workbench.ui.widgets._common import Guard, error_html, note_html, styled


def entry_label(entry) -> str:
    """One run of the list: ``20261130-141203-512-a1b2c3  rabi  qutip-1q  21 exp``."""
    size = f"  {entry.experiments} exp" if entry.experiments is not None else ""
    return f"{entry.tuid}  {entry.name}  {entry.device or '?'}{size}"


class DatadirPanel(widgets.VBox):
    """CSS classes: ``wb-datadir`` (this box), ``wb-datadir-path``, ``wb-datadir-use``, ``wb-datadir-runs``,
    ``wb-datadir-refresh``, ``wb-datadir-load``, ``wb-datadir-status``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._guard = Guard()
        self.path = styled(widgets.Text(description="Data dir", placeholder="a folder to keep every run in "
                                        "(quantify-core's layout); empty: none", layout=widgets.Layout(width="480px")),
                           "wb-datadir-path")
        self.use = styled(widgets.Button(description="Use", icon="folder-open",
                                         tooltip="keep the next runs in this folder and list its runs"),
                          "wb-datadir-use")
        self.runs = styled(widgets.Dropdown(description="Kept runs", layout=widgets.Layout(width="560px")),
                           "wb-datadir-runs")
        self.refresh_button = styled(widgets.Button(description="Refresh", icon="refresh"), "wb-datadir-refresh")
        self.load_button = styled(widgets.Button(description="Load", icon="upload",
                                                 tooltip="add the chosen run to the results above"),
                                  "wb-datadir-load")
        self.status = styled(widgets.HTML(), "wb-datadir-status")
        super().__init__([
            widgets.HBox([self.path, self.use], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.runs, self.refresh_button, self.load_button],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.status,
        ])
        styled(self, "wb-datadir")
        self.use.on_click(lambda _: self.session.set_datadir(self.path.value))
        self.refresh_button.on_click(lambda _: self.refresh())
        self.load_button.on_click(lambda _: self.load())
        session.observers.append(self._on_session)
        self.refresh()

    def refresh(self, note: str | None = None) -> None:
        """List the data directory's latest runs again (a colleague may have added some)."""
        session = self.session
        with self._guard():
            self.path.value = str(session.datadir) if session.datadir is not None else ""
        try:
            found = session.datadir_entries()
        except Exception as exc:
            self.runs.options = []
            self.status.value = error_html([Problem.from_error(exc, "datadir")], prefix="Cannot list the runs:")
            return
        chosen = self.runs.value
        self.runs.options = [(entry_label(e), e.tuid) for e in found]
        if chosen in {e.tuid for e in found}:
            self.runs.value = chosen
        disabled = not found
        self.runs.disabled = self.load_button.disabled = disabled
        if note is not None:
            self.status.value = note
        elif session.datadir is None:
            self.status.value = note_html("no data directory: runs are only kept in this session (type a folder "
                                          "and press Use to keep them)")
        elif session.datadir_problem is not None:
            self.status.value = error_html([session.datadir_problem], prefix="The last run was not kept there:")
        else:
            listed = f"{len(found)} run{'s' if len(found) != 1 else ''} listed" if found else "no runs there yet"
            self.status.value = note_html(f"{session.datadir_note or f'runs are kept in {session.datadir}'}; {listed}")

    def load(self) -> None:
        tuid = self.runs.value
        if not tuid:
            return
        try:
            result = self.session.load_from_datadir(tuid)
        except Exception as exc:
            self.status.value = error_html([Problem.from_error(exc, "datadir")], prefix="Load failed:")
            return
        self.refresh(note_html(f"loaded {result.tuid} ({result.device}) into the results above"))

    def _on_session(self, event: str) -> None:
        if event == "datadir":
            self.refresh()
