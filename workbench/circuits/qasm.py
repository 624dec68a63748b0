"""OpenQASM 2 and 3 text -> a ``qiskit.QuantumCircuit``, with errors a user can act on.

Qiskit has two unrelated readers with unrelated failure modes, so the version is decided from the
header before either is called: ``qiskit.qasm3.loads_experimental`` aborts with a Rust panic (a
``BaseException``) on OpenQASM 2, and each reader reports positions in its own format (or not at all:
a gate applied without its parameters ends in a bare ``TypeError`` from the gate constructor). Every
failure becomes one :class:`~workbench.errors.JobError` with ``line N column M`` and a one-line
message; when a reader gives no position, the statement that fails is found by re-reading prefixes
of the text (only on that error path, never for a valid file).

Qiskit is imported inside the functions: ``import workbench`` must not pay for it.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import budgets
from workbench.circuits.cost import MAX_GATE_DEPTH, circuit_cost
from workbench.errors import InputError, JobError

# Registers beyond this size are refused before a reader allocates one Python object per bit: a typo
# such as q[10000000] would otherwise hang the load for minutes. No device comes close.
MAX_DECLARED_BITS = 100_000

_BOM = "\ufeff"
_PREAMBLE = re.compile(r"\A(?:\s+|//[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_HEADER = re.compile(r"OPENQASM\b[ \t]*(?P<version>[0-9]+(?:\.[0-9]+)?)?")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_QELIB = re.compile(r'\binclude\s+"qelib1\.inc"')
_STDGATES = re.compile(r'\binclude\s+"stdgates\.inc"')
_DECLARATIONS = re.compile(
    r"\b(?:(?P<kind2>qreg|creg)\s+[A-Za-z_]\w*\s*\[\s*(?P<size2>\d+)\s*\]"
    r"|(?P<kind3>qubit|bit)\s*\[\s*(?P<size3>\d+)\s*\])"
    r"|\$(?P<hardware>\d+)"
)
_QASM2_POSITION = re.compile(r"\A(?P<file>.*?):(?P<line>\d+),(?P<column>\d+):\s*(?P<text>.*)\Z", re.DOTALL)
_QASM3_CONVERSION_POSITION = re.compile(r"\A(?P<line>\d+),(?P<column>\d+):\s*(?P<text>.*)\Z", re.DOTALL)
_QASM3_PARSER_POSITION = re.compile(r"\AL(?P<line>\d+):C(?P<column>\d+):\s*(?P<text>.*)\Z", re.DOTALL)
_ANTLR_CONSOLE = re.compile(r"line (?P<line>\d+):(?P<column>\d+) (?P<text>.*)")
_NOT_DEFINED = re.compile(r"'[A-Za-z_]\w*' is not defined")
_MAX_MESSAGE = 240


@dataclass(frozen=True)
class ParsedCircuit:
    """A circuit read from OpenQASM, with the language version it was read as (``"2.0"``, ``"3.0"``)."""

    circuit: Any  # qiskit.QuantumCircuit
    version: str


@dataclass(frozen=True)
class _Failure:
    """What a reader raised, kept comparable so that re-reads of prefixes can be matched to it."""

    exc: BaseException
    stderr: str

    @property
    def signature(self) -> tuple[str, str]:
        return type(self.exc).__name__, str(self.exc)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _where(line: int, column: int | None = None) -> str:
    return f"line {line}" if column is None else f"line {line} column {column}"


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def detect_version(text: str) -> tuple[int, str]:
    """The major version (2 or 3) and version text the header names.

    Without a header the text is OpenQASM 2 if it includes ``qelib1.inc`` (Qiskit's OpenQASM 2 reader
    accepts that, and older tools wrote such files); anything else is refused rather than guessed.
    """
    body = text.removeprefix(_BOM)
    start = _PREAMBLE.match(body).end()  # type: ignore[union-attr]
    if body.startswith("OPENQASM", start):
        header = _HEADER.match(body, start)
        line = _line_of(body, start)
        version = header.group("version") if header else None
        if not version:
            raise JobError("expected a version number after OPENQASM, e.g. 'OPENQASM 2.0;' or 'OPENQASM 3.0;'",
                           _where(line))
        major = int(version.split(".")[0])
        if major not in (2, 3):
            raise JobError(f"OpenQASM {version} is not supported; the workbench reads 'OPENQASM 2.0;' and "
                           "'OPENQASM 3.0;'", _where(line))
        return major, version
    if _QELIB.search(_COMMENTS.sub("", body)):
        return 2, "2.0"
    raise JobError("no OPENQASM header; start the circuit with 'OPENQASM 2.0;' or 'OPENQASM 3.0;' (a file without "
                   "one is read as OpenQASM 2 only when it includes \"qelib1.inc\")", _where(1))


def parse_qasm(text: str, source: str | None = None, *, include_dir: Path | None = None) -> ParsedCircuit:
    """Read OpenQASM 2 or 3 text; every problem is a :class:`JobError` with a line (``source`` names the file).

    ``include_dir`` is the folder of the file the text was read from: OpenQASM 2 may include files
    there by plain name, besides ``qelib1.inc``. Without it (pasted text, a result's stored source)
    only the standard libraries can be included. The circuit is costed (gate definitions expanded,
    loops multiplied out, on the text) against the ``max_circuit_ops`` budget before Qiskit reads it.
    """
    body = text.removeprefix(_BOM)
    try:
        major, version = detect_version(body)
        _check_declaration_sizes(body)
        lines: dict[str, int] = {}
        included = _checked_includes(body, major, include_dir, lines=lines)
        _check_cost(body, included)
    except InputError as exc:
        raise type(exc)(exc.message, exc.location, source) from None
    include_path: tuple[str, ...] = (str(include_dir),) if included else ()
    try:
        import qiskit  # noqa: F401
    except ImportError:
        raise JobError("reading OpenQASM needs the 'qiskit' package (pip install qiskit)", None, source) from None
    reader = _reader2(include_path) if major == 2 else _reader3()
    try:
        outcome = _attempt(reader, body)
    except JobError as exc:  # a missing optional reader, not a problem in the text
        raise JobError(exc.message, exc.location, source) from None
    if isinstance(outcome, _Failure):
        location, message = _explain(outcome, body, major, reader, lines)
        raise JobError(message, location, source)
    circuit = outcome
    if circuit.parameters:
        names = ", ".join(sorted(p.name for p in circuit.parameters))
        match = re.search(r"^[ \t]*input\b", _COMMENTS.sub(lambda m: " " * len(m.group()), body), re.MULTILINE)
        raise JobError(f"the circuit has free parameters ({_one_line(names)}); give them values in the circuit "
                       "(inputs are not supported)", _where(_line_of(body, match.start())) if match else None,
                       source)
    return ParsedCircuit(circuit, version)


# ---------------------------------------------------------------------------------------------- readers


def _reader2(include_path: tuple[str, ...]) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        import qiskit.qasm2 as qasm2

        # The legacy custom instructions map qelib1.inc's u1/u2/u3/cu1/... onto Qiskit's standard gate
        # classes (as Qiskit's old reader did) instead of opaque custom gates Aer would have to unroll.
        return qasm2.loads(text, include_path=include_path,
                           custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)

    return read


def _reader3() -> Callable[[str], Any]:
    def read(text: str) -> Any:
        import qiskit.qasm3 as qasm3

        return qasm3.loads(text)

    return read


def _attempt(reader: Callable[[str], Any], text: str) -> Any:
    """Run a reader and return the circuit or a :class:`_Failure`; nothing it raises escapes.

    ANTLR (under the OpenQASM 3 reader) prints syntax errors to ``sys.stderr`` before raising; that text
    is captured here because it is the only place some positions appear, and a user must see one line.
    (``redirect_stderr`` swaps ``sys.stderr`` for the whole process while a reader runs: a few
    milliseconds, in which another thread's stderr output would land in the capture.)
    """
    from qiskit.exceptions import MissingOptionalLibraryError

    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            return reader(text)
    except MissingOptionalLibraryError:
        raise JobError("reading OpenQASM 3 needs the 'qiskit-qasm3-import' package "
                       "(pip install qiskit-qasm3-import)") from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # Rust panics and ANTLR cancellations are BaseExceptions or odd types
        return _Failure(exc, captured.getvalue())


# ------------------------------------------------------------------------------------------- positions


def _explain(failure: _Failure, text: str, major: int, reader: Callable[[str], Any],
             include_lines: dict[str, int] | None = None) -> tuple[str | None, str]:
    """``(location, message)`` for a failed read, from the reader's own position when it gives one."""
    located = _located_qasm2(failure, text, include_lines or {}) if major == 2 else _located_qasm3(failure, text)
    if located is not None:
        line, column, message = located
        return _where(line, column), _with_hint(message, text, major)
    reason = _reason(failure.exc)
    statement = _failing_statement(failure, text, reader)
    if statement is None:
        return None, f"cannot read the circuit: {reason}"
    start, end = statement
    snippet = _one_line(text[start:end])
    if len(snippet) > 60:
        snippet = snippet[:57] + "..."
    return _where(_line_of(text, start)), f"in '{snippet}': {reason}"


def _located_qasm2(failure: _Failure, text: str, include_lines: dict[str, int]) -> tuple[int, int | None, str] | None:
    exc = failure.exc
    from qiskit.qasm2 import QASM2Error

    if not isinstance(exc, QASM2Error):
        return None
    raw = str(getattr(exc, "message", None) or exc)
    match = _QASM2_POSITION.match(raw.strip())
    if not match:
        return None
    message = _rephrase(match.group("text"))
    if match.group("file") != "<input>":
        message = f"in included file '{match.group('file')}' line {match.group('line')}: {message}"
        name = Path(match.group("file")).name
        line = include_lines.get(name) or _include_line(text, match.group("file")) or int(match.group("line"))
        return line, None, message
    return int(match.group("line")), int(match.group("column")) + 1, message


def _include_line(text: str, name: str) -> int | None:
    match = re.search(r'\binclude\s+"' + re.escape(Path(name).name), text)
    return _line_of(text, match.start()) if match else None


def _located_qasm3(failure: _Failure, text: str) -> tuple[int, int | None, str] | None:
    exc = failure.exc
    raw = _one_line(str(getattr(exc, "message", None) or exc))
    match = _QASM3_CONVERSION_POSITION.match(raw)
    if match and type(exc).__name__ == "QASM3ImporterError":
        line = int(match.group("line"))
        return line, _column_in_line(text, line, int(match.group("column"))), _rephrase(match.group("text"))
    match = _QASM3_PARSER_POSITION.match(raw)
    if match:
        line, column = int(match.group("line")), int(match.group("column")) + 1
        message = match.group("text")
        lexed = re.match(r"token recognition error at: '(.)", message)
        if lexed:
            message = f"unexpected character '{lexed.group(1)}'"
        return line, column, _rephrase(message)
    recognition = _recognition_error(exc, text)
    if recognition is not None:
        return recognition
    console = _ANTLR_CONSOLE.search(failure.stderr)
    if console:
        return int(console.group("line")), int(console.group("column")) + 1, _rephrase(console.group("text"))
    return None


def _column_in_line(text: str, line: int, column: int) -> int | None:
    """A 1-based column from the OpenQASM 3 importer's, which is sometimes an offset into the whole text.

    (openqasm3 builds identifier spans from the token's character index instead of its column.)
    """
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    if column <= len(lines[line - 1]):
        return column + 1
    if column < len(text) and _line_of(text, column) == line:
        return column - (text.rfind("\n", 0, column) + 1) + 1
    return None


def _recognition_error(exc: BaseException, text: str | None = None) -> tuple[int, int | None, str] | None:
    """Position and expectation from the ANTLR exception behind an empty ``QASM3ParsingError``."""
    seen: set[int] = set()
    candidates: list[Any] = []
    current: Any = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        candidates.append(current)
        candidates.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        current = current.__cause__ or current.__context__
    for candidate in candidates:
        token = getattr(candidate, "offendingToken", None)
        if token is None or getattr(token, "line", None) is None:
            continue
        found = "the end of the file" if token.type == -1 else f"'{_one_line(token.text)}'"
        expected = _expected_tokens(candidate)
        message = f"expected {expected}, found {found}" if expected else f"unexpected {found}"
        if expected == "<EOF>":
            message = f"unexpected {found} (an unbalanced '}}'?)" if token.text == "}" else f"unexpected {found}"
        begin = getattr(candidate, "startToken", None)
        if not expected and begin is not None and text is not None and 0 <= begin.start < token.start:
            before = _one_line(text[begin.start : token.stop + 1])
            if len(before) <= 60:
                message = f"unexpected {found} in '{before}' (a missing ')', ']' or ';'?)"
        return int(token.line), int(token.column) + 1, message
    return None


def _expected_tokens(recognition: Any) -> str | None:
    try:
        recognizer = recognition.recognizer
        names = recognition.getExpectedTokens().toString(recognizer.literalNames, recognizer.symbolicNames)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        return None
    items = [n.strip() for n in names.strip("{}").split(",") if n.strip()]
    if not items or len(items) > 4:
        return None  # "one of 60 tokens" helps nobody; the position and the found token do
    return " or ".join(items)


def _rephrase(message: str) -> str:
    """Qiskit's wording, made to read as 'expected X, found Y' throughout."""
    message = _one_line(message).rstrip(".")
    match = re.match(r"needed (?P<want>.*?), but instead saw (?P<saw>.*)", message)
    if match:
        saw = match.group("saw")
        if re.fullmatch(r"[A-Za-z_]\w*", saw):
            saw = f"'{saw}'"
        return f"expected {match.group('want')}, found {saw}"
    match = re.match(r"cannot use non-builtin custom instruction '(?P<name>.*)' before definition", message)
    if match:
        return f"gate '{match.group('name')}' is not defined before its use"
    if message.startswith("non-stdgates imports not currently supported"):
        return "only \"stdgates.inc\" can be included in OpenQASM 3 here (Qiskit's importer)"
    match = re.match(r"no viable alternative at input '(?P<input>.*)'", message)
    if match:
        return f"cannot make sense of '{match.group('input')}' (a missing ')', ']' or ';'?)"
    match = re.match(r"missing (?P<want>.*?) at (?P<saw>.*)", message)
    if match:
        return f"expected {match.group('want')}, found {match.group('saw')}"
    match = re.match(r"mismatched input (?P<saw>.*?) expecting (?P<want>.*)", message)
    if match:
        want = match.group("want")
        return f"expected {want}, found {match.group('saw')}" if len(want) < 60 else f"unexpected {match.group('saw')}"
    match = re.match(r"extraneous input (?P<saw>.*?) expecting", message)
    if match:
        return f"unexpected {match.group('saw')}"
    return message


def _with_hint(message: str, text: str, major: int) -> str:
    """Name the missing include when a standard gate is undefined: the usual cause."""
    match = _NOT_DEFINED.search(message)
    if not match:
        return message
    stripped = _COMMENTS.sub("", text)
    if major == 2 and not _QELIB.search(stripped):
        return f"{message} (the standard gates need 'include \"qelib1.inc\";')"
    if major == 3 and not _STDGATES.search(stripped):
        return f"{message} (the standard gates need 'include \"stdgates.inc\";')"
    return message


def _reason(exc: BaseException) -> str:
    """A readable cause for a failure the reader did not locate (mostly raised while building the circuit)."""
    text = _one_line(str(getattr(exc, "message", None) or exc))
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]  # QiskitError's str() is the repr of its message
    if isinstance(exc, TypeError):
        missing = re.search(r"missing \d+ required positional arguments?: (.*)", text)
        if missing:
            return f"the gate is missing its parameter(s) {missing.group(1)}; give them in parentheses after its name"
        if re.search(r"takes \d+ positional arguments? but \d+ were given", text):
            return "the gate is given too many parameters"
        return f"wrong arguments ({text})"
    if text == "register size error":
        return "the two sides have different sizes"
    if isinstance(exc, IndexError):
        return "an index is beyond the size of its register"
    if isinstance(exc, RecursionError):
        return "an expression is nested too deeply"
    if isinstance(exc, MemoryError):
        return "the circuit is too large to build"
    return text or type(exc).__name__


def _statement_ends(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each top-level statement: ends at ``;`` or at a ``}`` closing the outer block."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start: int | None = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        if text.startswith("/*", i):
            i = text.find("*/", i + 2)
            i = n if i < 0 else i + 2
            continue
        if start is None and not ch.isspace():
            start = i
        if ch == '"':
            close = text.find('"', i + 1)
            i = n if close < 0 else close + 1
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
            if depth == 0 and start is not None:
                spans.append((start, i + 1))
                start = None
        elif ch == ";" and depth == 0 and start is not None:
            spans.append((start, i + 1))
            start = None
        i += 1
    if start is not None:
        spans.append((start, n))
    return spans


def _failing_statement(failure: _Failure, text: str, reader: Callable[[str], Any]) -> tuple[int, int] | None:
    """The first statement whose prefix of the text fails the same way, by bisection over statements.

    Readers process statements in order, so a prefix fails exactly when it contains the culprit; a
    prefix cut inside a compound statement fails differently and counts as not containing it.
    """
    spans = _statement_ends(text)
    if not spans:
        return None
    signature = failure.signature

    def fails_alike(k: int) -> bool:
        outcome = _attempt(reader, text[: spans[k][1]])
        return isinstance(outcome, _Failure) and outcome.signature == signature

    low, high = 0, len(spans) - 1
    if not fails_alike(high):
        return None
    while low < high:
        middle = (low + high) // 2
        if fails_alike(middle):
            high = middle
        else:
            low = middle + 1
    return spans[low]


_INCLUDE = re.compile(r'\binclude\s*"(?P<name>[^"\n]*)"')
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
MAX_INCLUDES = 64  # files read through includes, nested ones counted


def _checked_includes(text: str, major: int, folder: Path | None, seen: dict[str, str] | None = None,
                      line_in_main: int | None = None, lines: dict[str, int] | None = None) -> dict[str, str]:
    """The circuit's own include files (name -> text), each checked before anything reads it.

    Allowed: the standard library of the version (built into the reader), and for OpenQASM 2 a file
    next to the circuit named by a plain file name (no folders, no ``..``), when the text was read
    from a file. Nothing else is opened, so no message can tell whether some other file exists, let
    alone quote it. Included files may include further files under the same rule; the error line is
    that of the ``include`` in the circuit itself.
    """
    seen = {} if seen is None else seen
    standard = "qelib1.inc" if major == 2 else "stdgates.inc"
    stripped = _COMMENTS.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    for match in _INCLUDE.finditer(stripped):
        name = match.group("name")
        line = line_in_main or _line_of(stripped, match.start())
        where = _where(line)
        if name == standard or name in seen:
            continue
        shown = _one_line(name)[:60]
        if major == 3:
            raise JobError(f'include "{shown}" refused: only the standard library "{standard}" can be included in '
                           "OpenQASM 3 here", where)
        if folder is None:
            raise JobError(f'include "{shown}" refused: only "{standard}" can be included in text that was not read '
                           "from a file here (pasted text, a result's stored source); save the circuit next to the "
                           "file it includes and load it from there", where)
        if not _PLAIN_NAME.fullmatch(name) or ".." in name:
            raise JobError(f'include "{shown}" refused: a circuit may include "{standard}" and files in its own '
                           "folder, named without a path (no '/', '\\' or '..')", where)
        if len(seen) >= MAX_INCLUDES:
            raise JobError(f"more than {MAX_INCLUDES} included files", where)
        seen[name] = _read_include(folder, name, where)
        if lines is not None:
            lines[name] = line  # where an error inside it (or a file it includes) is reported
        _checked_includes(seen[name], major, folder, seen, line, lines)
    return seen


def _read_include(folder: Path, name: str, where: str) -> str:
    path = folder / name
    refused = JobError(f'include "{name}": no regular file of that name next to the circuit', where)
    try:
        if path.is_symlink() or not path.is_file() or path.resolve().parent != folder.resolve():
            raise refused
        size = path.stat().st_size
        budgets.check("max_job_mb", size / 2**20, where, detail=f"included file of {size:,} bytes")
        with open(path, "rb") as fh:
            raw = fh.read(budgets.max_bytes() + 1)
        return raw.decode("utf-8")
    except (OSError, ValueError):
        raise refused from None


def _check_cost(text: str, included: dict[str, str]) -> None:
    """Refuse circuits whose gate expansion or loops exceed ``max_circuit_ops``, or nest too deep."""
    cost = circuit_cost(text, included)
    if cost.depth > MAX_GATE_DEPTH:
        line = cost.depth_line if not included else None
        raise JobError(f"gate definitions nest {cost.depth} deep, more than the {MAX_GATE_DEPTH} levels read",
                       _where(line) if line else None)
    budgets.check("max_circuit_ops", cost.operations, detail="after expanding gate definitions and loops")


def _check_declaration_sizes(text: str) -> None:
    """Refuse absurd register sizes before a reader tries to allocate them (see MAX_DECLARED_BITS)."""
    stripped = _COMMENTS.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    totals = {"qubit": 0, "bit": 0}
    for match in _DECLARATIONS.finditer(stripped):
        if match.group("hardware") is not None:
            kind = "qubit"  # $N addresses physical qubit N: the circuit has N + 1 qubits
            totals[kind] = max(totals[kind], int(match.group("hardware")) + 1)
        else:
            word = match.group("kind2") or match.group("kind3")
            kind = "qubit" if word in ("qreg", "qubit") else "bit"
            size = int(match.group("size2") or match.group("size3"))
            totals[kind] += size
        if totals[kind] > MAX_DECLARED_BITS:
            noun = "qubits" if kind == "qubit" else "classical bits"
            raise JobError(f"the circuit declares more than {MAX_DECLARED_BITS} {noun}; no device runs that "
                           "(a typo in a register size?)", _where(_line_of(stripped, match.start())))
