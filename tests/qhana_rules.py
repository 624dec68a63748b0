"""QHAna's reading rules for entity files, restated once for the tests that read our outputs as QHAna
would (tests/test_qhana_outputs.py, tests/test_serve_qhana.py; sources in tests/data/qhana/README.md)."""

from __future__ import annotations

from typing import Any


def ensure_array(entity: dict[str, Any]) -> tuple[str, list[Any]]:
    """QHAna's ``ensure_array`` (entity/vector): pop ``ID`` (a KeyError without one, as in QHAna) and ``href``,
    sort the other keys, read decimal text as int and other text as float (None when it is no number)."""
    entity = dict(entity)
    entity_id = entity.pop("ID")
    entity.pop("href", None)
    values = []
    for key in sorted(entity):
        value = entity[key]
        if isinstance(value, str):
            try:
                value = int(value) if value.isdecimal() else float(value)
            except ValueError:
                value = None
        values.append(value)
    return entity_id, values
