"""The device catalogue: built-in devices plus the devices of a user's config file.

A user file (``--config FILE`` or ``WORKBENCH_CONFIG``) has a ``devices:`` list. An entry whose name
matches a known device replaces it; an entry with ``base: NAME`` starts from that device and
overrides only the keys it gives (nested mappings are merged, lists replaced), which is how one
says "the default device, with t1 = 20 us". In such an entry ``qubits`` (``couplings``) may also be
a mapping by qubit index (coupling channel) that changes only the keys it gives: ``qubits: {0:
{t1: 2.0e-5}}``; tune-up writes its results that way.

Other top-level sections (``clusters:``) hold things several devices share. A device refers to an
entry by name from its ``executor_config`` (``cluster: my-cluster``); the catalogue puts the entry's
content in place, so an executor sees one self-contained ``executor_config``.
"""

from __future__ import annotations

import copy
import os
import stat
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench import budgets
from workbench.devices.model import Device
from workbench.errors import ConfigError, DeviceNotFoundError
from workbench.validation import format_validation_error

DEFAULT_DEVICE = "qutip-1q"
CONFIG_ENV = "WORKBENCH_CONFIG"
_SECTIONS = {"clusters": "cluster"}  # top-level section -> executor_config key that names an entry
_TOP_LEVEL = {"devices", *_SECTIONS}
_KEYED_LISTS = {"qubits": "index", "couplings": "channel"}  # base entries may change these items by key


#: Nodes a config may hold once its aliases are expanded: far above any lab's devices (the built-in
#: files hold ~2,000), far below what a few lines of nested aliases ("billion laughs") expand to.
MAX_YAML_NODES = 200_000


