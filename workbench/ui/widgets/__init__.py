"""ipywidgets views over :class:`workbench.ui.session.Session` and :class:`workbench.ui.runner.Runner`.

Each panel is an ``ipywidgets.VBox`` that shows session state and turns user actions into session
calls; none of them knows an executor. :class:`workbench.ui.app.Workbench` puts them together.
"""

from workbench.ui.widgets.device_picker import DevicePicker
from workbench.ui.widgets.export_panel import ExportPanel
from workbench.ui.widgets.job_source import JobSourcePanel
from workbench.ui.widgets.options_form import OptionsForm
from workbench.ui.widgets.results_panel import ResultsPanel
from workbench.ui.widgets.run_panel import RunPanel
from workbench.ui.widgets.schedule_view import ScheduleView

__all__ = ["DevicePicker", "ExportPanel", "JobSourcePanel", "OptionsForm", "ResultsPanel", "RunPanel",
           "ScheduleView"]
