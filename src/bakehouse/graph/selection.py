"""The asset selection syntax shared by `bh launch`, jobs, the API and the UI.

Follows Dagster's selection syntax:

- ``*`` selects every asset; ``name`` or ``raw/orders`` (or ``key:raw/orders``) one asset;
  ``*`` inside a name is a wildcard (``key:raw_*``).
- ``+name`` adds everything upstream, ``name+`` everything downstream; ``2+name`` and
  ``name+1`` limit the depth.
- ``group:x``, ``kind:x``, ``tag:k`` / ``tag:k=v``, ``owner:x``, ``code_location:x``.
- ``a, b`` and ``a or b`` unite; ``a and b`` intersects; ``a - b`` subtracts (what ``a`` selects
  but ``b`` does not, as Dagster's ``AssetSelection`` spells ``a - b``); ``not a`` complements;
  parentheses group. ``-`` binds tighter than ``and``, which binds tighter than ``or`` (Python's
  order for ``-``, ``&`` and ``|``), and ``a - b - c`` is ``(a - b) - c``. A ``-`` is the operator
  only where a token starts (``a - b``, ``a -b``, ``(a)-(b)``): inside a name it is part of it, so
  ``code_location:my-project`` stays one name.

Selections come from people and from HTTP requests, so parsing is bounded: at most
`MAX_NESTING` levels of parentheses and ``not``, at most `MAX_LENGTH` characters, and an error
quotes at most `QUOTE_LIMIT` characters of the selection (always with the position at fault).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass

from bakehouse.errors import SelectionError
from bakehouse.graph.dag import KeyGraph, NodeInfo

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) | (?P<comma>,) | (?P<plus>\+) | (?P<minus>-) |
        (?P<quoted>"(?:[^"\\]|\\.)*") |
        (?P<word>[A-Za-z0-9_\-./*=@:]+(?:"(?:[^"\\]|\\.)*")?)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not"}
# Parsing recurses once per level of parentheses or `not`; far below the interpreter's limit.
MAX_NESTING = 64
MAX_LENGTH = 100_000
QUOTE_LIMIT = 200
_ATTRIBUTES = ("key", "group", "kind", "tag", "owner", "code_location", "location")


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def quoted(text: str) -> str:
    """`text` as an error quotes it: repr'd, and cut after `QUOTE_LIMIT` characters."""
    if len(text) <= QUOTE_LIMIT:
        return repr(text)
    return f"{text[:QUOTE_LIMIT]!r}… ({len(text)} characters)"


def _tokenize(text: str) -> list[_Token]:
    if len(text) > MAX_LENGTH:
        raise SelectionError(
            f"selection {quoted(text)} is longer than {MAX_LENGTH} characters: select by group, "
            "tag or kind, or with wildcards, instead of listing every asset"
        )
    tokens: list[_Token] = []
    pos = 0
    stripped_end = len(text.rstrip())
    while pos < stripped_end:
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            # Point at the offending character, not at the blanks before it.
            bad = len(text) - len(text[pos:].lstrip())
            raise SelectionError(
                f"cannot parse selection {quoted(text)} at position {bad}: unexpected {text[bad]!r}"
            )
        group = match.lastgroup or "word"
        value = match.group(group)
        kind = value if group == "word" and value in _KEYWORDS else group
        tokens.append(_Token(kind, value, match.start(group)))
        pos = match.end()
    return tokens


