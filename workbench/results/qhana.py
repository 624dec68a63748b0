"""QHAna's circuit-executor conventions, in one place: what its readers expect of our output files.

QHAna's executors (``qiskit-simulator``, ``mqt-simulator``...) write each ``result-*.json`` with
``json.dump`` as **one object** and give every file of one execution the same fresh ``uuid4`` as
``"ID"``: counts, statevector, trace and execution options. QHAna's loaders take a JSON list as a list
of entities and anything else as one entity, so a one-element list is read differently from the object
a colleague's QHAna step expects. Hence: one experiment -> one object; several experiments -> a list,
each entity's ``ID`` being ``<run ID>/<experiment name>`` (entity IDs must differ within a file).

Statevector keys are QHAna's too: the decimal basis index zero-padded to the width of the largest one
(``"0".."3"`` for 2 qubits, ``"00".."15"`` for 4), values ``repr(complex)`` (``"(0.707+0j)"``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench._version import __version__

#: What our execution-options.json and trace say about the machine that ran, replacing input values.
QPU_KEYS = ("qpuType", "qpuVendor", "qpuName", "qpuVersion")
#: The executor's kind -> QHAna's ``qpuType`` vocabulary.
QPU_TYPES = {"simulator": "simulator", "hardware": "qpu"}


def new_run_id() -> str:
    return str(uuid.uuid4())


def plugin_identifier(executor: str) -> str:
    """This executor as a QHAna plugin identifier: ``name@version`` with dots turned into dashes."""
    return f"workbench-{executor}".replace(".", "-") + "@v" + __version__.replace(".", "-")


def qpu_type(kind: str) -> str:
    return QPU_TYPES.get(kind, kind)


def _plugin_list(value: Any) -> list[Any]:
    """The input's ``executorPlugin`` as a list: a JSON list, or one identifier (a CSV cell is text)."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return [value]
        return list(decoded) if isinstance(decoded, list) else [value]
    return [value]


def output_options(echo: Mapping[str, Any], run_id: str, executor: str, qpu: Mapping[str, Any]) -> dict[str, Any]:
    """``execution-options.json`` as QHAna's executors write it: the input's keys in their order with this
    run's values, then ``ID`` (this run's), ``executorPlugin`` (the input's list plus this executor) and the
    ``qpu*`` keys of this run (input values replaced, not echoed)."""
    out = dict(echo)
    out["ID"] = run_id
    out["executorPlugin"] = [*_plugin_list(echo.get("executorPlugin")), plugin_identifier(executor)]
    for key in QPU_KEYS:
        out[key] = qpu[key]
    return out


def entity_ids(run_id: str, names: Sequence[str]) -> list[str]:
    """The ``ID`` of each experiment's entity: the run's ID alone for one experiment."""
    if len(names) == 1:
        return [run_id]
    return [f"{run_id}/{name}" for name in names]


def shaped(entities: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    """One entity -> the object itself (what QHAna writes); several -> the list."""
    return entities[0] if len(entities) == 1 else entities


def statevector_entity(entity_id: str, vector: np.ndarray) -> dict[str, Any]:
    """``{"ID": ..., "0": "(0.7071067811865476+0j)", ...}``: ID first, keys zero-padded decimal indices.

    The Dataset pads shorter vectors of a multi-experiment run with NaN; the padding is not part of the
    vector and is dropped.
    """
    values = np.asarray(vector, dtype=complex)
    finite = np.flatnonzero(~np.isnan(values))
    values = values[: finite[-1] + 1] if finite.size else values[:0]
    width = len(str(len(values)))
    row: dict[str, Any] = {"ID": entity_id}
    row.update({f"{i:0{width}d}": repr(complex(v)) for i, v in enumerate(values)})
    return row
