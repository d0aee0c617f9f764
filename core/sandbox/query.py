"""QBO's query language (reference section 6).

    SELECT * | COUNT(*) FROM <Entity> [WHERE <p> <op> <v> [AND ...]] [ORDERBY <p> [ASC|DESC], ...]
        [STARTPOSITION n] [MAXRESULTS n]

Operators = < > <= >= IN LIKE (% is the only wildcard); no OR (4000); keywords, entity and property
names are case-insensitive; `\\'` escapes a quote; name lists return active rows unless the query
filters on Active; MAXRESULTS defaults to 100, at most 1000 (4001).
"""

from __future__ import annotations

import re
from functools import partial
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from core.sandbox import faults, jsonfmt

MAX_RESULTS = 1000
DEFAULT_RESULTS = 100
KEYWORDS = {"select", "from", "where", "and", "or", "orderby", "order", "by", "asc", "desc", "startposition",
            "maxresults", "in", "like", "count", "true", "false"}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:\\.|[^'\\])*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),*])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<bad>\S)
    )""",
    re.VERBOSE,
)


@dataclass
class Token:
    kind: str
    text: str
    value: Any
    column: int


@dataclass
class Query:
    entity: str
    count: bool = False
    where: list[tuple[str, str, Any]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    start: int = 1
    max_results: int = DEFAULT_RESULTS


def _tokens(text: str) -> list[Token]:
    out = []
    pos = 0
    text = text.rstrip().rstrip(";")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup
        if kind is None:  # every alternative of _TOKEN is a named group
            break
        raw = m.group(kind)
        column = m.start(kind) + 1
        if kind == "bad":
            if raw == "'":
                raise faults.query_parse(f'Lexical error at line 1, column {column}.  Encountered: <EOF> after : "{text[column - 1:]}"')
            raise faults.query_parse(f'Lexical error at line 1, column {column}.  Encountered: "{raw}"')
        if kind == "string":
            value: Any = raw[1:-1].replace("\\'", "'").replace("\\\\", "\\")
        elif kind == "number":
            value = Decimal(raw)
        elif kind == "word" and raw.lower() in KEYWORDS:
            kind, value = "kw", raw.lower()
        else:
            value = raw
        out.append(Token(kind, raw, value, column))
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def error(self, tok: Token | None) -> faults.Fault:
        if tok is None:
            return faults.query_parse('Encountered "<EOF>" at line 1, column %d.' % (len(self.text) + 1))
        label = f"<{tok.value.upper()}>" if tok.kind == "kw" else f"<{tok.kind.upper()}>"
        return faults.query_parse(f'Encountered " {label} "{tok.text} "" at line 1, column {tok.column}.')

    def take(self, kind: str, value: Any = None) -> Token:
        tok = self.peek()
        if tok is None or tok.kind != kind or (value is not None and tok.value != value):
            raise self.error(tok)
        self.i += 1
        return tok

    def accept(self, kind: str, value: Any = None) -> Token | None:
        tok = self.peek()
        if tok is not None and tok.kind == kind and (value is None or tok.value == value):
            self.i += 1
            return tok
        return None

    def literal(self) -> Any:
        tok = self.peek()
        if tok is None:
            raise self.error(tok)
        if tok.kind in ("string", "number"):
            self.i += 1
            return tok.value
        if tok.kind == "kw" and tok.value in ("true", "false"):
            self.i += 1
            return tok.value == "true"
        raise self.error(tok)

    def parse(self) -> Query:
        for tok in self.toks:
            if tok.kind == "kw" and tok.value == "or":
                raise self.error(tok)
        self.take("kw", "select")
        count = False
        if self.accept("kw", "count"):
            self.take("punct", "(")
            self.take("punct", "*")
            self.take("punct", ")")
            count = True
        else:
            self.take("punct", "*")
            while self.accept("punct", ","):
                self.take("word")
        self.take("kw", "from")
        query = Query(entity=self.take("word").value, count=count)
        if self.accept("kw", "where"):
            query.where.append(self.condition())
            while self.accept("kw", "and"):
                query.where.append(self.condition())
        while self.peek() is not None:
            if self.accept("kw", "orderby") or (self.accept("kw", "order") and self.take("kw", "by")):
                query.order.append(self.order_item())
                while self.accept("punct", ","):
                    query.order.append(self.order_item())
            elif self.accept("kw", "startposition"):
                query.start = self.integer("STARTPOSITION")
            elif self.accept("kw", "maxresults"):
                query.max_results = self.integer("MAXRESULTS")
            else:
                raise self.error(self.peek())
        return query

    def integer(self, what: str) -> int:
        tok = self.take("number")
        value = int(tok.value)
        if value < 1:
            raise faults.query_invalid(f"value {value} is too small. Min allowed value is 1")
        if what == "MAXRESULTS" and value > MAX_RESULTS:
            raise faults.query_invalid(f"value {value} is too large. Max allowed value is {MAX_RESULTS}")
        return value

    def order_item(self) -> tuple[str, bool]:
        name = self.take("word").value
        desc = False
        if self.accept("kw", "desc"):
            desc = True
        else:
            self.accept("kw", "asc")
        return name, desc

    def condition(self) -> tuple[str, str, Any]:
        name = self.take("word").value
        if self.accept("kw", "in"):
            self.take("punct", "(")
            values = [self.literal()]
            while self.accept("punct", ","):
                values.append(self.literal())
            self.take("punct", ")")
            return name, "in", values
        if self.accept("kw", "like"):
            tok = self.take("string")
            return name, "like", tok.value
        op = self.take("op").value
        if name.lower() == "id" and op != "=":
            raise faults.query_invalid(f"operator '{op}' is not supported for property Id (only = and IN)")
        if op in ("!=", "<>"):
            raise faults.query_parse(f'Encountered " "{op}" at line 1.')
        return name, op, self.literal()


def parse(text: str) -> Query:
    if not text or not text.strip():
        raise faults.query_parse('Encountered "<EOF>" at line 1, column 1.')
    return _Parser(text).parse()


# -- evaluation ------------------------------------------------------------------------------------

_MISSING = object()


def field_value(record: dict, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return _MISSING
        lower = part.lower()
        key = next((k for k in value if k.lower() == lower), None)
        if key is None:
            return _MISSING
        value = value[key]
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    return value


def _coerce(actual: Any, literal: Any) -> tuple[Any, Any]:
    if isinstance(actual, bool):
        if isinstance(literal, str):
            literal = literal.strip().lower() == "true"
        return actual, literal
    if isinstance(actual, (int, Decimal)) and not isinstance(actual, bool):
        try:
            return Decimal(actual), Decimal(str(literal))
        except InvalidOperation:
            return str(actual), str(literal)
    if isinstance(literal, (Decimal, bool)) and isinstance(actual, str):
        try:
            return Decimal(actual), Decimal(literal)
        except InvalidOperation:
            return actual.lower(), str(literal).lower()
    actual_s, literal_s = str(actual), str(literal)
    if re.match(r"\d{4}-\d{2}-\d{2}", actual_s) and re.match(r"\d{4}-\d{2}-\d{2}", literal_s):
        a, b = jsonfmt.parse_when(actual_s), jsonfmt.parse_when(literal_s)
        if a is not None and b is not None:
            if len(literal_s) == 10 or len(actual_s) == 10:
                return actual_s[:10], literal_s[:10]
            return a, b
    return actual_s.lower(), literal_s.lower()


def _like(actual: Any, pattern: str) -> bool:
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("%")) + "$"
    return re.match(regex, str(actual), re.IGNORECASE | re.DOTALL) is not None


def matches(record: dict, where: list[tuple[str, str, Any]]) -> bool:
    for name, op, literal in where:
        actual = field_value(record, name)
        if actual is _MISSING or actual is None:
            return False
        if op == "like":
            if not _like(actual, literal):
                return False
            continue
        if op == "in":
            if not any(a == b for a, b in (_coerce(actual, lit) for lit in literal)):
                return False
            continue
        a, b = _coerce(actual, literal)
        try:
            ok = {"=": a == b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        except TypeError:
            ok = False
        if not ok:
            return False
    return True


def _field_key(name: str, record: dict) -> tuple:
    return _sort_key(field_value(record, name))


def _sort_key(value: Any) -> tuple:
    if value is _MISSING or value is None:
        return (3, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, Decimal)):
        return (0, Decimal(value))
    text = str(value)
    if text.isdigit():
        return (1, int(text))
    return (2, text.lower())


def _id_key(record: dict) -> tuple:
    rid = str(record.get("Id", ""))
    return (1, int(rid)) if rid.isdigit() else (0, 0)


def run(query: Query, records: list[dict], *, name_list: bool) -> dict:
    """The QueryResponse body for rendered records of the query's entity."""
    where = list(query.where)
    if name_list and not any(name.lower() == "active" for name, _, _ in where):
        records = [r for r in records if r.get("Active", True) is not False]
    hits = [r for r in records if matches(r, where)]
    if query.count:
        return {"totalCount": len(hits)}
    hits.sort(key=_id_key)
    for name, desc in reversed(query.order):
        hits.sort(key=partial(_field_key, name), reverse=desc)
    page = hits[query.start - 1: query.start - 1 + query.max_results]
    if not page:
        return {}
    return {query.entity: page, "startPosition": query.start, "maxResults": len(page)}
