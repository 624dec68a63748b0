"""Results panel: every result of the session (earlier ones stay selectable) drawn from its Dataset.

Figures come from :mod:`workbench.views.result_figures`; this panel chooses the result and the
experiment. A sweep leads: its figure (with the analysis' fit when the result holds one; the session
fits results with the analysis they call for) and the parameter table
(:func:`workbench.views.analysis_figures.parameter_table_html`), then one experiment at a time,
picked by its swept value. Executor artefacts (e.g. the Q1ASM programs and timing tables of a Qblox run) are listed
in an accordion, one entry per file.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from workbench.results.result import Result
from workbench.ui.session import Session
from workbench.ui.widgets._common import FigureView, Guard, note_html, styled
from workbench.views import result_figures as rf
from workbench.views.analysis_figures import parameter_table_html, summary_html

MAX_ATTR_CHARS = 2000  # attributes such as job_source can be megabytes; the repr shows their start
MAX_ARTIFACT_CHARS = 200_000


def result_label(index: int, result: Result) -> str:
    count = len(result.experiment_names)
    name = result.dataset.attrs.get("name", "")
    return f"{index + 1}. {result.tuid}: {name} on {result.device} ({count} exp)"


def dataset_html(result: Result) -> str:
    """The Dataset's HTML repr, with long attributes shortened (the full ones are in the exported files)."""
    ds = result.dataset.copy(deep=False)
    ds.attrs = {k: (v[:MAX_ATTR_CHARS] + f"... ({len(v)} characters)" if isinstance(v, str) and len(v) > MAX_ATTR_CHARS
                    else v) for k, v in ds.attrs.items()}
    return f"<p><b>{html.escape(result.summary())}</b></p>" + ds._repr_html_()


class ResultsPanel(widgets.VBox):
    """CSS classes: ``wb-results`` (this box), ``wb-result-select``, ``wb-result-experiment``,
    ``wb-result-summary``, ``wb-histogram``, ``wb-distribution``, ``wb-sweep``, ``wb-iq`` (figures, each
    also ``wb-figure``), ``wb-analysis`` (the verdict and the parameter table, a ``table.wb-analysis-table``
    with one ``tr[data-parameter=NAME]`` per parameter), ``wb-dataset``, ``wb-artifacts``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._guard = Guard()
        self._shown: tuple[int, int] | None = None  # (id of the result, experiment choice) on screen
        self.select = styled(widgets.Dropdown(description="Result", layout=widgets.Layout(width="560px")),
                             "wb-result-select")
        self.experiment = styled(widgets.Dropdown(description="Experiment", layout=widgets.Layout(width="360px")),
                                 "wb-result-experiment")
        self.summary = styled(widgets.HTML(note_html("No results yet: run a job or import a result.")),
                              "wb-result-summary")
        self.histogram = FigureView("wb-histogram")
        self.distribution = FigureView("wb-distribution")
        self.sweep = FigureView("wb-sweep")
        self.analysis = styled(widgets.HTML(), "wb-analysis")
        self.iq = FigureView("wb-iq")
        self.dataset = styled(widgets.HTML(), "wb-dataset")
        self.dataset_box = widgets.Accordion(children=[self.dataset], titles=("Dataset",))
        self.dataset_box.selected_index = None
        self.artifacts = styled(widgets.Accordion(), "wb-artifacts")
        super().__init__([widgets.HBox([self.select, self.experiment], layout=widgets.Layout(flex_flow="row wrap")),
                          self.summary, self.sweep, self.analysis, self.histogram, self.distribution, self.iq,
                          self.dataset_box, self.artifacts])
        styled(self, "wb-results")
        self.select.observe(self._on_select, names="value")
        self.experiment.observe(self._on_experiment, names="value")
        session.observers.append(self._on_session)
        self.refresh()

    @property
    def result(self) -> Result | None:
        return self.session.selected_result

    def refresh(self) -> None:
        results = self.session.results
        selected = self.session.selected_index
        with self._guard():
            self.select.options = [(result_label(i, r), i) for i, r in enumerate(results)]
            self.select.value = selected
        result = self.session.selected_result
        if result is None:
            for view in (self.histogram, self.distribution, self.sweep, self.iq):
                view.show(None)
            self.analysis.value = ""
            self.analysis.layout.display = "none"
            self.dataset_box.layout.display = "none"
            self.artifacts.layout.display = "none"
            self.experiment.layout.display = "none"
            self.select.layout.display = "none"
            return
        self.select.layout.display = None
        self.experiment.layout.display = None
        self.dataset_box.layout.display = None
        names = result.experiment_names
        options = ([("all", -1)] if 1 < len(names) <= rf.MAX_BAR_EXPERIMENTS else []) + \
                  [(f"{i}: {rf.experiment_label(result, i)}", i) for i in range(len(names))]
        with self._guard():
            if list(self.experiment.options) != options:
                self.experiment.options = options
                self.experiment.value = options[0][1]
        self.summary.value = f"<b>{html.escape(result.summary())}</b>"
        analysis = result.analysis
        self.analysis.value = parameter_table_html(analysis) + summary_html(analysis) if analysis is not None else ""
        self.analysis.layout.display = None if analysis is not None else "none"
        self._draw(result)
        self.dataset.value = dataset_html(result)
        self._artifacts(result)

    def _draw(self, result: Result) -> None:
        choice = self.experiment.value if self.experiment.value is not None else -1
        experiments = rf.default_experiments(result) if choice == -1 else [choice]
        single = 0 if choice == -1 else choice
        self.histogram.show(rf.outcomes_figure(result, experiments),  # counts, and probability by its toggle
                            "" if result.has_counts else "no counts: the run did not discriminate (meas_level 1)")
        self.distribution.show(None)
        self.sweep.show(rf.sweep_figure(result))
        self.iq.show(rf.iq_figure(result, single))
        self._shown = (id(result), choice)

    def _artifacts(self, result: Result) -> None:
        artifacts = result.artifacts
        if not artifacts:
            self.artifacts.children = ()
            self.artifacts.layout.display = "none"
            return
        children, titles = [], []
        for name, text in sorted(artifacts.items()):
            shown = text if len(text) <= MAX_ARTIFACT_CHARS else text[:MAX_ARTIFACT_CHARS] + "\n... (truncated)"
            children.append(styled(widgets.HTML(f"<pre style='font-size:11px;max-height:400px;overflow:auto'>"
                                                f"{html.escape(shown)}</pre>"), "wb-artifact"))
            titles.append(name)
        self.artifacts.children = children
        self.artifacts.titles = tuple(titles)
        self.artifacts.selected_index = None
        self.artifacts.layout.display = None

    def _on_session(self, event: str) -> None:
        if event == "results":
            self.refresh()

    def _on_select(self, change: dict) -> None:
        if not self._guard.active and change["new"] is not None:
            self.session.select_result(int(change["new"]))

    def _on_experiment(self, change: dict) -> None:
        result = self.result
        if not self._guard.active and result is not None and change["new"] is not None:
            self._draw(result)
