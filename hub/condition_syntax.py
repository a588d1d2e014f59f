"""The XPath a route condition may use: a small, safe subset of XPath 1.0, checked by our
own parser before lxml ever sees it (an admin's XPath must not read files, call extension
functions or walk the document in ways nobody reviewed).

Allowed: location paths whose element steps carry the canonical prefix (``c:name``,
``c:*``, ``@name``, ``.``, ``..``, ``text()``, ``/`` and ``//`` between steps), predicates,
``= != < <= > >=``, ``and``, ``or``, parentheses, string literals, numbers, and the
functions in ``FUNCTIONS``. Everything else (axes, variables, unions, arithmetic, other
or prefixed functions such as ``document()``) is refused with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CONDITION_CHARS = 200
CANONICAL_PREFIX = "c"

# name -> (fewest, most) arguments; None: any number. None of them needs a node-set, so
# no argument can make them fail at run time (XPath 1.0 converts every other type).
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "starts-with": (2, 2),
    "contains": (2, 2),
    "string-length": (0, 1),
    "normalize-space": (0, 1),
    "substring": (2, 3),
    "substring-before": (2, 2),
    "substring-after": (2, 2),
    "string": (0, 1),
    "concat": (2, None),
    "translate": (3, 3),
    "not": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
}
_COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}
_NODE_TESTS = {"text", "node"}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<literal>"[^"]*"|'[^']*')
      | (?P<number>\d+(?:\.\d*)?|\.\d+)
      | (?P<name>[A-Za-z_][\w.-]*)
      | (?P<symbol>//|::|!=|<=|>=|\.\.|[/\[\]()@,=<>.*:|$])
    )""",
    re.VERBOSE,
)


class UnsafeXPath(ValueError):
    """The expression is outside the subset; the message says why."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def refusal(path: str) -> str | None:
    """Why ``path`` is not an allowed condition XPath, or None when it is."""
    if len(path) > MAX_CONDITION_CHARS:
        return f"longer than {MAX_CONDITION_CHARS} characters"
    try:
        _Parser(_tokens(path)).expression_only()
    except UnsafeXPath as exc:
        return str(exc)
    return None


def _tokens(path: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(path.rstrip()):
        match = _TOKEN.match(path, position)
        if match is None or match.lastgroup is None:
            raise UnsafeXPath(f"{path[position:].strip()[0]!r} is not allowed")
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the subset's grammar; each method reads one construct."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def expression_only(self) -> None:
        if not self.tokens:
            raise UnsafeXPath("empty")
        self.expression()
        if self.at < len(self.tokens):
            raise UnsafeXPath(f"{self._peek()!r} is not allowed here")

    def expression(self) -> None:
        self.comparison()
        while self._peek() in ("and", "or"):
            self.at += 1
            self.comparison()

    def comparison(self) -> None:
        self.operand()
        while self._peek() in _COMPARISONS:
            self.at += 1
            self.operand()

    def operand(self) -> None:
        token = self._current()
        if token.kind in ("literal", "number"):
            self.at += 1
        elif token.text == "(":
            self.at += 1
            self.expression()
            self._expect(")")
        elif token.kind == "name" and self._peek(1) == "(" and token.text not in _NODE_TESTS:
            self.function()
        else:
            self.path()
        self._refuse_operators()

    def function(self) -> None:
        name = self._current().text
        if name not in FUNCTIONS:
            raise UnsafeXPath(f"function {name}() is not allowed; allowed: {', '.join(FUNCTIONS)}")
        self.at += 2
        count = 0
        if self._peek() != ")":
            self.expression()
            count = 1
            while self._peek() == ",":
                self.at += 1
                self.expression()
                count += 1
        self._expect(")")
        fewest, most = FUNCTIONS[name]
        if count < fewest or (most is not None and count > most):
            raise UnsafeXPath(f"{name}() does not take {count} argument(s)")

    def path(self) -> None:
        if self._peek() in ("/", "//"):
            self.at += 1
        self.step()
        while self._peek() in ("/", "//"):
            self.at += 1
            self.step()

    def step(self) -> None:
        token = self._current()
        if token.text in (".", ".."):
            self.at += 1
        elif token.text == "@":
            self.at += 1
            self._name(attribute=True)
        elif token.text in _NODE_TESTS and self._peek(1) == "(":
            self._expect_sequence(token.text, "(", ")")
        else:
            self._name(attribute=False)
        while self._peek() == "[":
            self.at += 1
            self.expression()
            self._expect("]")

    def _name(self, *, attribute: bool) -> None:
        token = self._current()
        if token.kind != "name" and not (attribute and token.text == "*"):
            raise UnsafeXPath(f"{token.text!r} is not allowed here")
        self.at += 1
        if self._peek() == "::":
            raise UnsafeXPath(f"axes ({token.text}::) are not allowed")
        if self._peek() == ":":
            if token.text != CANONICAL_PREFIX:
                raise UnsafeXPath(f"prefix {token.text}: is not allowed; use {CANONICAL_PREFIX}:")
            self.at += 1
            local = self._current()
            if local.kind != "name" and local.text != "*":
                raise UnsafeXPath(f"{local.text!r} is not allowed after {CANONICAL_PREFIX}:")
            self.at += 1
            if self._peek() == "(":
                raise UnsafeXPath("extension functions are not allowed")
        elif not attribute:
            raise UnsafeXPath(
                f"element {token.text} needs the canonical prefix ({CANONICAL_PREFIX}:{token.text})"
            )

    def _refuse_operators(self) -> None:
        following = self._peek()
        if following == "|":
            raise UnsafeXPath("unions (|) are not allowed")
        if following in ("*", "div", "mod"):
            raise UnsafeXPath("arithmetic is not allowed")

    def _expect(self, text: str) -> None:
        if self._peek() != text:
            raise UnsafeXPath(f"expected {text!r}")
        self.at += 1

    def _expect_sequence(self, *texts: str) -> None:
        for text in texts:
            self._expect(text)

    def _current(self) -> _Token:
        if self.at >= len(self.tokens):
            raise UnsafeXPath("ends too early")
        token = self.tokens[self.at]
        if token.text == "$":
            raise UnsafeXPath("variables ($) are not allowed")
        return token

    def _peek(self, ahead: int = 0) -> str | None:
        index = self.at + ahead
        return self.tokens[index].text if index < len(self.tokens) else None
