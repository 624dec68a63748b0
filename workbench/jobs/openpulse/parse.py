"""OpenQASM 3 + OpenPulse text -> the reference AST, with every position in file coordinates.

The reference parsers work in two stages: ``openqasm3`` reads the program and keeps each ``cal`` /
``defcal`` body as raw text, then ``openpulse`` re-reads each body with the OpenPulse grammar. Nodes
of a body therefore carry spans relative to the body, and its syntax errors positions within it.
This module runs the same two stages itself (as ``openpulse.parse`` does) so that it can move the
spans of body nodes to the file's lines and columns and put a file position on every error: a user
gets ``line N column C: expected ';', found 'play'`` whichever stage failed.

ANTLR also prints its complaints to stderr; that output is captured (it is the only place some
positions appear) and never shown.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
from typing import Any

from workbench.errors import JobError

_RELATIVE = re.compile(r"\AL(?P<line>\d+):C(?P<column>\d+):\s*(?P<text>.*)\Z", re.DOTALL)
# The reference parsers read about 10 000 tokens a second (ANTLR in Python): 4 MB is minutes of parsing
# already, far beyond any program written by hand or by a tool; a bigger text is a mistake, not a job.
MAX_SOURCE_CHARS = 4_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class Origin:
    """Where a block's body starts in the file: 1-based line, 0-based column."""

    line: int
    column: int


def parse_program(text: str) -> Any:
    """The ``openqasm3.ast.Program`` of ``text`` with OpenPulse bodies parsed; raises :class:`JobError`."""
    if len(text) > MAX_SOURCE_CHARS:
        raise JobError(f"the program has {len(text)} characters, more than the {MAX_SOURCE_CHARS} read")
    try:
        import openqasm3
        from openpulse import ast as pulse_ast  # noqa: F401 (checks that the OpenPulse parser is installed)
    except ImportError:
        raise JobError("reading OpenPulse programs needs the 'openpulse' package (pip install openpulse)") from None
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            program = openqasm3.parse(text, permissive=False)
    except RecursionError:
        raise JobError("the program is nested too deeply to read") from None
    except Exception as exc:  # QASM3ParsingError, or an ANTLR cancellation underneath it
        raise _outer_error(exc, captured.getvalue(), text) from None
    for block, in_defcal in _blocks(program):
        _parse_body(block, in_defcal, text)
    return program


def _blocks(program: Any) -> list[tuple[Any, bool]]:
    """Every ``cal`` and ``defcal`` node, also those nested in loops, boxes and branches."""
    from openqasm3 import ast

    found: list[tuple[Any, bool]] = []

    def walk(node: Any) -> None:
        if isinstance(node, ast.CalibrationDefinition):
            found.append((node, True))
            return
        if isinstance(node, ast.CalibrationStatement):
            found.append((node, False))
            return
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, ast.QASMNode):
            for f in dataclasses.fields(node):
                if f.name != "span":
                    walk(getattr(node, f.name))

    walk(program.statements)
    return found


def _offset(text: str, line: int, column: int) -> int:
    """Character offset of a 1-based line and 0-based column."""
    start = 0
    for _ in range(line - 1):
        start = text.index("\n", start) + 1
    return start + column


def _position(text: str, offset: int) -> Origin:
    line = text.count("\n", 0, offset) + 1
    return Origin(line, offset - (text.rfind("\n", 0, offset) + 1))


def _body_origin(block: Any, text: str) -> Origin:
    """Where the raw body (the text between the braces) starts in the file."""
    body = block.body if isinstance(block.body, str) else ""
    start = _offset(text, block.span.start_line, block.span.start_column)
    brace = text.find("{", start)
    found = text.find(body, brace + 1) if body else brace + 1
    return _position(text, found if found >= 0 else brace + 1)


def _parse_body(block: Any, in_defcal: bool, text: str) -> None:
    from openpulse import ast as pulse_ast
    from openpulse.parser import parse_openpulse

    origin = _body_origin(block, text)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            body = parse_openpulse(block.body, in_defcal=in_defcal, permissive=False).body
    except RecursionError:
        raise JobError("a calibration block is nested too deeply to read", _where(origin.line)) from None
    except Exception as exc:
        raise _body_error(exc, captured.getvalue(), origin, in_defcal) from None
    for statement in body:
        _shift_spans(statement, origin)
    block.__class__ = pulse_ast.CalibrationDefinition if in_defcal else pulse_ast.CalibrationStatement
    block.body = body


def _shift(line: int, column: int, origin: Origin) -> tuple[int, int]:
    return origin.line + line - 1, column + (origin.column if line == 1 else 0)


def _shift_spans(node: Any, origin: Origin) -> None:
    """Body-relative spans -> file spans, for a body node and everything under it."""
    from openqasm3 import ast

    if isinstance(node, list):
        for item in node:
            _shift_spans(item, origin)
        return
    if not isinstance(node, ast.QASMNode):
        return
    span = getattr(node, "span", None)
    if span is not None:
        start = _shift(span.start_line, span.start_column, origin)
        end = _shift(span.end_line, span.end_column, origin)
        node.span = ast.Span(start[0], start[1], end[0], end[1])
    for annotation in getattr(node, "annotations", None) or ():
        _shift_spans(annotation, origin)
    for f in dataclasses.fields(node):
        if f.name not in ("span", "annotations"):
            _shift_spans(getattr(node, f.name), origin)


def _where(line: int, column: int | None = None) -> str:
    return f"line {line}" if column is None else f"line {line} column {column}"


def _outer_error(exc: BaseException, stderr: str, text: str) -> JobError:
    # The circuit reader already turns every shape of openqasm3 parser failure into a located message.
    from workbench.circuits.qasm import _Failure, _located_qasm3

    located = _located_qasm3(_Failure(exc, stderr), text)
    if located is None:
        return JobError(f"cannot read the program: {_one_line(str(exc)) or type(exc).__name__}")
    line, column, message = located
    return JobError(message, _where(line, column))


def _body_error(exc: BaseException, stderr: str, origin: Origin, in_defcal: bool) -> JobError:
    from workbench.circuits.qasm import _ANTLR_CONSOLE, _recognition_error, _rephrase

    block = "defcal" if in_defcal else "cal block"
    located = _recognition_error(exc)
    if located is not None:
        line, column, message = located
        line, column0 = _shift(line, (column or 1) - 1, origin)
        return JobError(f"{message} (in a {block})", _where(line, column0 + 1))
    match = _RELATIVE.match(_one_line(str(exc)))
    if match is None:
        match = _ANTLR_CONSOLE.search(stderr)
    if match is not None:
        line, column0 = _shift(int(match.group("line")), int(match.group("column")), origin)
        return JobError(f"{_rephrase(match.group('text'))} (in a {block})", _where(line, column0 + 1))
    return JobError(f"cannot read the {block}: {_one_line(str(exc)) or type(exc).__name__}", _where(origin.line))


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 240 else text[:237] + "..."
