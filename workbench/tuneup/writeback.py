"""Write a tune-up result into the user's device config file, as a new version with its history.

Rules, in the order they are checked (each refusal says why and writes nothing):

1. the result passed its quality rules and proposes at least one change;
2. there is a config file (``--config FILE`` or ``WORKBENCH_CONFIG``); a built-in device gets an
   entry ``{name: X, base: X}`` there holding only the changed calibration keys;
3. the file still holds the values the measurement started from (otherwise it changed since, and
   the measurement no longer justifies the change);
4. the edited file loads, its device has exactly the new values, and nothing else in the file
   changed meaning (YAML anchors shared with other entries would make that fail).

The file is edited with ruamel.yaml's round-trip mode, so comments, key order, flow style and
indentation survive and the diff is as small as the change. It is replaced atomically (a
temporary file in the same folder, then ``os.replace``), under a lock that serialises workbench
writers, after checking once more that nobody changed it meanwhile.

History (``<config>.history/`` next to the config file), one folder per version::

    lab.yml
    lab.yml.history/
      0001-20261122T101500Z-qutip-1q-q0-rabi/
        change.yml          version, time, routine, device, qubit, config file, each value old -> new
                            with its standard error, the fit summary, the quality verdict, measured physics
        config-before.yml   the config file exactly as it was before this version
        diff.patch          the unified diff applied
        dataset.nc          the tune-up Dataset that justified the change (data, fit, attributes)

The history folder is staged under a temporary name and renamed into place only after the config
file was replaced, so a version folder always describes a change that happened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import io
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench._version import __version__
from workbench.devices.catalogue import CONFIG_ENV, Catalogue
from workbench.devices.model import Device
from workbench.errors import ConfigError, WorkbenchError
from workbench.executors.registry import load_catalogue
from workbench.tuneup.updates import with_updates

if TYPE_CHECKING:
    from workbench.tuneup.base import CalibrationResult
    from workbench.tuneup.updates import Update

log = logging.getLogger("workbench.tuneup")

HISTORY_SUFFIX = ".history"
NO_CONFIG = (f"no device config file to write to: give one with --config FILE or the {CONFIG_ENV} environment "
             "variable (an empty file will do; for a built-in device an entry 'name: X, base: X' with only the "
             "changed calibration is added to it)")
# (mapping, sequence, offset) styles tried, the usual ones first: "- name" under "devices:" at 2, 0 or 4 spaces
_INDENTS = ((2, 4, 2), (2, 2, 0), *((m, o + d, o) for m in (2, 4, 3) for o in (0, 2, 4) for d in (2, 4)))
_VERSION = re.compile(r"^(\d{4,})-")
LOCK_TIMEOUT = 60.0  # s a writer waits for another one writing the same config file


@dataclass
class WriteOutcome:
    """What :func:`write_back` did (or would do, in a dry run) and why."""

    written: bool
    dry_run: bool
    config: Path | None
    diff: str = ""
    changes: list[Update] = field(default_factory=list)
    version: int | None = None
    history: Path | None = None
    reasons: list[str] = field(default_factory=list)
    device: Device | None = None  # reloaded from the written file

    @property
    def message(self) -> str:
        if self.written:
            return f"written to {self.config} as version {self.version} (history: {self.history})"
        if self.reasons:
            return "nothing written: " + "; ".join(self.reasons)
        if self.dry_run:
            return f"dry run: nothing written{f' to {self.config}' if self.config else ''}"
        return "nothing written"

    def __str__(self) -> str:
        return (self.diff + "\n" if self.diff else "") + self.message


def history_folder(config: str | os.PathLike[str]) -> Path:
    """The history beside the config file itself: beside the target of a link to it, so every link to one
    file shares its history and its lock."""
    path = real_config(Path(config))
    return path.with_name(path.name + HISTORY_SUFFIX)


def real_config(path: Path) -> Path:
    """The file a config path names: a symbolic link (a shared config linked into a home folder, say) is
    followed, so the write-back edits the file it points to rather than replacing the link by a copy."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def write_back(result: CalibrationResult, config: str | os.PathLike[str] | None, *,
               dry_run: bool = False) -> WriteOutcome:
    """Write ``result``'s updates into ``config`` (see the module docstring); ``dry_run`` only shows the diff."""
    if config is None:
        config = os.environ.get(CONFIG_ENV) or None
    path = real_config(Path(config)) if config is not None else None
    reasons: list[str] = []
    if not result.quality.ok:
        reasons.append(f"the {result.routine} fit was rejected ({'; '.join(result.quality.reasons)})")
    if not result.updates:
        reasons.append(f"{result.routine} proposes no calibration change (it measures physics)")
    if path is None and not dry_run:
        reasons.append(NO_CONFIG)
    if reasons and not (dry_run and result.updates):
        return WriteOutcome(False, dry_run, path, changes=list(result.updates), reasons=reasons)
    old_text = _read(path) if path is not None else ""
    new_text = edit_text(old_text, result.device.name, result.updates)
    label = str(path) if path is not None else "(new config file)"
    diff = "".join(difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True),
                                        fromfile=f"{label} (before)", tofile=f"{label} (after)"))
    reasons += check_edit(old_text, new_text, result, path)
    if dry_run or reasons:
        return WriteOutcome(False, dry_run, path, diff, list(result.updates), reasons=reasons)
    assert path is not None
    history = history_folder(path)
    history.mkdir(parents=True, exist_ok=True)
    with _locked(history / ".lock"):
        if _read(path) != old_text:
            return WriteOutcome(False, False, path, diff, list(result.updates),
                                reasons=[f"{path} changed while the change was prepared; run the routine again"])
        version = _next_version(history)
        stamp = dt.datetime.now(dt.UTC)
        name = f"{version:04d}-{stamp:%Y%m%dT%H%M%SZ}-{result.device.name}-q{result.qubit}-{result.routine}"
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=history))
        try:
            _write_history(staging, result, path, old_text, diff, version, stamp)
            _replace(path, new_text, old_text)
            final = history / name
            staging.rename(final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    device = load_catalogue(path).get(result.device.name)
    log.info("tune-up %s written to %s as version %d", result.routine, path, version)
    return WriteOutcome(True, False, path, diff, list(result.updates), version, final, [], device)


# ---------------------------------------------------------------------------------------------- YAML


def _yaml(text: str) -> Any:
    """A round-trip YAML instance whose indentation reproduces ``text`` (the closest of the usual styles)."""
    from ruamel.yaml import YAML

    best, best_cost = None, None
    for mapping, sequence, offset in _INDENTS:
        y = YAML()
        y.indent(mapping=mapping, sequence=sequence, offset=offset)
        y.width = 4096  # never re-wrap a user's long lines
        y.preserve_quotes = True
        y.representer.add_representer(float, _represent_float)
        if not text.strip():
            return y
        out = io.StringIO()
        y.dump(y.load(text), out)
        cost = sum(1 for line in difflib.ndiff(text.splitlines(), out.getvalue().splitlines()) if line[:1] in "+-")
        if best_cost is None or cost < best_cost:
            best, best_cost = y, cost
        if cost == 0:
            break
    return best


def _represent_float(representer: Any, value: float) -> Any:
    """Floats as YAML 1.1 readers (PyYAML, which loads config files) read them back: ``1.0e-05``, not
    ``1e-05``, which PyYAML takes for a string."""
    text = repr(float(value))
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return representer.represent_scalar("tag:yaml.org,2002:float", text)


def edit_text(text: str, device: str, updates: list[Update]) -> str:
    """``text`` with the updates written into device ``device``'s entry (created with ``base:`` if absent)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    y = _yaml(text)
    data = y.load(text) if text.strip() else None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, Mapping):
        raise ConfigError("the top level must be a mapping with a 'devices' list", None, None)
    if data.get("devices") is None:
        data["devices"] = CommentedSeq()
    entries = data["devices"]
    entry = None
    for item in entries:
        if isinstance(item, Mapping) and item.get("name") == device:
            entry = item  # the last one wins, as in the catalogue
    if entry is None:
        entry = CommentedMap([("name", device), ("base", device)])
        entries.append(entry)
    for u in updates:
        target = _qubit_node(entry, u.qubit)
        for depth, key in enumerate(u.path[:-1]):
            if not isinstance(target.get(key), Mapping):
                target[key] = CommentedMap()
                if depth == len(u.path) - 2:  # a new innermost mapping reads best on one line: x: {amp: 0.47}
                    target[key].fa.set_flow_style()
            target = target[key]
        target[u.path[-1]] = _node(u.new)
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def _qubit_node(entry: Any, qubit: int) -> Any:
    """The mapping to write qubit ``qubit``'s keys into: its list item, or its key in the ``base:`` form."""
    from ruamel.yaml.comments import CommentedMap

    qubits = entry.get("qubits")
    if isinstance(qubits, list):
        for item in qubits:
            if isinstance(item, Mapping) and item.get("index") == qubit:
                return item
        raise ConfigError(f"the entry's qubits list has no qubit {qubit}", f"devices[{entry.get('name')}].qubits")
    if qubits is None:
        if "base" not in entry:
            raise ConfigError("has no qubits to write into", f"devices[{entry.get('name')}]")
        entry["qubits"] = qubits = CommentedMap()
    if qubit not in qubits:
        qubits[qubit] = CommentedMap()
    return qubits[qubit]


def _node(value: Any) -> Any:
    """Plain values as they are; mappings (a discriminator) as one flow-style line, which reads best."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, Mapping):
        node = CommentedMap((k, _node(v)) for k, v in value.items())
        node.fa.set_flow_style()
        return node
    if isinstance(value, list | tuple):
        seq = CommentedSeq(_node(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


# ----------------------------------------------------------------------------------------- checking


def check_edit(old_text: str, new_text: str, result: CalibrationResult, path: Path | None) -> list[str]:
    """Why the edited file must not be written (empty when it may): stale start values, a file that does
    not load, a device without exactly the new values, or any other device whose meaning changed."""

    name = result.device.name
    try:
        before = _catalogue(old_text, path)
    except WorkbenchError as exc:
        return [f"the config file does not load as it is ({exc})"]
    try:
        after = _catalogue(new_text, path)
    except WorkbenchError as exc:
        return [f"the edited config file would not load ({exc})"]
    reasons = []
    if name in before.names():
        current = before.get(name)
        for u in result.updates:
            now = _value(current, u)
            if now != u.old:
                reasons.append(f"{u.key} is {now!r} in the config file but was {u.old!r} when measured: the file "
                               "changed since the measurement; run the routine again")
    if reasons:
        return reasons
    try:
        expected = with_updates(before.get(name) if name in before.names() else result.device, result.updates)
    except Exception as exc:  # the new values do not validate (e.g. an amplitude beyond 1)
        return [f"the new values do not make a valid device ({' '.join(str(exc).split())[:200]})"]
    if after.get(name).model_dump() != expected.model_dump():
        reasons.append(f"the edited file does not give device '{name}' exactly the new values (shared YAML "
                       "anchors or merge keys?); edit it by hand")
    for other in after.names():
        if other != name and (other not in before.names() or after.get(other).model_dump()
                              != before.get(other).model_dump()):
            reasons.append(f"writing would also change device '{other}' (it inherits from '{name}' with base: or "
                           "shares YAML nodes with it); edit the file by hand")
    return reasons


def _value(device: Device, u: Update) -> Any:
    node: Any = device.qubit(u.qubit).model_dump(mode="json")
    for key in u.path:
        node = node.get(key) if isinstance(node, Mapping) else None
    if isinstance(node, Mapping) and "weights" in node:
        node = {**node, "weights": list(node["weights"])}
    return node


def _catalogue(text: str, path: Path | None) -> Catalogue:
    """The catalogue ``text`` would give, loaded from a private copy in the config file's folder (so that
    messages and relative references behave as they will for the real file)."""
    folder = path.parent if path is not None and path.parent.is_dir() else Path(tempfile.gettempdir())
    try:
        handle, name = tempfile.mkstemp(prefix=".workbench-check-", suffix=".yml", dir=folder)
    except OSError:  # a read-only folder can still be checked (and dry-run)
        handle, name = tempfile.mkstemp(prefix=".workbench-check-", suffix=".yml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        try:
            return load_catalogue(name)
        except ConfigError as exc:  # name the real file, not the private copy
            raise ConfigError(exc.message, exc.location, str(path) if path is not None else None) from None
    finally:
        Path(name).unlink(missing_ok=True)


# -------------------------------------------------------------------------------------------- files


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ConfigError(f"cannot read config file ({exc.strerror or exc})", None, str(path)) from None


def _replace(path: Path, text: str, expected: str) -> None:
    """Atomically replace ``path`` with ``text`` (same permissions), unless it stopped being ``expected``."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        if _read(path) != expected:
            raise WorkbenchError(f"{path} changed while the change was written; nothing replaced")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(lock: Path, timeout: float | None = None) -> Iterator[None]:
    """An exclusive lock shared by every workbench writer of this config file, in any thread or process.

    A writer holds it for the few file operations of one version, so waiting ``timeout`` seconds in vain
    means a stuck writer: say so instead of hanging.
    """
    from filelock import FileLock, Timeout

    timeout = LOCK_TIMEOUT if timeout is None else timeout
    file_lock = FileLock(str(lock))
    try:
        file_lock.acquire(timeout=timeout, poll_interval=0.05)
    except Timeout:
        raise WorkbenchError(f"another write-back to this config file is in progress (lock {lock}, waited "
                             f"{timeout:g} s); nothing written") from None
    try:
        yield
    finally:
        file_lock.release()


