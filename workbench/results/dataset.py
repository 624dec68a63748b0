"""The result Dataset: one schema for every executor, saved as NetCDF and reloaded without loss.

Dimensions: ``experiment`` x ``shot`` x ``slot`` (memory slot), plus ``outcome`` (bit strings seen)
and ``level`` (transmon levels) where present. Variables (each only when the run produced it):

===================  =================================  ======================================
``iq``               (experiment, shot, slot) complex   integrated IQ point per shot
``iq_mean``          (experiment, slot) complex         shot-averaged IQ (meas_return avg)
``memory``           (experiment, shot, slot) int8      discriminated bit per shot
``counts``           (experiment, outcome) int64        shots per bit string (slot 0 rightmost)
``populations``      (experiment, slot, level) float    exact level probabilities (simulators)
===================  =================================  ======================================

Coordinates: ``experiment`` (index), ``experiment_name``, ``slot``, ``shot``, ``outcome``,
``slot_qubit`` (experiment, slot; -1 where nothing was acquired) and one coordinate per scalar
metadata key shared by all experiments (``amp``, ``delay``...), so sweeps plot directly.

Attributes follow quantify-core's habit: ``tuid`` and plain strings; everything structured
(``options``, ``trace``, ``device_config``) is a JSON string, because netCDF attributes cannot hold
dicts, None or booleans.
"""

from __future__ import annotations

import json
import keyword
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.errors import InputError
from workbench.results.counts import experiment_counts

if TYPE_CHECKING:
    import xarray as xr

    from workbench.executors.base import ExecutionData
    from workbench.schedule.ir import Schedule

SCHEMA = "workbench-result/1"
JSON_ATTRS = ("options", "trace", "device_config", "artifacts")
#: Further JSON attributes that views read back (the analysis, the swept coordinates), with their type.
READ_JSON_ATTRS: dict[str, type] = {"analysis": dict, "sweep": list}


def _sweep_coordinates(schedules: Sequence[Schedule], taken: set[str]) -> dict[str, list[Any]]:
    """Scalar metadata keys present in every experiment become coordinates along ``experiment``."""
    if not schedules:
        return {}
    coords: dict[str, list[Any]] = {}
    for key in schedules[0].metadata:
        if not key.isidentifier() or keyword.iskeyword(key) or key in taken or key == "name":
            continue
        values = [s.metadata.get(key) for s in schedules]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            coords[key] = [float(v) for v in values]
        elif all(isinstance(v, str) for v in values):
            coords[key] = values
    return coords


