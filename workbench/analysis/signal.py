"""From a Dataset to the curves an analysis fits: which experiments form which curve, and what is read.

The signal of one memory slot is what the run kept:

* **P(1)** from the discriminated bits (``memory``), with its binomial standard error;
* the **IQ projection** from integrated IQ (``iq`` per shot, or ``iq_mean`` averaged): the mean IQ
  point of each experiment projected on the line the states' centres lie on (the principal axis of
  the means), with the standard error of each mean from the shots' scatter. Its sign is chosen so
  that experiments known to end in ``|0>`` sit low (or known to end excited sit high), so a curve
  reads like an excited population. No calibration is trusted: a device being tuned up may have
  none yet.

The exact ``populations`` a simulator records are never used: an analysis reads what an instrument
would have given. A tune-up Dataset (``workbench-tuneup/1``) already holds its curves (``x``,
``signal``, ``signal_err`` per ``series``) and is read as it is, so a tune-up history entry can be
analysed again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.analysis.base import Series
from workbench.analysis.sweep import series_coordinate, swept
from workbench.errors import InputError

if TYPE_CHECKING:
    import xarray as xr

P1_LABEL = "P(1)"
IQ_LABEL = "IQ projected on the states' axis (a.u.)"
TUNEUP_SCHEMA = "workbench-tuneup/"


def dataset_of(data: Any) -> xr.Dataset:
    """The Dataset of a Result (anything with ``.dataset``) or the Dataset itself."""
    return getattr(data, "dataset", data)


def is_tuneup(ds: xr.Dataset) -> bool:
    return str(ds.attrs.get("schema", "")).startswith(TUNEUP_SCHEMA)


# -------------------------------------------------------------------------------------------------- IQ


@dataclass(frozen=True)
class IQStats:
    """Per-experiment mean IQ of one slot and the covariance of one shot's (I, Q)."""

    mean: np.ndarray  # complex (E,)
    cov: np.ndarray  # (E, 2, 2)
    shots: int

    @classmethod
    def of(cls, data: Any, slot: int = 0) -> IQStats:
        """From per-shot ``iq`` (a Result or its Dataset)."""
        iq = np.asarray(dataset_of(data)["iq"].sel(slot=slot).values)  # (E, shots)
        pts = np.stack([iq.real, iq.imag], axis=-1)  # (E, shots, 2)
        centred = pts - pts.mean(axis=1, keepdims=True)
        cov = np.einsum("esi,esj->eij", centred, centred) / max(iq.shape[1] - 1, 1)
        return cls(iq.mean(axis=1), cov, iq.shape[1])

    def project(self, axis: complex | None = None, ground: Sequence[int] = (),
                excited: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray, complex]:
        """The means projected on one axis of the IQ plane, with standard errors (see the module docstring);
        fits never depend on the sign (their amplitudes are signed)."""
        signal, u = project_means(self.mean, axis, ground, excited)
        err = np.sqrt(np.einsum("i,eij,j->e", u, self.cov, u) / self.shots)
        return signal, err, complex(u[0], u[1])