Selector = Callable[[KeyGraph], set[str]]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> _Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self) -> _Token:
        tok = self.peek()
        if tok is None:
            raise SelectionError(f"selection {quoted(self.text)} ends too early")
        self.i += 1
        return tok

    def error(self, tok: _Token | None, what: str) -> SelectionError:
        where = f"at position {tok.pos}" if tok else "at the end"
        return SelectionError(f"cannot parse selection {quoted(self.text)} {where}: {what}")

    def enter(self, tok: _Token) -> None:
        """Go one level deeper (into parentheses or a `not`), refusing more than MAX_NESTING."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(tok, f"nested deeper than {MAX_NESTING} levels of '(' and 'not'")

    def parse(self) -> Selector:
        if not self.tokens:
            raise SelectionError("empty selection: use '*' for every asset")
        expr = self.parse_or()
        if self.peek() is not None:
            raise self.error(self.peek(), f"unexpected {quoted(self.peek().text)}")  # type: ignore[union-attr]
        return expr

    def parse_or(self) -> Selector:
        parts = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind in ("or", "comma"):
            self.take()
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        return lambda g: set().union(*(p(g) for p in parts))

    def parse_and(self) -> Selector:
        parts = [self.parse_difference()]
        while (tok := self.peek()) is not None and tok.kind == "and":
            self.take()
            parts.append(self.parse_difference())
        if len(parts) == 1:
            return parts[0]
        return lambda g: set.intersection(*(p(g) for p in parts))

    def parse_difference(self) -> Selector:
        """``a - b - c``: left to right, as Python's ``AssetSelection`` subtracts."""
        first = self.parse_not()
        subtracted: list[Selector] = []
        while (tok := self.peek()) is not None and tok.kind == "minus":
            self.take()
            if self.peek() is None:
                raise self.error(None, "'-' needs a selection after it")
            subtracted.append(self.parse_not())
        if not subtracted:
            return first
        return lambda g: first(g).difference(*(p(g) for p in subtracted))

    def parse_not(self) -> Selector:
        tok = self.peek()
        if tok is not None and tok.kind == "not":
            self.enter(self.take())
            inner = self.parse_not()
            self.depth -= 1
            return lambda g: set(g.nodes) - inner(g)
        return self.parse_traversal()

    def _depth_before_plus(self) -> int | bool | None:
        """Return a depth (or None for unbounded) if a prefix traversal starts here, else False."""
        tok, nxt = self.peek(), self.peek(1)
        if tok is not None and tok.kind == "plus":
            self.take()
            return None
        if (
            tok is not None
            and tok.kind == "word"
            and tok.text.isdigit()
            and nxt
            and nxt.kind == "plus"
        ):
            self.take()
            self.take()
            return int(tok.text)
        return False

    def parse_traversal(self) -> Selector:
        up = self._depth_before_plus()
        inner = self.parse_primary()
        down: int | bool | None = False
        tok = self.peek()
        if tok is not None and tok.kind == "plus":
            self.take()
            down = None
            nxt = self.peek()
            if nxt is not None and nxt.kind == "word" and nxt.text.isdigit():
                self.take()
                down = int(nxt.text)
        if up is False and down is False:
            return inner

        def traverse(g: KeyGraph) -> set[str]:
            base = inner(g)
            result = set(base)
            if up is not False:
                result |= g.upstream(base, up)
            if down is not False:
                result |= g.downstream(base, down)
            return result

        return traverse

    def parse_primary(self) -> Selector:
        tok = self.take()
        if tok.kind == "lparen":
            self.enter(tok)
            expr = self.parse_or()
            close = self.peek()
            if close is None or close.kind != "rparen":
                raise self.error(close, "missing ')'")
            self.take()
            self.depth -= 1
            return expr
        if tok.kind == "quoted":
            return _key_selector(_unquote(tok.text), self.text)
        if tok.kind != "word":
            raise self.error(tok, f"expected an asset name, got {quoted(tok.text)}")
        if tok.text == "*":
            return lambda g: set(g.nodes)
        attr, sep, value = tok.text.partition(":")
        if not sep:
            return _key_selector(tok.text, self.text)
        if attr not in _ATTRIBUTES:
            raise self.error(
                tok, f"unknown attribute {quoted(attr)}; use one of {', '.join(_ATTRIBUTES)}"
            )
        value = _unquote(value)
        if not value:
            raise self.error(tok, f"'{attr}:' needs a value")
        return _attribute_selector(attr, value)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text


def _key_selector(pattern: str, source: str) -> Selector:
    def select(g: KeyGraph) -> set[str]:
        if "*" in pattern:
            return {k for k in g.nodes if fnmatch.fnmatchcase(k, pattern)}
        if pattern in g.nodes:
            return {pattern}
        # difflib is quadratic in the length: only a name of a sensible length gets hints.
        close = []
        if len(pattern) <= QUOTE_LIMIT:
            close = difflib.get_close_matches(pattern, list(g.nodes), n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise SelectionError(
            f"no asset with key {quoted(pattern)} in selection {quoted(source)}.{hint}"
        )

    return select


def _matches(attr: str, value: str, node: NodeInfo) -> bool:
    if attr == "group":
        return fnmatch.fnmatchcase(node.group, value)
    if attr == "kind":
        return any(fnmatch.fnmatchcase(k, value) for k in node.kinds)
    if attr == "owner":
        return any(fnmatch.fnmatchcase(o, value) for o in node.owners)
    if attr in ("code_location", "location"):
        return node.location is not None and fnmatch.fnmatchcase(node.location, value)
    if attr == "tag":
        name, eq, tag_value = value.partition("=")
        if name not in node.tags:
            return False
        return not eq or fnmatch.fnmatchcase(node.tags[name], tag_value)
    return fnmatch.fnmatchcase(node.key, value)  # key:


def _attribute_selector(attr: str, value: str) -> Selector:
    return lambda g: {k for k, node in g.nodes.items() if _matches(attr, value, node)}


def parse_selection(text: str) -> Selector:
    """Parse `text` once; the result selects keys from any `KeyGraph`."""
    return _Parser(text).parse()


def select_keys(text: str, graph: KeyGraph, *, allow_empty: bool = False) -> set[str]:
    """The keys of `graph` that `text` selects; `SelectionError` on bad syntax or no match."""
    keys = parse_selection(text)(graph)
    if not keys and not allow_empty:
        raise SelectionError(f"selection {quoted(text)} matches no asset")
    return keys
