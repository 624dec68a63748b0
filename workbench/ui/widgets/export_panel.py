"""Export and import: one click writes the selected result's output folder (the files ``workbench run
--out`` writes, plus ``report.html``, optionally zipped); loading a colleague's folder or zip brings
back the result, its device (calibration included) and its job, so the schedule view shows what ran."""

from __future__ import annotations

import ipywidgets as widgets

from workbench.ui.session import Problem, Session
from workbench.ui.widgets._common import error_html, note_html, styled


class ExportPanel(widgets.VBox):
    """CSS classes: ``wb-export`` (this box), ``wb-export-path``, ``wb-export-zip``, ``wb-export-button``,
    ``wb-import-path``, ``wb-import-button``, ``wb-import-upload``, ``wb-export-status``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.folder = styled(widgets.Text(description="Folder", placeholder="results/<tuid> (new or empty)",
                                          layout=widgets.Layout(width="420px")), "wb-export-path")
        self.archive = styled(widgets.Checkbox(description="also write a .zip", indent=False,
                                               layout=widgets.Layout(width="160px")), "wb-export-zip")
        self.export_button = styled(widgets.Button(description="Export", icon="download",
                                                   tooltip="output folder + report.html of the selected result"),
                                    "wb-export-button")
        self.source = styled(widgets.Text(description="Load", placeholder="output folder, .zip or dataset.nc",
                                          layout=widgets.Layout(width="420px")), "wb-import-path")
        self.import_button = styled(widgets.Button(description="Import", icon="upload"), "wb-import-button")
        self.upload = styled(widgets.FileUpload(accept=".zip,.nc", multiple=False, description="Upload zip"),
                             "wb-import-upload")
        self.status = styled(widgets.HTML(), "wb-export-status")
        super().__init__([
            widgets.HBox([self.folder, self.archive, self.export_button], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.source, self.import_button, self.upload], layout=widgets.Layout(flex_flow="row wrap")),
            self.status,
        ])
        styled(self, "wb-export")
        self.export_button.on_click(lambda _: self.export())
        self.import_button.on_click(lambda _: self.load())
        self.upload.observe(self._on_upload, names="value")

    def export(self) -> None:
        try:
            written = self.session.export_result(self.folder.value.strip() or None, archive=self.archive.value)
        except Exception as exc:
            self.status.value = error_html([Problem.from_error(exc, "export")], prefix="Export failed:")
            return
        self.status.value = note_html(written.describe())

    def load(self) -> None:
        path = self.source.value.strip()
        if not path:
            self.status.value = error_html(["type the path of an output folder, a .zip or a dataset.nc"])
            return
        try:
            result = self.session.import_result(path)
        except Exception as exc:
            self.status.value = error_html([Problem.from_error(exc, "import")], prefix="Import failed:")
            return
        self.status.value = note_html(f"loaded {result.tuid} ({result.device}) from {path}")

    def _on_upload(self, change: dict) -> None:
        if not change["new"]:
            return
        item = change["new"][0]
        try:
            result = self.session.import_upload(item["name"], bytes(item["content"]))
            self.status.value = note_html(f"loaded {result.tuid} ({result.device}) from {item['name']}")
        except Exception as exc:
            self.status.value = error_html([Problem.from_error(exc, "import")], prefix="Import failed:")
        finally:
            self.upload.value = ()
