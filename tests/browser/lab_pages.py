"""JupyterLab's state as the browser tests read it, through the app object the test config exposes as
``window.jupyterapp`` (shared by the lab and schedule-viewer tests)."""

KERNEL_IDLE = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle';
}"""
ALL_CELLS_RUN = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  return kernel.status === 'idle' && cells.length > 0 && cells.every(c => c.model.executionCount !== null);
}"""
TRACEBACKS = """() => Array.from(document.querySelectorAll('[data-mime-type="application/vnd.jupyter.error"]'))
  .map(e => e.innerText.slice(0, 500))"""


def run_all_cells(page, url: str, kernel_timeout: int = 60_000, cells_timeout: int = 120_000) -> None:
    """Open a notebook at ``url``, wait for its kernel, run every cell and wait until all have run; a cell
    that raised fails the test with its traceback's first lines."""
    page.goto(url)
    page.wait_for_function(KERNEL_IDLE, timeout=kernel_timeout)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(ALL_CELLS_RUN, timeout=cells_timeout)
    assert page.evaluate(TRACEBACKS) == []
