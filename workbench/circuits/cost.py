"""What an OpenQASM circuit costs, read from its text before Qiskit builds anything.

A 1.2 KB file of gate definitions that each call the previous one ten times ("billion laughs")
expands to 10^10 operations; a ``for`` loop over ``[0:10^9]`` is one line. Qiskit's readers build
such circuits (or unroll them later) without complaint, so the cost is read here first, from a
light scan of the statements: each gate definition's expanded size and nesting depth, loops
multiplied by their iteration counts, applications to whole registers by the register's size. The
scan is linear in the text and never expands anything; it only needs to be an upper bound on the
work, not to validate the program (Qiskit's reader does that afterwards, with its own messages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench.errors import JobError

#: Gate definitions nested deeper than this are refused: Qiskit expands them recursively and fails
#: with a bare RecursionError somewhere beyond a few hundred levels; real libraries nest a handful.
MAX_GATE_DEPTH = 100

_TOKEN = re.compile(r"\s*(?:(?P<id>[A-Za-z_$][\w$]*|\$\d+)|(?P<num>\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?)"
                    r'|(?P<str>"[^"\n]*")|(?P<op>->|==|!=|<=|>=|&&|\|\||<<|>>|\+\+|.))', re.DOTALL)
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_NOT_OPERATIONS = frozenset({
    "OPENQASM", "include", "qreg", "creg", "qubit", "bit", "int", "uint", "float", "angle", "bool", "complex",
    "const", "input", "output", "duration", "stretch", "array", "let", "defcalgrammar", "extern", "cal",
    "defcal", "return", "break", "continue", "end", "pragma",
})
_BUILTIN_ONE = 1


@dataclass
class _Token:
    kind: str
    text: str
    line: int


@dataclass
class CircuitCost:
    """The scan's result: operations after expansion, deepest gate nesting, and where it is."""

    operations: int = 0
    depth: int = 0
    depth_line: int | None = None
    gates: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (operations, depth)


def _tokens(text: str) -> list[_Token]:
    stripped = _COMMENTS.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    out: list[_Token] = []
    line = 1
    pos = 0
    n = len(stripped)
    while pos < n:
        match = _TOKEN.match(stripped, pos)
        if match is None:
            break
        start = match.start(match.lastgroup) if match.lastgroup else pos
        line += stripped.count("\n", pos, start)
        pos = match.end()
        if match.lastgroup is None:
            continue
        out.append(_Token(match.lastgroup, match.group(match.lastgroup), line))
        line += match.group(match.lastgroup).count("\n")
    return out