def _expanded_nodes(text: str, loader: Any) -> None:
    """Refuse YAML whose aliases expand beyond :data:`MAX_YAML_NODES`, counted on the event stream.

    Anchors and merge keys (``<<: *readout``) are fine and the built-in configs use them; what is
    refused is the expansion a few kilobytes of nested aliases reach (every alias copies its anchor
    wherever the value is used, e.g. into ``execution-options.json`` from a device's ``defaults``).
    The count is linear in the text: an alias adds its anchor's size, nothing is expanded.
    """
    import yaml

    anchors: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]  # [anchor, nodes] of each open collection
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            size = anchors.get(event.anchor, 1)
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor:
                anchors[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
            continue
        elif isinstance(event, yaml.CollectionEndEvent) and len(stack) > 1:
            anchor, size = stack.pop()
            if anchor:
                anchors[anchor] = size
        else:
            continue
        stack[-1][1] += size
        if stack[-1][1] > MAX_YAML_NODES or sum(frame[1] for frame in stack) > MAX_YAML_NODES:
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            raise ConfigError(f"the YAML aliases here expand to more than {MAX_YAML_NODES:,} values; write the "
                              "values out instead of repeating an alias of aliases",
                              f"line {line}" if line else None)


def _read_yaml(text: str, source: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10x faster
    try:
        if "*" in text:
            _expanded_nodes(text, loader)
        return yaml.load(text, Loader=loader)  # a safe loader either way
    except ConfigError as exc:
        raise ConfigError(exc.message, exc.location, source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(str(problem), where, source) from None


def _read_bounded(path: Path) -> str:
    """A config file's text, refused unread when it is a special file or beyond ``max_job_mb``."""
    source = str(path)
    limit = budgets.max_bytes()
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # before open: a FIFO would block it
            raise ConfigError("not a regular file; a config must be a regular file", None, source)
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ConfigError("not a regular file; a config must be a regular file", None, source)
            budgets.check("max_job_mb", info.st_size / 2**20, None, source, detail=f"config of {info.st_size:,} bytes")
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config file ({exc.strerror or exc})", None, source) from None
    budgets.check("max_job_mb", len(raw) / 2**20, None, source, detail="the file grew while being read")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})", None, source) from None


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _keyed_lists(entry: dict[str, Any], parent: Mapping[str, Any], where: str, source: str) -> dict[str, Any]:
    """``qubits: {0: {...}}`` (``couplings: {u0: {...}}``) in a ``base:`` entry: merge into those items only.

    A list replaces the base's list as a whole; a mapping keyed by qubit index (coupling channel)
    changes just the keys it gives, which is how tune-up writes "qubit 0's pi amplitude" without
    copying the rest of the qubit.
    """
    out = dict(entry)
    for key, ident in _KEYED_LISTS.items():
        changes = entry.get(key)
        if not isinstance(changes, Mapping):
            continue
        items = [dict(item) for item in parent.get(key) or []]
        positions = {item.get(ident): i for i, item in enumerate(items)}
        for name, change in changes.items():
            if name not in positions:
                known = ", ".join(str(k) for k in positions) or "none"
                raise ConfigError(f"the base device has no {key[:-1]} {name!r} ({ident}s: {known})",
                                  f"{where}.{key}.{name}", source)
            if not isinstance(change, Mapping):
                raise ConfigError("must be a mapping of the keys to change", f"{where}.{key}.{name}", source)
            items[positions[name]] = _deep_merge(items[positions[name]], change)
        out[key] = items
    return out


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


def _named_sections(data: Mapping[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """``clusters: [{name: a, ...}, ...]`` -> ``{"clusters": {"a": {...}}}``."""
    out: dict[str, dict[str, Any]] = {}
    for key in _SECTIONS:
        entries = data.get(key) or []
        if not isinstance(entries, list):
            raise ConfigError("must be a list", key, source)
        named: dict[str, Any] = {}
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                raise ConfigError("each entry needs a 'name'", f"{key}[{i}]", source)
            if entry["name"] in named:
                raise ConfigError(f"'{entry['name']}' is defined twice", f"{key}[{i}].name", source)
            named[entry["name"]] = dict(entry)
        out[key] = named
    return out


@lru_cache(maxsize=1)
def _builtin_sections_parsed() -> dict[str, dict[str, Any]]:
    folder = resources.files("workbench.devices") / "builtin"
    merged: dict[str, dict[str, Any]] = {key: {} for key in _SECTIONS}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yml"):
            source = f"builtin/{item.name}"
            for key, named in _named_sections(_read_yaml(item.read_text(encoding="utf-8"), source), source).items():
                merged[key].update(named)
    return merged


def _builtin_sections() -> dict[str, dict[str, Any]]:
    return copy.deepcopy(_builtin_sections_parsed())


def _resolve_sections(entry: dict[str, Any], sections: Mapping[str, Mapping[str, Any]], where: str,
                      source: str) -> dict[str, Any]:
    """Put the named section entries (``executor_config.cluster: NAME``) in place."""
    config = entry.get("executor_config")
    if not isinstance(config, Mapping):
        return entry
    config = dict(config)
    for section, key in _SECTIONS.items():
        ref = config.get(key)
        if isinstance(ref, str):
            if ref not in sections[section]:
                known = ", ".join(sections[section]) or "none"
                raise ConfigError(f"{key} '{ref}' is not defined in '{section}' (defined: {known})",
                                  f"{where}.executor_config.{key}", source)
            config[key] = copy.deepcopy(sections[section][ref])
    return {**entry, "executor_config": config}


DeviceCheck = Callable[[Device], None]


def _check_device(check: DeviceCheck, device: Device, where: str, source: str) -> None:
    """Run a device check (its executor's view of ``executor_config``) and locate its error in the file."""
    try:
        check(device)
    except ConfigError as exc:
        location = f"{where}.executor_config" + (f".{exc.location}" if exc.location else "")
        raise ConfigError(exc.message, location, source) from None


class Catalogue:
    """Devices by name, in the order they were defined (built-ins first)."""

    def __init__(self, devices: Mapping[str, Device], raw: Mapping[str, dict[str, Any]], config_path: str | None):
        self._devices = dict(devices)
        self._raw = dict(raw)
        self.config_path = config_path

    @classmethod
    def load(cls, config: str | os.PathLike[str] | None = None, *, check: DeviceCheck | None = None) -> Catalogue:
        """Built-in devices, then the user file (argument, else ``WORKBENCH_CONFIG``, else none).

        ``check(device)`` runs on every device after its model validates; it raises
        :class:`~workbench.errors.ConfigError` located inside ``executor_config``.
        :func:`workbench.load_catalogue` passes the executors' own checks, so a wrongly wired cluster
        fails when the file loads; this layer knows devices, not executors.
        """
        raw: dict[str, dict[str, Any]] = {}
        sources: dict[str, str] = {}
        sections: dict[str, dict[str, Any]] = {key: {} for key in _SECTIONS}
        for entry, source in _builtin_raw():
            raw[entry["name"]] = entry
            sources[entry["name"]] = source
        for key, entries in _builtin_sections().items():
            sections[key].update(entries)
        path = config if config is not None else os.environ.get(CONFIG_ENV) or None
        if path is not None:
            entries, user_sections = cls._user_entries(Path(path), raw)
            for name, entry in entries.items():
                raw[name] = entry
                sources[name] = str(path)
            for key, named in user_sections.items():
                sections[key].update(named)
        devices = {}
        for name, entry in raw.items():
            where = f"devices[{name}]"
            resolved = _resolve_sections(entry, sections, where, sources[name])
            try:
                devices[name] = Device.model_validate(resolved)
            except ValidationError as exc:
                location, message = format_validation_error(exc, prefix=where)
                raise ConfigError(message, location, sources[name]) from None
            if check is not None:
                _check_device(check, devices[name], where, sources[name])
        return cls(devices, raw, str(path) if path is not None else None)

    @staticmethod
    def _user_entries(
        path: Path, known: Mapping[str, dict[str, Any]]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        source = str(path)
        text = _read_bounded(path)
        data = _read_yaml(text, source)
        if data is None:
            return {}, {}
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
                entry = _deep_merge(parent, _keyed_lists(entry, parent, where, source))
            out[entry["name"]] = entry
        return out, _named_sections(data, source)

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