def _next_version(history: Path) -> int:
    numbers = [int(m.group(1)) for p in history.iterdir() if p.is_dir() and (m := _VERSION.match(p.name))]
    return max(numbers, default=0) + 1


def _write_history(folder: Path, result: CalibrationResult, path: Path, old_text: str, diff: str, version: int,
                   stamp: dt.datetime) -> None:
    import yaml

    from workbench.results.dataset import json_attr, save_dataset

    ds = result.dataset
    record = {
        "version": version,
        "time": stamp.isoformat(timespec="seconds"),
        "routine": result.routine,
        "device": result.device.name,
        "qubit": result.qubit,
        "config": str(path.resolve()),
        "changes": [{"key": u.key, "old": u.old, "new": u.new, "stderr": u.stderr} for u in result.updates],
        "quality": json_attr(ds, "quality", {}),
        "fits": json_attr(ds, "fits", {}),
        "measured": json_attr(ds, "measured", {}),
        "runs": json_attr(ds, "runs", []),
        "parameters": json_attr(ds, "parameters", {}),
        "dataset": "dataset.nc",
        "dataset_tuid": ds.attrs.get("tuid"),
        "summary": ds.attrs.get("summary"),
        "workbench": __version__,
    }
    record = json.loads(json.dumps(record, default=str))  # plain types only, so safe_dump accepts it
    (folder / "change.yml").write_text(yaml.safe_dump(record, sort_keys=False, width=110), encoding="utf-8")
    (folder / "config-before.yml").write_text(old_text, encoding="utf-8")
    (folder / "diff.patch").write_text(diff, encoding="utf-8")
    save_dataset(ds, folder / "dataset.nc")


# ------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Version:
    """One entry of a config file's history."""

    version: int
    folder: Path
    record: dict[str, Any]

    @property
    def routine(self) -> str:
        return str(self.record.get("routine"))

    @property
    def changes(self) -> list[dict[str, Any]]:
        return list(self.record.get("changes") or [])

    def dataset(self) -> Any:
        from workbench.results.dataset import load_dataset

        return load_dataset(self.folder / "dataset.nc")

    def figure(self) -> Any:
        from workbench.views.tuneup_figures import tuneup_figure

        return tuneup_figure(self.dataset())


def history(config: str | os.PathLike[str]) -> list[Version]:
    """The versions written into ``config`` by tune-up, oldest first."""
    import yaml

    folder = history_folder(config)
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.iterdir()):
        m = _VERSION.match(p.name)
        if p.is_dir() and m and (p / "change.yml").is_file():
            out.append(Version(int(m.group(1)), p, yaml.safe_load((p / "change.yml").read_text(encoding="utf-8"))))
    return sorted(out, key=lambda v: v.version)