class _Scanner:
    def __init__(self, tokens: list[_Token], cost: CircuitCost):
        self.t = tokens
        self.i = 0
        self.cost = cost
        self.registers: dict[str, int] = {}
        self.constants: dict[str, int] = {}

    # ------------------------------------------------------------------------------------ helpers
    def peek(self, k: int = 0) -> _Token | None:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def at(self, text: str, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok is not None and tok.text == text

    def skip_balanced(self, open_: str, close: str) -> list[_Token]:
        """Skip from an opening bracket to its partner; returns the tokens inside."""
        depth = 0
        start = self.i
        while self.i < len(self.t):
            text = self.t[self.i].text
            self.i += 1
            if text == open_:
                depth += 1
            elif text == close:
                depth -= 1
                if depth == 0:
                    return self.t[start + 1 : self.i - 1]
        return self.t[start + 1 :]

    def skip_statement(self) -> list[_Token]:
        start = self.i
        while self.i < len(self.t) and self.t[self.i].text != ";":
            if self.t[self.i].text in "({[":
                pair = {"(": ")", "{": "}", "[": "]"}[self.t[self.i].text]
                self.skip_balanced(self.t[self.i].text, pair)
                continue
            self.i += 1
        self.i += 1
        return self.t[start : self.i - 1]

    def integer(self, tokens: list[_Token]) -> int | None:
        """An integer literal, a declared constant, or a negated one; None for anything else."""
        texts = [t.text for t in tokens]
        sign = 1
        if texts[:1] == ["-"]:
            sign, texts = -1, texts[1:]
        if len(texts) != 1:
            return None
        if re.fullmatch(r"\d[\d_]*", texts[0]):
            return sign * int(texts[0].replace("_", ""))
        value = self.constants.get(texts[0])
        return None if value is None else sign * value

    # ---------------------------------------------------------------------------------- statements
    def block(self, in_gate: bool) -> tuple[int, int]:
        """``(operations, depth)`` of the statements up to the matching ``}`` (or the end)."""
        total = depth = 0
        while self.i < len(self.t) and not self.at("}"):
            ops, d = self.statement(in_gate)
            total += ops
            depth = max(depth, d)
        self.i += 1  # the closing brace
        return total, depth

    def body(self, in_gate: bool) -> tuple[int, int]:
        if self.peek() is None:
            return 0, 0
        if self.at("{"):
            self.i += 1
            return self.block(in_gate)
        return self.statement(in_gate)

    def statement(self, in_gate: bool) -> tuple[int, int]:
        tok = self.peek()
        if tok is None:
            return 0, 0
        word = tok.text
        if word == "{":
            self.i += 1
            return self.block(in_gate)
        if word in ("gate", "def") and self.peek(1) is not None:
            return self.definition(word)
        if word == "for":
            return self.loop()
        if word == "while":
            self.i += 1
            if self.at("("):
                self.skip_balanced("(", ")")
            return self.body(in_gate)  # a data-dependent loop: its body once (Aer bounds it by shots)
        if word == "if":
            self.i += 1
            if self.at("("):
                self.skip_balanced("(", ")")
            ops, depth = self.body(in_gate)
            if self.at("else"):
                self.i += 1
                more, d2 = self.body(in_gate)
                ops, depth = ops + more, max(depth, d2)
            return ops, depth
        if word == "box":
            self.i += 1
            if self.at("["):
                self.skip_balanced("[", "]")
            return self.body(in_gate)
        if word in ("qreg", "creg"):
            self.declaration_v2()
            return 0, 0
        if word in ("qubit", "bit"):
            self.declaration_v3()
            return 0, 0
        if word == "const":
            self.constant()
            return 0, 0
        if word in ("opaque", "defcal", "cal", "extern"):
            if word in ("defcal", "cal"):
                while self.i < len(self.t) and not self.at("{"):
                    self.i += 1
                self.skip_balanced("{", "}")
            else:
                self.skip_statement()
            return 0, 0
        if word in _NOT_OPERATIONS or tok.kind not in ("id",):
            self.skip_statement()
            return 0, 0
        return self.application(in_gate)

    def declaration_v2(self) -> None:
        tokens = self.skip_statement()
        if len(tokens) >= 5 and tokens[2].text == "[":
            size = self.integer(tokens[3:4])
            if size is not None and tokens[1].text:
                self.registers[tokens[1].text] = size

    def declaration_v3(self) -> None:
        tokens = self.skip_statement()
        if len(tokens) >= 5 and tokens[1].text == "[" and tokens[3].text == "]":
            size = self.integer(tokens[2:3])
            if size is not None:
                self.registers[tokens[4].text] = size
        elif len(tokens) == 2:
            self.registers[tokens[1].text] = 1

    def constant(self) -> None:
        tokens = self.skip_statement()
        texts = [t.text for t in tokens]
        if "=" in texts:
            k = texts.index("=")
            value = self.integer(tokens[k + 1 :])
            if value is not None and k >= 1:
                self.constants[texts[k - 1]] = value

    def definition(self, word: str) -> tuple[int, int]:
        line = self.t[self.i].line
        self.i += 1
        name = self.t[self.i].text
        while self.i < len(self.t) and not self.at("{"):
            self.i += 1
        if self.i >= len(self.t):
            return 0, 0
        self.i += 1
        ops, depth = self.block(in_gate=True)
        depth += 1
        self.cost.gates[name] = (max(ops, 1) if word == "gate" else ops, depth)
        if depth > self.cost.depth:
            self.cost.depth, self.cost.depth_line = depth, line
        return 0, 0

    def loop(self) -> tuple[int, int]:
        line = self.t[self.i].line
        self.i += 1
        while self.i < len(self.t) and not self.at("in"):
            self.i += 1
        self.i += 1
        count: int | None = None
        if self.at("["):
            inside = self.skip_balanced("[", "]")
            parts: list[list[_Token]] = [[]]
            for tok in inside:
                if tok.text == ":":
                    parts.append([])
                else:
                    parts[-1].append(tok)
            values = [self.integer(p) for p in parts]
            if len(values) in (2, 3) and all(v is not None for v in values):
                start, end = values[0], values[-1]
                step = values[1] if len(values) == 3 else 1
                assert start is not None and end is not None and step is not None
                count = 0 if step == 0 else max(0, (end - start) // step + 1)
        elif self.at("{"):
            inside = self.skip_balanced("{", "}")
            count = sum(1 for tok in inside if tok.text == ",") + (1 if inside else 0)
        else:
            self.i += 1  # an array variable: its length is not known here
        if count is None:
            raise JobError("the bounds of this for loop are not integer literals or constants, so its cost cannot "
                           "be estimated before it runs; write them as numbers", f"line {line}")
        ops, depth = self.body(in_gate=False)
        return ops * count, depth

    def application(self, in_gate: bool) -> tuple[int, int]:
        tokens = self.skip_statement()
        power = 1
        k = 0
        # modifiers: ctrl @, negctrl @, inv @, pow(k) @
        while k < len(tokens) and tokens[k].text in ("ctrl", "negctrl", "inv", "pow"):
            if tokens[k].text == "pow" and k + 1 < len(tokens) and tokens[k + 1].text == "(":
                close = next((j for j in range(k + 2, len(tokens)) if tokens[j].text == ")"), len(tokens))
                value = self.integer(tokens[k + 2 : close])
                power *= abs(value) if value is not None else 1
                k = close + 1
            else:
                k += 1
                if k < len(tokens) and tokens[k].text == "(":
                    k = next((j for j in range(k, len(tokens)) if tokens[j].text == ")"), len(tokens)) + 1
            if k < len(tokens) and tokens[k].text == "@":
                k += 1
        if k >= len(tokens):
            return 0, 0
        name = tokens[k].text
        if any(t.text == "=" for t in tokens) and name != "measure":
            name = "measure" if any(t.text == "measure" for t in tokens) else ""
            if not name:
                return 0, 0  # a classical assignment
        ops, depth = self.cost.gates.get(name, (_BUILTIN_ONE, 0))
        broadcast = 1
        if not in_gate:
            for j in range(k + 1, len(tokens)):
                size = self.registers.get(tokens[j].text)
                if size is not None and not (j + 1 < len(tokens) and tokens[j + 1].text == "["):
                    broadcast = max(broadcast, size)
        return ops * broadcast * power, depth


def circuit_cost(text: str, included: dict[str, str] | None = None) -> CircuitCost:
    """The cost of OpenQASM ``text``; ``included`` maps include names to their text (costed first,
    in order, as the reader pastes them)."""
    cost = CircuitCost()
    for name, body in (included or {}).items():
        scanner = _Scanner(_tokens(body), cost)
        while scanner.i < len(scanner.t):
            scanner.statement(in_gate=False)
        del name
    scanner = _Scanner(_tokens(text), cost)
    total = 0
    while scanner.i < len(scanner.t):
        ops, _ = scanner.statement(in_gate=False)
        total += ops
    cost.operations = total
    return cost
