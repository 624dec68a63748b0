"""A run's result: a thin object over the Dataset, which is the single source of truth.

Everything a :class:`Result` knows (options, trace, job text, device calibration) lives in the
Dataset's attributes, so a Dataset reloaded from ``dataset.nc`` is a complete result again.
"""

from __future__ import annotations

import html
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.errors import InputError
from workbench.results.counts import distribution
from workbench.results.dataset import check_result_dataset, json_attr, json_text, load_dataset, save_dataset

if TYPE_CHECKING:
    from collections.abc import Sequence

    import xarray as xr

    from workbench.analysis.base import AnalysisResult


DATASET_FILES = ("dataset.nc", "dataset.hdf5")  # an output folder's; a data directory's (quantify-core's name)


def dataset_file(folder: str | os.PathLike[str]) -> Path | None:
    """The dataset file of an output folder or a data directory's run folder, None when it has none."""
    for name in DATASET_FILES:
        file = Path(folder) / name
        if file.is_file():
            return file
    return None


class Result:
    """One run's result: counts, distributions and the output folder, all read from ``dataset``.

    :func:`workbench.run` returns one; :meth:`load` (or :func:`workbench.load_result`) reads one back
    from an output folder or a ``dataset.nc`` file, equal to the original.
    """

    def __init__(self, dataset: xr.Dataset, *, schedules: Sequence[Any] | None = None):
        self.dataset = dataset
        # The schedules that ran, while this process still has them: the report draws one from here
        # instead of rebuilding the job from its text (a fifth of a 200-experiment report). Never saved:
        # a reloaded result rebuilds them from ``job_source``.
        self.schedules = schedules

    # -- identity -------------------------------------------------------------------------------
    @property
    def tuid(self) -> str:
        return str(self.dataset.attrs.get("tuid", ""))

    @property
    def device(self) -> str:
        return str(self.dataset.attrs.get("device", ""))

    @property
    def executor(self) -> str:
        return str(self.dataset.attrs.get("executor", ""))

    @property
    def job_id(self) -> str:
        return str(self.dataset.attrs.get("job_id", ""))

    @property
    def run_id(self) -> str:
        """The run's uuid4, the ``ID`` every QHAna file of this run carries (empty for results saved before
        runs had one: :meth:`with_run_id` gives those one)."""
        return str(self.trace.get("ID", ""))

    def with_run_id(self) -> Result:
        """This result, or for one saved without a run ID a copy that has one in its trace and options."""
        if self.run_id:
            return self
        from workbench.results.qhana import new_run_id

        run_id = new_run_id()
        ds = self.dataset.copy()
        ds.attrs["trace"] = json_text({**self.trace, "ID": run_id})
        ds.attrs["options"] = json_text({**self.options, "ID": run_id})
        return Result(ds)

    @property
    def experiment_names(self) -> list[str]:
        return [str(n) for n in self.dataset["experiment_name"].values]

    @property
    def options(self) -> dict[str, Any]:
        """The reproducible execution options (no secrets)."""
        return json_attr(self.dataset, "options", {})

    @property
    def trace(self) -> dict[str, Any]:
        return json_attr(self.dataset, "trace", {})

    @property
    def device_config(self) -> dict[str, Any]:
        return json_attr(self.dataset, "device_config", {})

    @property
    def artifacts(self) -> dict[str, str]:
        return json_attr(self.dataset, "artifacts", {}) or {}

    # -- counts ---------------------------------------------------------------------------------
    @property
    def has_counts(self) -> bool:
        return "counts" in self.dataset

    def _experiment_index(self, experiment: int | str) -> int:
        names = self.experiment_names
        if isinstance(experiment, str):
            if experiment not in names:
                raise InputError(f"no experiment named '{experiment}'; experiments: {', '.join(names[:10])}")
            return names.index(experiment)
        if not -len(names) <= experiment < len(names):
            raise InputError(f"experiment index {experiment} out of range (0..{len(names) - 1})")
        return experiment % len(names)

    def counts_list(self) -> list[dict[str, int]]:
        """Counts of every experiment, most frequent first, zero entries left out."""
        if not self.has_counts:
            raise InputError("this result has no counts (meas_level 2 produces them)")
        table = np.asarray(self.dataset["counts"].values)
        outcomes = np.asarray([str(o) for o in self.dataset["outcome"].values], dtype=object)
        out = []
        for row in table:
            seen = np.flatnonzero(row > 0)  # numpy, not a Python loop: a million outcomes per row happen
            pairs = list(zip(outcomes[seen].tolist(), row[seen].tolist(), strict=True))
            pairs.sort(key=lambda kv: (-kv[1], kv[0]))
            out.append(dict(pairs))
        return out

    def counts(self, experiment: int | str = 0) -> dict[str, int]:
        """Counts of one experiment (by index or name)."""
        return self.counts_list()[self._experiment_index(experiment)]

    def distribution(self, experiment: int | str = 0) -> dict[str, float]:
        return distribution(self.counts(experiment))

    def statevectors(self) -> list[np.ndarray] | None:
        if "statevector" not in self.dataset:
            return None
        return [np.asarray(v) for v in self.dataset["statevector"].values]

    # -- sweep and analysis -----------------------------------------------------------------------
    @property
    def sweep(self) -> list[str]:
        """The one or two swept coordinates (``amp``, ``delay``...), empty when the job is not a sweep."""
        from workbench.analysis.sweep import swept

        return swept(self.dataset)

    @property
    def analysis(self) -> AnalysisResult | None:
        """The analysis this result holds (from :meth:`analyse`, or reloaded from ``dataset.nc``), or None."""
        from workbench.analysis.base import attached

        return attached(self.dataset)

    def analyse(self, name: str | None = None, **options: Any) -> AnalysisResult:
        """Run an analysis (``name`` from ``workbench.analysis.ANALYSES``, default: the one the result calls
        for) and keep it in the Dataset, so :meth:`export` writes ``analysis.json`` and the fit into
        ``dataset.nc``. Raises :class:`~workbench.errors.InputError` when none applies."""
        from workbench.analysis import analyse
        from workbench.analysis.base import attach

        analysis = analyse(self.dataset, name, **options)
        self.dataset = attach(self.dataset, analysis)
        return analysis

    # -- files ----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the Dataset alone (NetCDF)."""
        save_dataset(self.dataset, path)
        return Path(path)

    def export(self, folder: str | os.PathLike[str], *, report: bool = True,
               cancel: threading.Event | None = None) -> Path:
        """Write the standard output folder (new or empty folder only), with ``report.html`` unless
        ``report=False`` and ``analysis.json`` when the result holds an analysis; a ``cancel`` flag set by
        then keeps nothing."""
        from workbench.results.exports import write_folder

        return write_folder(self, folder, report=report, cancel=cancel)

    def to_datadir(self, datadir: str | os.PathLike[str] | None = None, *,
                   cancel: threading.Event | None = None) -> Path:
        """Keep this run in a data directory (default ``$WORKBENCH_DATADIR``), in quantify-core's layout:
        ``<datadir>/<YYYYMMDD>/<tuid>-<name>/`` (:mod:`workbench.results.datadir`); ``cancel`` as for
        :meth:`export`."""
        from workbench.results.datadir import save

        return save(self, datadir, cancel=cancel)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Result:
        """Reload from an output folder (or a data directory's run folder) or its dataset file."""
        p = Path(path)
        file = dataset_file(p) if p.is_dir() else p
        if file is None or not file.exists():
            raise InputError("no dataset.nc found (expected an output folder or a .nc file)", None, str(p))
        ds = load_dataset(file)  # bounded, and every failure is an InputError naming the file
        check_result_dataset(ds, str(file))
        return cls(ds)

    # -- display --------------------------------------------------------------------------------
    def summary(self) -> str:
        names = self.experiment_names
        line = (f"Result {self.tuid}: device {self.device} ({self.executor}), {len(names)} experiment"
                f"{'s' if len(names) != 1 else ''}, shots {self.options.get('shots')}, "
                f"seed {self.options.get('seed')}")
        sweep = self.sweep
        if sweep:
            line += f"; a sweep over {' and '.join(sweep)}"
        elif self.has_counts and names:
            first = self.counts(0)
            top = ", ".join(f"{k!r}: {v}" for k, v in list(first.items())[:4])
            line += f"; {names[0]}: {{{top}{', ...' if len(first) > 4 else ''}}}"
        analysis = self.analysis
        if analysis is not None:
            shown = "; ".join(f"{label} {text}" for _, label, text in analysis.table()[:2])
            line += f"; {analysis.name}: " + (shown if analysis.ok else "FAILED")
        return line

    def __repr__(self) -> str:
        return f"<{self.summary()}>"

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.summary())}</b></p>" + self.dataset._repr_html_()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Result) and self.dataset.identical(other.dataset)

    __hash__ = None  # type: ignore[assignment]
