"""Analyses: what a Dataset says about the device, as fitted parameters with uncertainties and a verdict.

An analysis is a pure function of a Dataset: a fresh run, a colleague's ``dataset.nc`` or a tune-up
history entry. It finds the curves (:mod:`workbench.analysis.signal`), fits them with the closed-form
models of :mod:`workbench.analysis.fitting`, judges the fit with the same quality rules tune-up
uses, and returns an :class:`~workbench.analysis.base.AnalysisResult` (plain data; the views draw
it). Tune-up routines are this plus an acquisition before and a calibration update after::

    from workbench import analysis
    a = analysis.analyse(result)              # the analysis the result names or its sweep implies
    a = analysis.analyse("rabi-out/dataset.nc", "rabi-amplitude")
    a.ok, a.parameters["pi_amplitude"], a.quality.reasons

:data:`ANALYSES` lists them by the name ``workbench analyse --analysis`` takes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from workbench.analysis.base import AnalysisResult, Parameter, Series, attach, attached
from workbench.analysis.chevron import chevron
from workbench.analysis.discriminator import discriminator
from workbench.analysis.drag import drag
from workbench.analysis.rabi import rabi_amplitude, rabi_length
from workbench.analysis.ramsey import ramsey
from workbench.analysis.relaxation import echo, t1
from workbench.analysis.signal import dataset_of, is_tuneup
from workbench.analysis.spectroscopy import qubit_spectroscopy, resonator_spectroscopy
from workbench.analysis.sweep import series_coordinate, swept
from workbench.errors import InputError


class Analysis(NamedTuple):
    """An analysis as ``workbench analyse`` lists it: the function and what it reports."""

    function: Callable[..., AnalysisResult]
    title: str
    reports: str


#: Every analysis by name: the function (a Dataset in, an AnalysisResult out), its title, what it reports.
ANALYSES: dict[str, Analysis] = {
    "rabi-amplitude": Analysis(rabi_amplitude, "Rabi amplitude", "pi amplitude of each swept pulse"),
    "rabi-length": Analysis(rabi_length, "Rabi length", "Rabi frequency and pi duration"),
    "t1": Analysis(t1, "T1", "energy relaxation time T1"),
    "ramsey": Analysis(ramsey, "Ramsey", "drive frequency error, qubit frequency, T2*"),
    "echo": Analysis(echo, "Hahn echo", "echo coherence time T2"),
    "qubit-spectroscopy": Analysis(qubit_spectroscopy, "Qubit spectroscopy", "qubit frequency, Rabi frequency"),
    "resonator-spectroscopy": Analysis(resonator_spectroscopy, "Resonator spectroscopy",
                                       "readout frequency, linewidth, dispersive shift"),
    "chevron": Analysis(chevron, "CZ chevron", "swap frequency per amplitude, CZ amplitude"),
    "drag": Analysis(drag, "DRAG", "DRAG coefficient beta"),
    "discriminator": Analysis(discriminator, "Discriminator", "assignment fidelity, linear discriminator"),
}

#: The analysis of each tune-up routine (a tune-up Dataset's ``routine``).
ROUTINE_ANALYSES = {"rabi": "rabi-amplitude", "t1": "t1", "ramsey": "ramsey",
                    "qubit-spectroscopy": "qubit-spectroscopy", "resonator-spectroscopy": "resonator-spectroscopy",
                    "drag": "drag", "discriminator": "discriminator"}

_TIME = ("delay", "tau", "time", "wait")
_LENGTH = ("duration", "width", "length")


def choose(data: Any) -> str | None:
    """The analysis a Dataset calls for, or None.

    In order: the routine of a tune-up Dataset; an analysis already attached; the one a built-in
    example names (``workbench.examples.ANALYSES``); the swept parameters (``amp``: Rabi amplitude,
    a length: Rabi length, a delay: T1, or Ramsey with a ``detuning``; a frequency: qubit
    spectroscopy, or resonator spectroscopy with a ``prepared`` state; amplitude and length with two
    slots: chevron; ``beta`` with two sequences: DRAG); two experiments prepared in ``|0>`` and ``|1>``:
    discriminator."""
    from workbench.examples import ANALYSES as EXAMPLE_ANALYSES

    ds = dataset_of(data)
    if is_tuneup(ds):
        return ROUTINE_ANALYSES.get(str(ds.attrs.get("routine", "")))
    stored = attached(ds)
    if stored is not None and stored.name in ANALYSES:
        return stored.name
    name = str(ds.attrs.get("name", ""))
    if name.startswith("example-") and name.removeprefix("example-") in EXAMPLE_ANALYSES:
        return EXAMPLE_ANALYSES[name.removeprefix("example-")]
    names = swept(ds)
    coords = set(str(c) for c in ds.coords)
    if len(names) == 1:
        (only,) = names
        if only == "amp":
            return "rabi-amplitude"
        if only in _LENGTH:
            return "rabi-length"
        if only in _TIME:
            return "ramsey" if "detuning" in coords else "t1"
        if only == "frequency":
            return "qubit-spectroscopy"
        if only == "beta" and series_coordinate(ds) is not None:
            return "drag"
    if len(names) == 2:
        pair = set(names)
        if pair == {"frequency", "prepared"}:
            return "resonator-spectroscopy"
        if pair & set(_TIME) and "detuning" in pair:
            return "ramsey"
        if "amp" in pair and pair & set(_LENGTH) and ds.sizes.get("slot", 0) >= 2:
            return "chevron"
    if ds.sizes.get("experiment", 0) == 2 and "prepared" in coords and "iq" in ds:
        return "discriminator"
    return None


def analyse(data: Any, name: str | None = None, **options: Any) -> AnalysisResult:
    """Run an analysis (``name``, else :func:`choose`) on a Result, a Dataset, or the path of an output
    folder or ``dataset.nc`` (a tune-up history entry's too). Options go to the analysis function
    (e.g. ``detuning=`` for Ramsey, ``duration=`` for qubit spectroscopy)."""
    if isinstance(data, str | os.PathLike):
        data = load(data)
    ds = dataset_of(data)
    if name is None:
        name = choose(ds)
        if name is None:
            varies = ", ".join(swept(ds)) or "no parameter"
            raise InputError(f"no analysis applies by itself (the experiments differ by {varies}); choose one: "
                             + ", ".join(ANALYSES))
    entry = ANALYSES.get(name)
    if entry is None:
        raise InputError(f"unknown analysis {name!r}; known analyses: {', '.join(ANALYSES)}")
    try:
        return entry.function(ds, **options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise InputError(f"analysis {name!r}: {exc}") from None
        raise


def load(path: str | os.PathLike[str]) -> Any:
    """The Dataset of an output folder or a ``.nc`` file (a result or a tune-up Dataset), read into memory."""
    import xarray as xr

    p = Path(path)
    file = p / "dataset.nc" if p.is_dir() else p
    if not file.is_file():
        raise InputError("no dataset.nc found (expected an output folder or a .nc file)", None, str(p))
    try:
        with xr.open_dataset(file, engine="h5netcdf") as ds:
            return ds.load()
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read dataset ({exc})", None, str(file)) from None


__all__ = ["ANALYSES", "Analysis", "AnalysisResult", "Parameter", "Series", "analyse", "attach", "attached",
           "choose"]
