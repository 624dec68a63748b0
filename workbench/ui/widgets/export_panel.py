"""Export and import: one click writes the selected result's output folder (the files ``workbench run
--out`` writes, plus ``report.html``) and a zip of it, offered as a download link (the browser may be on
another machine than the kernel); loading a colleague's folder or zip brings back the result, its
device (calibration included) and its job, so the schedule view shows what ran."""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets

from workbench.ui import transfer
from workbench.ui.session import Problem, Session
from workbench.ui.widgets._common import error_html, note_html, styled


def download_link(archive: Path) -> str:
    """A link that downloads the zip into the browser's machine, or why there is none (too large)."""
    href = transfer.download_href(archive)
    name = html.escape(archive.name)
    if href is None:
        size = archive.stat().st_size / 1024**2
        return note_html(f"{archive.name} is {size:.0f} MB, too large for a download link; it is on the kernel's "
                         f"machine at {archive}")
    return (f"<a class='wb-download-link' href='{href}' download='{name}' style='font-weight:bold'>"
            f"&#x2B73; Download {name}</a>")


class ExportPanel(widgets.VBox):
    """CSS classes: ``wb-export`` (this box), ``wb-export-path``, ``wb-export-zip``, ``wb-export-button``,
    ``wb-export-download`` (the zip's download link), ``wb-import-path``, ``wb-import-button``,
    ``wb-import-upload``, ``wb-export-status``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.folder = styled(widgets.Text(description="Folder", placeholder="results/<tuid> (new or empty)",
                                          layout=widgets.Layout(width="420px")), "wb-export-path")
        self.archive = styled(widgets.Checkbox(value=True, description="and a .zip to download", indent=False,
                                               layout=widgets.Layout(width="190px")), "wb-export-zip")
        self.export_button = styled(widgets.Button(description="Export", icon="download",
                                                   tooltip="output folder + report.html of the selected result"),
                                    "wb-export-button")
        self.source = styled(widgets.Text(description="Load", placeholder="output folder, .zip or dataset.nc",
                                          layout=widgets.Layout(width="420px")), "wb-import-path")
        self.import_button = styled(widgets.Button(description="Import", icon="upload"), "wb-import-button")
        self.upload = styled(widgets.FileUpload(accept=".zip,.nc", multiple=False, description="Upload zip"),
                             "wb-import-upload")
        self.status = styled(widgets.HTML(), "wb-export-status")
        self.download = styled(widgets.HTML(), "wb-export-download")
        super().__init__([
            widgets.HBox([self.folder, self.archive, self.export_button], layout=widgets.Layout(flex_flow="row wrap")),
            self.download,
            widgets.HBox([self.source, self.import_button, self.upload], layout=widgets.Layout(flex_flow="row wrap")),
            self.status,
        ])
        styled(self, "wb-export")
        self.export_button.on_click(lambda _: self.export())
        self.import_button.on_click(lambda _: self.load())
        self.upload.observe(self._on_upload, names="value")

    def export(self) -> None:
        self.download.value = ""
        try:
            written = self.session.export_result(self.folder.value.strip() or None, archive=self.archive.value)
        except Exception as exc:
            self.status.value = error_html([Problem.from_error(exc, "export")], prefix="Export failed:")
            return
        self.status.value = note_html(written.describe())
        if written.archive is not None:
            self.download.value = download_link(written.archive)

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
