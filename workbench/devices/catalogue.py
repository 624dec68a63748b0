"""The device catalogue: built-in devices plus the devices of a user's config file.

A user file (``--config FILE`` or ``WORKBENCH_CONFIG``) has a ``devices:`` list. An entry whose name
matches a known device replaces it; an entry with ``base: NAME`` starts from that device and
overrides only the keys it gives (nested mappings are merged, lists replaced), which is how one
says "the default device, with t1 = 20 us".
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench.devices.model import Device
from workbench.errors import ConfigError, DeviceNotFoundError
from workbench.validation import format_validation_error

DEFAULT_DEVICE = "qutip-1q"
CONFIG_ENV = "WORKBENCH_CONFIG"
_TOP_LEVEL = {"devices", "clusters"}


def _read_yaml(text: str, source: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10x faster
    try:
        return yaml.load(text, Loader=loader)  # a safe loader either way
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(str(problem), where, source) from None


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _builtin_raw() -> list[tuple[dict[str, Any], str]]:
    """The built-in device entries (a fresh copy each call: callers merge into them)."""
    return copy.deepcopy(_builtin_parsed())


@lru_cache(maxsize=1)
def _builtin_parsed() -> list[tuple[dict[str, Any], str]]:
    folder = resources.files("workbench.devices") / "builtin"
    entries = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yml"):
            data = _read_yaml(item.read_text(encoding="utf-8"), f"builtin/{item.name}")
            entries.extend((d, f"builtin/{item.name}") for d in data["devices"])
    return entries


class Catalogue:
    """Devices by name, in the order they were defined (built-ins first)."""

    def __init__(self, devices: Mapping[str, Device], raw: Mapping[str, dict[str, Any]], config_path: str | None):
        self._devices = dict(devices)
        self._raw = dict(raw)
        self.config_path = config_path

    @classmethod
    def load(cls, config: str | os.PathLike[str] | None = None) -> Catalogue:
        """Built-in devices, then the user file (argument, else ``WORKBENCH_CONFIG``, else none)."""
        raw: dict[str, dict[str, Any]] = {}
        sources: dict[str, str] = {}
        for entry, source in _builtin_raw():
            raw[entry["name"]] = entry
            sources[entry["name"]] = source
        path = config if config is not None else os.environ.get(CONFIG_ENV) or None
        if path is not None:
            for name, entry in cls._user_entries(Path(path), raw).items():
                raw[name] = entry
                sources[name] = str(path)
        devices = {}
        for name, entry in raw.items():
            try:
                devices[name] = Device.model_validate(entry)
            except ValidationError as exc:
                location, message = format_validation_error(exc, prefix=f"devices[{name}]")
                raise ConfigError(message, location, sources[name]) from None
        return cls(devices, raw, str(path) if path is not None else None)

    @staticmethod
    def _user_entries(path: Path, known: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file ({exc.strerror or exc})", None, source) from None
        data = _read_yaml(text, source)
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            raise ConfigError("the top level must be a mapping with a 'devices' list", None, source)
        unknown = sorted(set(data) - _TOP_LEVEL)
        if unknown:
            raise ConfigError(f"unknown top-level key(s) {unknown}; expected {sorted(_TOP_LEVEL)}", None, source)
        entries = data.get("devices") or []
        if not isinstance(entries, list):
            raise ConfigError("must be a list of devices", "devices", source)
        out: dict[str, dict[str, Any]] = {}
        for i, entry in enumerate(entries):
            where = f"devices[{i}]"
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                raise ConfigError("each device needs a 'name'", where, source)
            entry = dict(entry)
            base = entry.pop("base", None)
            if base is not None:
                parent = out.get(base) or known.get(base)
                if parent is None:
                    raise ConfigError(f"base device '{base}' is not defined", f"{where}.base", source)
                entry = _deep_merge(parent, entry)
            out[entry["name"]] = entry
        return out

    def names(self) -> list[str]:
        return list(self._devices)

    def __iter__(self):
        return iter(self._devices.values())

    def __len__(self) -> int:
        return len(self._devices)

    def get(self, name: str | None = None) -> Device:
        """The named device, or the default one; unknown names list the known ones."""
        name = name or DEFAULT_DEVICE
        try:
            return self._devices[name]
        except KeyError:
            raise DeviceNotFoundError(
                f"unknown device '{name}'; known devices: {', '.join(self._devices)}"
            ) from None

    def raw(self, name: str) -> dict[str, Any]:
        """The merged mapping a device was validated from (what tune-up writes back into)."""
        return dict(self._raw[name])

    def listing(self) -> list[dict[str, Any]]:
        """The QHAna ``devices`` list."""
        from workbench.executors.registry import describe_device

        return [describe_device(d) for d in self._devices.values()]
