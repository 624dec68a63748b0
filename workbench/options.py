"""Execution options: declaration, validation, precedence and the reproducible echo.

Every option is declared once (:class:`OptionSpec`): the core declares the common ones, each executor
its own. Values come from several places, later ones winning::

    device defaults < job file config < options file < flags (--shots, --seed, --set KEY=VALUE)

The result is :class:`ResolvedOptions`: ``values`` (every declared option, defaults filled in and
the seed drawn if none was given) drive execution; ``echo`` is what ``execution-options.json``
holds: ``values`` plus the unknown options exactly as the user gave them, never a secret. Passing
the echo back as an options file reproduces the run.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import OptionsError

#: What QHAna writes into execution options about an earlier execution (our execution-options.json has
#: them too). They are provenance, not options: echoed (the output replaces them), never warned about.
PROVENANCE_KEYS = frozenset({"ID", "executorPlugin", "qpuType", "qpuVendor", "qpuName", "qpuVersion"})

#: Spellings of booleans accepted from options files and flags: marshmallow's (QHAna's forms), any case.
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "on"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "off"})

# Credentials named by the QHAna executor interface, in both spellings users type.
SECRET_NAMES = frozenset(
    {"api-token", "api_token", "apitoken", "token", "username", "user", "password", "start-session",
     "start_session", "credentials", "secret"}
)


@dataclass(frozen=True)
class OptionSpec:
    """One execution option. ``kind`` is one of int, float, bool, str, dict; ``choices`` limits values."""

    name: str
    kind: type
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    secret: bool = False
    nullable: bool = False

    def coerce(self, value: Any, source: str) -> Any:
        """Validate one value; raises :class:`OptionsError` naming the option and where it came from."""
        if value is None and self.nullable:
            return None
        kind = self.kind
        ok = True
        if kind is bool:
            if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
                value = value.strip().lower() in TRUE_WORDS
            elif isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
                value = bool(value)  # JSON 1/0, as QHAna's forms and options files send them
            ok = isinstance(value, bool)
        elif kind is int:
            if isinstance(value, str):
                try:
                    value = int(value.strip())
                except ValueError:
                    ok = False
            elif isinstance(value, float) and value.is_integer():
                value = int(value)
            ok = ok and isinstance(value, int) and not isinstance(value, bool)
        elif kind is float:
            if isinstance(value, str):
                try:
                    value = float(value.strip())
                except ValueError:
                    ok = False
            ok = ok and isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            value = float(value) if ok else value
        elif kind is str:
            ok = isinstance(value, str)
        elif kind is dict:  # a JSON object, given as a mapping or typed as its JSON text
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError:
                    ok = False
            ok = ok and isinstance(value, dict)
        if not ok:
            raise OptionsError(f"expected {kind.__name__}, got {_show(value)}", f"option '{self.name}'", source)
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(_show(c) for c in self.choices)
            raise OptionsError(f"must be one of {allowed}, got {_show(value)}", f"option '{self.name}'", source)
        if self.minimum is not None and value < self.minimum:
            raise OptionsError(f"must be >= {self.minimum:g}, got {_show(value)}", f"option '{self.name}'", source)
        if self.maximum is not None and value > self.maximum:
            raise OptionsError(f"must be <= {self.maximum:g}, got {_show(value)}", f"option '{self.name}'", source)
        return value

    def describe(self) -> dict[str, Any]:
        """Plain description for forms and docs."""
        return {"name": self.name, "type": self.kind.__name__, "default": self.default, "help": self.help,
                "choices": list(self.choices) if self.choices else None, "minimum": self.minimum,
                "maximum": self.maximum, "secret": self.secret}


def _show(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, str | int | float | bool) or value is None else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


MAX_SEED = 2**32 - 1

COMMON_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("shots", int, 1024, "number of repetitions of each experiment", minimum=1, maximum=10_000_000),
    OptionSpec("seed", int, None, "random seed; drawn and recorded when not given", minimum=0,
               maximum=MAX_SEED, nullable=True),
    OptionSpec("meas_level", int, 2, "0 raw traces, 1 integrated IQ, 2 discriminated bits", choices=(0, 1, 2)),
    OptionSpec("meas_return", str, "single", "per-shot IQ ('single') or averaged over shots ('avg')",
               choices=("single", "avg")),
    OptionSpec("rep_time", float, 0.0002, "time between shots in s (hardware only)", minimum=0.0),
)


def is_secret(name: str, specs: Iterable[OptionSpec] = ()) -> bool:
    """A name the workbench treats as a credential: QHAna's names, an option marked secret, or any name that
    looks like one (:func:`looks_like_credential`)."""
    return looks_like_credential(name) or any(s.secret and s.name == name for s in specs)


#: Words that make an option name a credential (after splitting at ``-``, ``_``, ``.``, spaces and camelCase).
CREDENTIAL_WORDS = frozenset({"token", "tokens", "password", "passwd", "passphrase", "pwd", "pass", "secret",
                              "secrets", "credential", "credentials", "auth", "authorization", "cookie", "bearer",
                              "apikey", "accesskey", "secretkey", "privatekey", "sessionid"})
#: Pieces that make a name a credential wherever they appear in it, separators removed (``x-api-key``,
#: ``myPassword``, ``githubtoken``).
CREDENTIAL_PIECES = ("token", "passw", "secret", "apikey", "accesskey", "privatekey", "credential")


def credential_key(name: str) -> str:
    """A name without case and separators: ``api-token``, ``api_token`` and ``apiToken`` are one name."""
    return re.sub(r"[\s_.\-]+", "", name).lower()


def looks_like_credential(name: str) -> bool:
    """Whether an option name would be a credential if someone used it: such a value is never echoed into
    an output file, whether or not an executor declares it."""
    if name.strip().lower() in SECRET_NAMES:
        return True
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    parts = [w.lower() for w in re.split(r"[\s_.\-]+", words) if w]
    joined = credential_key(name)
    return (any(w in CREDENTIAL_WORDS for w in parts) or any(p in joined for p in CREDENTIAL_PIECES)
            or any(a + b in CREDENTIAL_WORDS for a, b in itertools.pairwise(parts)))


def without_credentials(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """``mapping`` with every credential-looking key left out (device defaults copied into a result)."""
    return {k: v for k, v in mapping.items() if not (isinstance(k, str) and looks_like_credential(k))}


class Secret:
    """A credential: usable by an executor through :meth:`reveal`, never shown by repr/str."""

    __slots__ = ("_value",)

    def __init__(self, value: Any):
        self._value = value

    def reveal(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __reduce__(self):  # refuse to be pickled into a file by accident
        raise TypeError("secrets cannot be pickled")


@dataclass(frozen=True)
class ResolvedOptions:
    values: Mapping[str, Any]  # every declared option, validated, defaults filled
    unknown: Mapping[str, Any]  # options no spec declares: echoed as given, ignored
    secrets: Mapping[str, Secret] = field(repr=False)
    sources: Mapping[str, str]  # where each value came from (default, device, job, options file, flag)
    warnings: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def with_values(self, updates: Mapping[str, Any], source: str) -> ResolvedOptions:
        """A copy with some declared values replaced (an executor's own resolution of them)."""
        unknown = [k for k in updates if k not in self.values]
        if unknown:
            raise ValueError(f"cannot update undeclared options {unknown}")
        values = {**self.values, **updates}
        sources = {**self.sources, **dict.fromkeys(updates, source)}
        return ResolvedOptions(values, self.unknown, self.secrets, sources, self.warnings)

    @property
    def echo(self) -> dict[str, Any]:
        """The reproducible options for ``execution-options.json``: no secrets, ever."""
        out = dict(self.values)
        out.update(self.unknown)
        return out


def resolve_options(
    specs: Sequence[OptionSpec],
    layers: Sequence[tuple[str, Mapping[str, Any] | None]],
    credentials: Iterable[str] | None = None,
) -> ResolvedOptions:
    """Merge option layers (lowest precedence first) into validated values.

    ``layers`` are ``(source label, mapping)`` pairs, e.g. ``("device qutip-1q", {...})``; the label
    appears in error messages. Secrets are split off before anything else sees them.

    ``credentials``: what the executor declares (``needs_credentials``). Given, secrets are by declaration:
    a declared credential (in any spelling: ``api_token`` for ``api-token``) and an option marked secret
    become :class:`Secret` under their declared name; any other credential-looking name
    (:func:`looks_like_credential`) is dropped with a warning naming it, never its value. Not given (no
    executor known), every credential-looking name becomes a Secret. Either way none is ever echoed.
    """
    by_name = {s.name: s for s in specs if not s.secret}
    declared: dict[str, str] | None = None
    if credentials is not None:
        declared = {credential_key(n): n for n in [*credentials, *(s.name for s in specs if s.secret)]}
    dropped: list[str] = []
    values: dict[str, Any] = {s.name: s.default for s in by_name.values()}
    sources: dict[str, str] = {name: "default" for name in by_name}
    unknown: dict[str, Any] = {}
    found_secrets: dict[str, Secret] = {}
    for source, mapping in layers:
        if not mapping:
            continue
        if not isinstance(mapping, Mapping):
            raise OptionsError("options must be a JSON object of name: value", None, source)
        for name, value in mapping.items():
            if not isinstance(name, str):
                raise OptionsError(f"option names must be strings, got {name!r}", None, source)
            if name not in by_name and name not in PROVENANCE_KEYS:
                if declared is not None and credential_key(name) in declared:
                    secret = value if isinstance(value, Secret) else Secret(value)
                    found_secrets[declared[credential_key(name)]] = secret
                    continue
                if is_secret(name, specs):
                    if declared is None:
                        found_secrets[name] = value if isinstance(value, Secret) else Secret(value)
                    elif name not in dropped:
                        dropped.append(name)
                    continue
            spec = by_name.get(name)
            if spec is None:
                unknown[name] = value
                sources[name] = source
                continue
            values[name] = spec.coerce(value, source)
            sources[name] = source
    warnings = tuple(f"unknown option '{n}' ignored (echoed in execution-options.json)" for n in unknown
                     if n not in PROVENANCE_KEYS)
    if dropped:
        wanted = ", ".join(sorted(declared.values())) if declared else "none"
        warnings += tuple(f"option '{n}' looks like a credential and this executor does not take it "
                          f"(it takes: {wanted}); dropped, not passed on, not written anywhere" for n in dropped)
    if values.get("seed") is None and "seed" in by_name:
        values["seed"] = secrets.randbelow(MAX_SEED)
        sources["seed"] = "drawn"
    return ResolvedOptions(values, unknown, found_secrets, sources, warnings)


def parse_assignment(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from ``--set``: the value is read as JSON when it parses, else kept as text."""
    if "=" not in text:
        raise OptionsError(f"expected KEY=VALUE, got {_show(text)}", None, "--set")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise OptionsError(f"empty option name in {_show(text)}", None, "--set")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


#: Options files are small; anything larger is not one (and is not read whole into memory).
MAX_OPTIONS_FILE = 16 * 1024 * 1024


def read_options_file(path: str) -> dict[str, Any]:
    """An options file in any form QHAna reads execution options: a JSON object (e.g. a previous run's
    ``execution-options.json``), a JSON list of entities, JSON lines (``application/X-lines+json``), or
    CSV with a header row. Like QHAna, the first entity is the options; CSV values are text (the
    options' own rules read ``"500"`` as 500 and ``"true"`` as true)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_OPTIONS_FILE + 1)
    except OSError as exc:
        raise OptionsError(f"cannot read options file ({exc.strerror or exc})", None, path) from None
    if len(raw) > MAX_OPTIONS_FILE:
        raise OptionsError(f"larger than {MAX_OPTIONS_FILE // (1024 * 1024)} MB: not an options file", None, path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OptionsError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})", None, path) from None
    if text.lstrip().startswith(("{", "[")):
        return _options_from_json(text, path)
    return _options_from_csv(text, path)


def _options_from_json(text: str, path: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = [line for line in text.splitlines() if line.strip()]
        if exc.msg == "Extra data" and lines:  # JSON lines: one entity per line, the first is the options
            try:
                data = json.loads(lines[0])
            except json.JSONDecodeError as line_exc:
                raise OptionsError(f"not valid JSON lines: {line_exc.msg}", "line 1", path) from None
        else:
            raise OptionsError(f"not valid JSON: {exc.msg}", f"line {exc.lineno} column {exc.colno}", path) from None
    except RecursionError:
        raise OptionsError("not valid JSON: nested too deeply", None, path) from None
    if isinstance(data, list):  # a list of entities, as QHAna's loaders read it: the first one
        if data and not isinstance(data[0], dict):
            raise OptionsError("a JSON list of options must hold JSON objects of name: value", "[0]", path)
        return dict(data[0]) if data else {}
    if not isinstance(data, dict):
        raise OptionsError("must be a JSON object of name: value (or a list of them, or CSV)", None, path)
    return data


def _options_from_csv(text: str, path: str) -> dict[str, Any]:
    import csv
    import io

    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        return {}
    header = rows[0]
    if len(rows) < 2:
        raise OptionsError("a CSV options file needs a header row and a row of values", "line 2", path)
    values = rows[1]
    if len(values) != len(header):
        raise OptionsError(f"has {len(values)} value{'s' if len(values) != 1 else ''} for {len(header)} columns",
                           "line 2", path)
    names = [name.strip() for name in header]
    for i, name in enumerate(names):
        if not name:
            raise OptionsError(f"column {i + 1} has no name", "line 1", path)
        if name in names[:i]:
            raise OptionsError(f"column '{name}' appears twice", "line 1", path)
    return dict(zip(names, values, strict=True))


def parse_options_text(text: str, source: str, content_type: str | None = None) -> dict[str, Any]:
    """Execution options from text in any form :func:`read_options_file` reads (fetched from a URL by
    ``workbench serve``); ``content_type`` ``text/csv`` forces CSV, else the text decides."""
    if len(text) > MAX_OPTIONS_FILE:
        raise OptionsError(f"larger than {MAX_OPTIONS_FILE // (1024 * 1024)} MB: not an options file", None, source)
    text = text.removeprefix("\ufeff")
    if (content_type or "").split(";")[0].strip().lower() != "text/csv" and text.lstrip().startswith(("{", "[")):
        return _options_from_json(text, source)
    return _options_from_csv(text, source)