def build_dataset(
    *,
    experiment_names: Sequence[str],
    schedules: Sequence[Schedule],
    data: ExecutionData,
    meas_level: int,
    meas_return: str,
    attrs: dict[str, Any],
) -> xr.Dataset:
    """Assemble the Dataset from what an executor returned (already discriminated by the core)."""
    xr = _xarray()

    n_exp, n_slot = data.slot_qubit.shape
    variables: dict[str, Any] = {}
    coords: dict[str, Any] = {
        "experiment": np.arange(n_exp),
        "experiment_name": ("experiment", np.array(list(experiment_names), dtype=object).astype(str)),
        "slot": np.arange(n_slot),
        "slot_qubit": (("experiment", "slot"), data.slot_qubit.astype(np.int64)),
    }
    per_shot = data.iq is not None or data.memory is not None
    if per_shot:
        shots = (data.iq if data.iq is not None else data.memory).shape[1]
        coords["shot"] = np.arange(shots)
    if data.iq is not None and not (meas_level == 1 and meas_return == "avg"):
        variables["iq"] = (("experiment", "shot", "slot"), data.iq.astype(complex))
    if data.iq_mean is not None:
        variables["iq_mean"] = (("experiment", "slot"), data.iq_mean.astype(complex))
    if data.memory is not None:
        variables["memory"] = (("experiment", "shot", "slot"), data.memory.astype(np.int8))
        per_exp = experiment_counts(data.memory, [s.memory_slots for s in schedules],
                                    [getattr(s, "creg_sizes", ()) for s in schedules])
        outcomes = sorted({k for c in per_exp for k in c}, key=lambda k: (len(k), k))
        table = np.array([[c.get(k, 0) for k in outcomes] for c in per_exp], dtype=np.int64)
        variables["counts"] = (("experiment", "outcome"), table.reshape(n_exp, len(outcomes)))
        coords["outcome"] = np.array(outcomes, dtype=object).astype(str) if outcomes else np.array([], dtype=str)
    for name, (dims, array) in data.extras.items():
        variables[name] = (dims, array)
    for key, values in _sweep_coordinates(schedules, set(variables) | set(coords)).items():
        coords[key] = ("experiment", values)
    ds = xr.Dataset(variables, coords=coords)
    ds.attrs = {"schema": SCHEMA, **{k: _attr(k, v) for k, v in attrs.items()}}
    _record_sweep(ds, schedules)
    for name, text in (("iq", "integrated IQ per shot"), ("memory", "discriminated bit per shot"),
                       ("counts", "shots per outcome, slot 0 rightmost"),
                       ("populations", "exact level probabilities at acquisition")):
        if name in ds:
            ds[name].attrs["long_name"] = text
    return ds


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored in a result file (netCDF text is NUL-terminated UTF-8), or None.

    Checked before a run (:func:`workbench.core.prepare`): found while saving, it cost the whole run."""
    if "\x00" in text:
        return f"contains a NUL character (at {text.index(chr(0))})"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone surrogate ({text[exc.start]!a} at {exc.start}), which is not text"
    return None


def _record_sweep(ds: xr.Dataset, schedules: Sequence[Any]) -> None:
    """The one or two swept parameters (metadata, else found in the schedules) as ``attrs["sweep"]``;
    those found in the schedules become coordinates too, with their unit."""
    from workbench.analysis.sweep import detect

    names = []
    for parameter in detect(schedules):
        name = parameter.name
        if parameter.source == "schedule":
            if name in ds.variables:
                name = f"{name}_{parameter.channel}"
            if name in ds.variables:
                continue
            ds.coords[name] = ("experiment", np.asarray(parameter.values, dtype=float))
            ds[name].attrs["source"] = f"schedule ({parameter.channel})"
        if parameter.unit:
            ds[name].attrs["units"] = parameter.unit
        names.append(name)
    ds.attrs["sweep"] = json_text(names)


def _attr(key: str, value: Any) -> str | int | float:
    if key in JSON_ATTRS or isinstance(value, dict | list | tuple | bool) or value is None:
        return json_text(value)
    return value


def json_text(value: Any) -> str:
    """A value as a JSON attribute (netCDF attributes cannot hold mappings, lists of mixed types,
    booleans or None): numpy scalars and arrays as numbers, complex as ``[re, im]``, anything else as
    its string."""
    return json.dumps(value, default=_json_default, allow_nan=True)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, complex):
        return [obj.real, obj.imag]
    return str(obj)


def json_attr(ds: xr.Dataset, key: str, default: Any = None) -> Any:
    """A JSON attribute of a result Dataset, decoded."""
    raw = ds.attrs.get(key)
    if raw is None:
        return default
    return json.loads(raw) if isinstance(raw, str) else raw


def _xarray() -> Any:
    """xarray, with its backend plugins loaded: loading them imports the workbench's own
    (:mod:`workbench.xarray_plugin`, an entry point), which gives every Dataset the ``wb`` accessor,
    so the Datasets built and loaded here have it too. xarray loads them once per process."""
    import xarray as xr

    xr.backends.list_engines()
    return xr


def check_result_dataset(ds: xr.Dataset, source: str | None = None) -> None:
    """Refuse a Dataset that is not a workbench result (another tool's netCDF file, a tune-up Dataset) or
    whose parts the workbench reads are not what it wrote: a result file comes from someone else, and a bad
    attribute must be one clear error here, not a traceback in a view later."""
    if not str(ds.attrs.get("schema", "")).startswith("workbench-result/"):
        raise InputError("not a workbench result dataset (attribute 'schema' missing)", None, source)
    for key, kind in [*((k, dict) for k in JSON_ATTRS), *READ_JSON_ATTRS.items()]:
        raw = ds.attrs.get(key)
        if raw is None:
            continue
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except (ValueError, RecursionError) as exc:
            why = "nested too deeply" if isinstance(exc, RecursionError) else f"not valid JSON ({exc})"
            raise InputError(f"attribute '{key}' is {why}", None, source) from None
        if not isinstance(value, kind):
            what = "a JSON object" if kind is dict else "a JSON list"
            raise InputError(f"attribute '{key}' must be {what}, got {type(value).__name__}", None, source)
    if "experiment_name" not in ds.variables or ds["experiment_name"].dims != ("experiment",):
        raise InputError("no 'experiment_name' coordinate along 'experiment'", None, source)
    if "counts" in ds:
        counts = ds["counts"]
        if counts.dims != ("experiment", "outcome") or "outcome" not in ds.coords or counts.dtype.kind not in "iu":
            raise InputError("variable 'counts' must be integers over (experiment, outcome) with an 'outcome' "
                             "coordinate", None, source)
    if "statevector" in ds and (ds["statevector"].ndim != 2 or ds["statevector"].dims[0] != "experiment"):
        raise InputError("variable 'statevector' must be over (experiment, basis_state)", None, source)


#: What a result file may unpack to in memory. A netCDF file declares its variables' shapes in a few bytes
#: and compresses a constant array a thousandfold, so its size on disk bounds nothing: an 8 KB file asked
#: for 14.9 GiB. The shapes are read (metadata only) and costed before any data is.
MAX_DATASET_BYTES = 2 * 1024**3
MAX_VARIABLES = 10_000
VLEN_ITEM_BYTES = 64  # what a text value (variable length) is costed at: its pointer plus a short string


def dataset_bytes(ds: xr.Dataset) -> int:
    """The memory ``ds.load()`` would take, from the declared shapes and types alone."""
    total = 0
    for var in ds.variables.values():
        count = 1
        for size in var.shape:
            count *= int(size)
        itemsize = VLEN_ITEM_BYTES if var.dtype.kind == "O" or not var.dtype.itemsize else var.dtype.itemsize
        total += count * itemsize
    return total


def _check_cost(ds: xr.Dataset, source: str) -> None:
    if len(ds.variables) > MAX_VARIABLES:
        raise InputError(f"declares {len(ds.variables)} variables (at most {MAX_VARIABLES} are read)", None, source)
    need = dataset_bytes(ds)
    if need > MAX_DATASET_BYTES:
        dims = ", ".join(f"{k}={v}" for k, v in list(ds.sizes.items())[:6])
        raise InputError(f"declares {need / 1024**3:.1f} GiB of data ({dims}); at most "
                         f"{MAX_DATASET_BYTES / 1024**3:g} GiB are read", None, source)


def decoded(ds: xr.Dataset) -> xr.Dataset:
    """A result Dataset as any netCDF engine returns it, with the workbench's types back.

    h5netcdf stores complex values as a compound type of two floats, which h5netcdf reads back as
    complex but netCDF4 (xarray's first choice for ``open_dataset``) as records ``(r, i)``; text
    coordinates may come back as objects. The Dataset given is not changed."""
    out = ds.copy()
    for name, var in ds.variables.items():
        fields = var.dtype.names
        if fields is not None and len(fields) == 2 and fields[0] in ("r", "real") and fields[1] in ("i", "imag"):
            values = np.asarray(var.values)
            complex_var = var.copy(data=values[fields[0]] + 1j * values[fields[1]])
            complex_var.encoding = {}  # the engine's compound dtype is not how it is written again
            out[name] = complex_var
    for name in ("experiment_name", "outcome"):
        if name in out.coords and out[name].dtype == object:
            out[name] = out[name].astype(str)
    return out


_NETCDF_C = threading.Lock()  # the netCDF C library is not thread-safe: one write at a time per process


def save_dataset(ds: xr.Dataset, path: str | Path) -> None:
    """NetCDF-4 through the netCDF C library (netCDF4-python), complex IQ as its ``(r, i)`` compound type,
    which h5netcdf, h5py and quantify-core read back as complex. h5netcdf writes the same file but
    spends ~0.1 s per variable on HDF5 dimension-scale bookkeeping in Python: 5x slower for a result.

    Writes are serialised: two threads in the C library at once crash the process (the server writes
    each finished job's folder from its dispatch threads)."""
    with _NETCDF_C:
        ds.to_netcdf(path, engine="netcdf4", auto_complex=True)


def load_dataset(path: str | Path) -> xr.Dataset:
    """Read a saved result fully into memory (the file is closed afterwards, so it can be moved).

    The file is untrusted: its declared sizes are costed before any data is read (:data:`MAX_DATASET_BYTES`),
    and every failure of reading it (not HDF5, truncated, a broken filter, undecodable values) is one
    :class:`~workbench.errors.InputError` naming the file.
    """
    xr = _xarray()
    source = str(path)
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read dataset ({exc.strerror or exc})", None, source) from None
    if size > MAX_DATASET_BYTES:
        raise InputError(f"is {size / 1024**3:.1f} GiB; at most {MAX_DATASET_BYTES / 1024**3:g} GiB are read", None,
                         source)
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            _check_cost(ds, source)
            loaded = ds.load()
        return decoded(loaded)
    except InputError:
        raise
    except MemoryError:
        raise InputError("cannot read dataset: not enough memory", None, source) from None
    except RecursionError:
        raise InputError("cannot read dataset: nested too deeply", None, source) from None
    except Exception as exc:  # h5py, h5netcdf and xarray raise many kinds for a damaged file
        text = " ".join(str(exc).split())
        text = text if len(text) <= 200 else text[:197] + "..."
        raise InputError(f"cannot read dataset ({type(exc).__name__}: {text})", None, source) from None
