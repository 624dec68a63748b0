"""Job source: a built-in example, a file on the kernel's machine, an upload, or text pasted and edited.

Whatever the source, its text appears in the editor, and errors appear under it with their location
(the JSON path of a PulseQobj instruction, the line of an OpenQASM statement), as the CLI prints them.
"""

from __future__ import annotations

import ipywidgets as widgets

from workbench.examples import listing
from workbench.ui.session import Session
from workbench.ui.widgets._common import Guard, error_html, note_html, styled

MAX_EDITABLE_CHARS = 2_000_000  # larger jobs load and run, but a browser text box is no place for them


class JobSourcePanel(widgets.VBox):
    """CSS classes: ``wb-job-source`` (this box), ``wb-job-example``, ``wb-job-path``, ``wb-job-load``,
    ``wb-job-upload``, ``wb-job-text`` (the editor), ``wb-job-info``, ``wb-job-error``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._guard = Guard()
        self.example = styled(widgets.Dropdown(
            description="Example", options=[("-", ""), *((f"{e['name']}: {e['description']}", e["name"])
                                                       for e in listing())],
            layout=widgets.Layout(width="420px")), "wb-job-example")
        self.path = styled(widgets.Text(description="File", placeholder="path on the kernel's machine",
                                        layout=widgets.Layout(width="360px")), "wb-job-path")
        self.load = styled(widgets.Button(description="Load", icon="folder-open"), "wb-job-load")
        self.upload = styled(widgets.FileUpload(accept=".json,.qasm,.txt", multiple=False, description="Upload"),
                             "wb-job-upload")
        self.text = styled(widgets.Textarea(
            placeholder="paste PulseQobj JSON or OpenQASM here", continuous_update=False,
            layout=widgets.Layout(width="100%", height="260px")), "wb-job-text")
        self.info = styled(widgets.HTML(), "wb-job-info")
        self.error = styled(widgets.HTML(), "wb-job-error")
        controls = widgets.HBox([self.example, self.path, self.load, self.upload],
                                layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([controls, self.text, self.info, self.error])
        styled(self, "wb-job-source")
        self.example.observe(self._on_example, names="value")
        self.load.on_click(self._on_load)
        self.upload.observe(self._on_upload, names="value")
        self.text.observe(self._on_text, names="value")
        session.observers.append(self._on_session)
        self.refresh()

    def refresh(self) -> None:
        source = self.session.source
        with self._guard():
            self.example.value = source.example if source is not None and source.kind == "example" else ""
            if source is not None and source.kind == "path":
                self.path.value = source.origin or ""
            text = source.text if source is not None else ""
            if len(text) > MAX_EDITABLE_CHARS:
                self.text.value = ""
                self.text.disabled = True
                self.text.placeholder = (f"{source.label}: {len(text) / 1e6:.1f} MB, too large to edit here "
                                         "(it is loaded and runs as is)")
            else:
                self.text.disabled = False
                self.text.placeholder = "paste PulseQobj JSON or OpenQASM here"
                if self.text.value != text:
                    self.text.value = text
        problem = self.session.job_problem
        self.info.value = note_html(self.session.job_summary()) if self.session.job is not None else ""
        self.error.value = error_html([problem]) if problem is not None else ""

    def _on_session(self, event: str) -> None:
        if event in ("job", "device"):
            self.refresh()

    def _on_example(self, change: dict) -> None:
        if not self._guard.active and change["new"]:
            self.session.set_example(change["new"])

    def _on_load(self, _: widgets.Button) -> None:
        if self.path.value.strip():
            self.session.set_job_path(self.path.value.strip())
        else:
            self.error.value = error_html(["type a file path first"])

    def _on_upload(self, change: dict) -> None:
        if self._guard.active or not change["new"]:
            return
        item = change["new"][0]
        self.session.set_job_upload(item["name"], bytes(item["content"]))
        with self._guard():
            self.upload.value = ()  # the job is in the session; no copy left in the widget state

    def _on_text(self, change: dict) -> None:
        if not self._guard.active:
            self.session.set_job_text(change["new"])
