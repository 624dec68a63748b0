"""The workbench in xarray: the ``wb`` accessor on result Datasets and the ``workbench`` engine.

::

    import xarray as xr

    ds = xr.open_dataset("x-gate-result/dataset.nc")   # any engine, no workbench import needed
    ds.wb.counts()                  # {'1': 993, '0': 7}: the first experiment (or experiment=3, ="rabi-003")
    ds.wb.distribution(experiment=0)
    ds.wb.plot_counts()             # plotly figures, as the workbench draws them
    ds.wb.plot_sweep()
    ds.wb.export("copy")            # the files `workbench run --out` writes; never over existing ones
    ds.wb.result                    # the workbench.Result behind all of these

    ds = xr.open_dataset("x-gate-result")               # an output folder: the `workbench` engine

The accessor is a thin view over :class:`workbench.results.result.Result` (built on the Dataset
with :func:`workbench.results.dataset.decoded`, since xarray's default engine reads the stored complex
IQ as ``(r, i)`` records); the figures are :mod:`workbench.views.result_figures`'.

``ds.wb`` exists once this module is imported, which happens

* when xarray loads its backend plugins (the ``xarray.backends`` entry point ``workbench`` names the
  engine below): on the first ``xr.open_dataset`` that does not name a built-in engine;
* on ``import workbench`` when xarray is already imported;
* when the workbench builds or loads a result Dataset (it asks xarray to load its plugins).

So ``import workbench`` alone never imports xarray. This module sits in the interfaces layer, not in
results: the accessor draws with ``workbench.views``, which the results layer may not import.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr
from xarray.backends import BackendEntrypoint

from workbench.errors import InputError
from workbench.results.dataset import check_result_dataset, decoded
from workbench.results.result import Result, dataset_file

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from workbench.analysis.base import AnalysisResult

__all__ = ["WorkbenchAccessor", "WorkbenchBackendEntrypoint"]


@xr.register_dataset_accessor("wb")
class WorkbenchAccessor:
    """``ds.wb``: a result Dataset as a workbench :class:`~workbench.results.result.Result`."""

    def __init__(self, dataset: xr.Dataset) -> None:
        self._dataset = dataset
        self._result: Result | None = None

    @property
    def result(self) -> Result:
        """The Result over this Dataset (refused, with one line, for a Dataset that is not a result)."""
        if self._result is None:
            check_result_dataset(self._dataset, _source(self._dataset))
            self._result = Result(decoded(self._dataset))
        return self._result

    def counts(self, experiment: int | str = 0) -> dict[str, int]:
        """Counts of one experiment (index or name), most frequent first."""
        return self.result.counts(experiment)

    def distribution(self, experiment: int | str = 0) -> dict[str, float]:
        """The counts of one experiment divided by its shots."""
        return self.result.distribution(experiment)

    def export(self, folder: str | os.PathLike[str]) -> Path:
        """Write the output folder :meth:`Result.export` writes (a new or empty folder only)."""
        return self.result.export(folder)

    def plot_counts(self, experiments: Sequence[int | str] | None = None, *, normalise: bool = False) -> go.Figure:
        """Counts per outcome, one bar colour per experiment (default: all of a small job, else the first)."""
        from workbench.views.result_figures import counts_figure

        result = self.result
        chosen = None if experiments is None else [result._experiment_index(e) for e in experiments]
        figure = counts_figure(result, chosen, normalise=normalise)
        if figure is None:
            raise InputError("this result has no counts to plot (meas_level 2 produces them)", None,
                             _source(self._dataset))
        return figure

    def plot_sweep(self) -> go.Figure:
        """The sweep figure: P(1) or the IQ projection (and exact populations, when recorded) against the
        swept value, a map for two swept parameters, with the fit of the analysis the Dataset holds."""
        from workbench.views.result_figures import sweep_figure

        figure = sweep_figure(self.result)
        if figure is None:
            raise InputError("this result is not a sweep: its experiments do not differ by one or two numeric "
                             "coordinates", None, _source(self._dataset))
        return figure

    def analyse(self, analysis: str | None = None, **options: Any) -> AnalysisResult:
        """Fit the Dataset (``workbench.analysis``; default: the analysis it calls for). The Dataset is not
        changed; ``ds.wb.result`` keeps the analysis, so ``ds.wb.export`` writes it."""
        return self.result.analyse(analysis, **options)


def _source(ds: xr.Dataset) -> str | None:
    source = ds.encoding.get("source")
    return str(source) if source else None


class WorkbenchBackendEntrypoint(BackendEntrypoint):
    """``xr.open_dataset(folder_or_file, engine="workbench")``: a workbench output folder (or its
    ``dataset.nc``) read into memory, schema checked, IQ as complex, the file closed afterwards.

    Folders holding a ``dataset.nc`` (or a data directory's ``dataset.hdf5``) are recognised without
    ``engine=``; ``.nc`` files are left to xarray's netCDF engines unless ``engine="workbench"`` is
    given (the accessor works either way).
    """

    description = "workbench result: an output folder or its dataset.nc (complex IQ, schema checked)"
    open_dataset_parameters = ("filename_or_obj", "drop_variables")

    def open_dataset(self, filename_or_obj: Any, *, drop_variables: str | Iterable[str] | None = None) -> xr.Dataset:
        path = _path(filename_or_obj)
        if path is None:
            raise InputError("the workbench engine opens an output folder or a dataset.nc file by path")
        dataset = Result.load(path).dataset
        if drop_variables is not None:
            names = [drop_variables] if isinstance(drop_variables, str) else list(drop_variables)
            dataset = dataset.drop_vars(names, errors="ignore")
        return dataset

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        path = _path(filename_or_obj)
        return path is not None and path.is_dir() and dataset_file(path) is not None


def _path(filename_or_obj: Any) -> Path | None:
    if isinstance(filename_or_obj, str | os.PathLike):
        return Path(os.fspath(filename_or_obj)).expanduser()
    return None