def project_means(mean: np.ndarray, axis: complex | None = None, ground: Sequence[int] = (),
                  excited: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Mean IQ points projected on their principal axis (or ``axis``), oriented by the references."""
    pts = np.stack([mean.real, mean.imag], axis=-1)
    centre = pts.mean(axis=0)
    if axis is None:
        spread = np.cov((pts - centre).T) if len(pts) > 1 else np.eye(2)
        _, eigvec = np.linalg.eigh(np.atleast_2d(spread))
        u = eigvec[:, -1]
    else:
        u = np.array([axis.real, axis.imag]) / abs(axis)
    signal = (pts - centre) @ u
    if (ground and np.mean(signal[list(ground)]) > 0) or (excited and np.mean(signal[list(excited)]) < 0):
        u = -u
        signal = -signal
    return signal, u


# ---------------------------------------------------------------------------------------------- signal


@dataclass(frozen=True)
class Signal:
    """One number per experiment (P(1) or an IQ projection) with its standard error (None: unknown)."""

    values: np.ndarray
    err: np.ndarray | None
    label: str
    iq_mean: np.ndarray | None = None


def slot_signal(ds: xr.Dataset, slot: int = 0, *, ground: Sequence[int] = (),
                excited: Sequence[int] = ()) -> Signal:
    """The signal of one memory slot, per experiment (see the module docstring)."""
    if "slot" in ds.coords and slot not in set(int(s) for s in ds["slot"].values):
        raise InputError(f"the result has no memory slot {slot}")
    if "memory" in ds:
        bits = np.asarray(ds["memory"].sel(slot=slot).values, dtype=np.float64)  # (E, shots)
        n = bits.shape[1]
        p = bits.mean(axis=1)
        smoothed = (bits.sum(axis=1) + 1) / (n + 2)  # never a zero error at p = 0 or 1
        return Signal(p, np.sqrt(smoothed * (1 - smoothed) / n), P1_LABEL)
    if "iq" in ds:
        stats = IQStats.of(ds, slot)
        values, err, _ = stats.project(ground=ground, excited=excited)
        return Signal(values, err, IQ_LABEL, stats.mean)
    if "iq_mean" in ds:
        mean = np.asarray(ds["iq_mean"].sel(slot=slot).values)
        values, _ = project_means(mean, ground=ground, excited=excited)
        return Signal(values, None, IQ_LABEL, mean)
    raise InputError("the result holds neither bits nor IQ points to analyse (memory, iq or iq_mean)")


def two_slot_probability(ds: xr.Dataset, bits: str = "11") -> Signal:
    """P(slots 0, 1 read ``bits``) per experiment, slot 0 rightmost (Qiskit), from the bits of both slots."""
    if "memory" not in ds or ds.sizes.get("slot", 0) < 2:
        raise InputError("this analysis needs the discriminated bits of two memory slots (meas_level 2)")
    memory = np.asarray(ds["memory"].values)
    hit = (memory[:, :, 1] == int(bits[0])) & (memory[:, :, 0] == int(bits[1]))
    n = hit.shape[1]
    p = hit.mean(axis=1)
    smoothed = (hit.sum(axis=1) + 1) / (n + 2)
    return Signal(p, np.sqrt(smoothed * (1 - smoothed) / n), f"P({bits})")


# --------------------------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    """Which experiments form which curve: ``x`` per experiment, and per curve its experiments sorted by x."""

    x_name: str
    x: np.ndarray
    unit: str
    groups: list[tuple[str, np.ndarray]]


def layout(ds: xr.Dataset, prefer: Sequence[str], *, group: str | None = None, unit: str | None = None) -> Layout:
    """The x coordinate and the curves. x is the first of ``prefer`` that is swept (or varies), else the one
    swept coordinate whose unit is ``unit`` (a delay named otherwise, in s); curves are told apart by a
    varying text coordinate, or by ``group`` (a second swept coordinate), else there is one curve."""
    names = swept(ds)
    x_name = next((n for n in prefer if n in names), None)
    if x_name is None:
        x_name = next((n for n in prefer if n in ds.coords and ds[n].dims == ("experiment",)
                       and np.unique(np.asarray(ds[n].values)).size > 1), None)
    if x_name is None and unit:
        others = [n for n in names if n != group and str(ds[n].attrs.get("units", "")) == unit]
        x_name = others[0] if len(others) == 1 else None
    if x_name is None:
        raise InputError(f"not a sweep over {' or '.join(prefer)}: the experiments differ by "
                         + (", ".join(names) if names else "no parameter"))
    x = np.asarray(ds[x_name].values, dtype=float)
    unit = str(ds[x_name].attrs.get("units", ""))
    key = group if group is not None and group in ds.coords else series_coordinate(ds)
    if key is None:
        second = [n for n in names if n != x_name]
        key = second[0] if second else None
    if key is None:
        return Layout(x_name, x, unit, [("", np.argsort(x, kind="stable"))])
    labels = np.asarray(ds[key].values)
    groups = []
    for value in dict.fromkeys(labels.tolist()):
        rows = np.flatnonzero(labels == value)
        groups.append((_label(key, value), rows[np.argsort(x[rows], kind="stable")]))
    return Layout(x_name, x, unit, groups)


def _label(key: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{key}={value:g}" if isinstance(value, int | float) else str(value)


def series_from(layout_: Layout, signal: Signal, scale: float = 1.0) -> list[Series]:
    """The curves of a layout, x scaled (e.g. seconds to microseconds)."""
    out = []
    for name, rows in layout_.groups:
        out.append(Series(name, layout_.x[rows] * scale, signal.values[rows],
                          None if signal.err is None else signal.err[rows],
                          iq_mean=None if signal.iq_mean is None else signal.iq_mean[rows]))
    return out


def tuneup_series(ds: xr.Dataset) -> list[Series]:
    """The measured curves of a tune-up Dataset, as it holds them."""
    if "series" not in ds.coords or "signal" not in ds:
        raise InputError("the tune-up dataset holds no swept series")
    out = []
    for name in (str(s) for s in ds["series"].values):
        row = ds.sel(series=name)
        x = np.asarray(row["x"].values, dtype=float)
        keep = np.isfinite(x)
        err = np.asarray(row["signal_err"].values, dtype=float)[keep] if "signal_err" in row else None
        iq = np.asarray(row["iq_mean"].values)[keep] if "iq_mean" in row else None
        out.append(Series(name, x[keep], np.asarray(row["signal"].values, dtype=float)[keep], err, iq_mean=iq))
    return out


def references(layout_: Layout, where: str) -> list[int]:
    """Experiments at the smallest ``|x|`` of each curve (``where="start"``) or at both ends (``"edges"``)."""
    out: list[int] = []
    for _, rows in layout_.groups:
        if where == "start":
            out.append(int(rows[np.argmin(np.abs(layout_.x[rows]))]))
        else:
            out.extend(int(r) for r in (rows[:2].tolist() + rows[-2:].tolist()))
    return out


def finite_step(values: np.ndarray) -> float:
    """The smallest positive spacing of sorted values (inf for fewer than two)."""
    diffs = np.diff(np.unique(values))
    diffs = diffs[diffs > 0]
    return float(diffs.min()) if diffs.size else math.inf


def device_qubit(ds: xr.Dataset, slot: int = 0) -> dict[str, Any] | None:
    """The calibration of the qubit acquired into ``slot`` (from the Dataset's ``device_config``), or None."""
    import json

    raw = ds.attrs.get("device_config")
    try:
        config = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if not isinstance(config, dict):
        return None
    index = None
    if "slot_qubit" in ds.coords:
        qubits = np.asarray(ds["slot_qubit"].values)
        if qubits.ndim == 2 and slot < qubits.shape[1]:
            seen = qubits[:, slot][qubits[:, slot] >= 0]
            index = int(seen[0]) if seen.size else None
    if index is None and "qubit" in ds.attrs:
        index = int(ds.attrs["qubit"])
    for q in config.get("qubits") or []:
        if isinstance(q, dict) and q.get("index") == index:
            return q
    return None


def drive_frequency(qubit: dict[str, Any] | None) -> float | None:
    """The calibrated drive frequency of a qubit's calibration (its frequency when none is set)."""
    if not qubit:
        return None
    drive = qubit.get("drive") or {}
    value = drive.get("frequency") or qubit.get("frequency")
    return float(value) if isinstance(value, int | float) else None
