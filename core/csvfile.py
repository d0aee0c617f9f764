"""Reading a CSV file someone saved from a spreadsheet: every way it can be wrong is a `RowProblem`.

Rows are numbered as a spreadsheet shows them: the header is row 1. Text is UTF-8 (with or without a
byte-order mark) or UTF-16 with a byte-order mark; anything else is refused, never guessed.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from core.errors import ImportError_
from core.text import counted

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_CELL = 4000  # QBO's longest text field (a line's Description)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # CR and LF allowed


@dataclass(frozen=True)
class RowProblem:
    """What is wrong at one place of a CSV file: `code` for programs, the rest for the sentence."""

    code: str
    row: int
    column: str | None
    detail: str
    fix: str = ""

    def render(self) -> str:
        where = f"row {self.row}, column {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.detail}" + (f" - {self.fix}" if self.fix else "")


class CSVRefused(ImportError_):
    """A CSV file refused as a whole; `found` holds each problem as a value, `problems` their sentences."""

    def __init__(self, path: Path | str, found: list[RowProblem]):
        self.path = Path(path)
        self.found = tuple(found)
        rendered = [p.render() for p in found]
        super().__init__(f"{self.path.name}: nothing was imported, {counted(len(found), 'problem')}; "
                         f"first: {rendered[0]}", rendered)


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]
    """(row number, {column: stripped text}) per data row; blank rows are left out."""


def decode(data: bytes) -> tuple[str, RowProblem | None]:
    """The text of `data`, or a problem naming the row of the first byte that is not text."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data
    else:
        encoding, body = "utf-8", data
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        good = body[:exc.start].decode(encoding, errors="replace")
        row = _row_at(good)
        before = good.splitlines()[-1][-20:] if good and not good.endswith("\n") else ""
        bad = body[exc.start:exc.start + 1].hex().upper()
        detail = (f"not {'UTF-16' if encoding == 'utf-16' else 'UTF-8'} text (byte 0x{bad}"
                  + (f" after '{before}'" if before else "") + ")")
        return "", RowProblem("not_utf8", row, None, detail, "save the file as UTF-8")
    if "\x00" in text:
        return "", RowProblem("not_utf8", _row_at(text[:text.index("\x00")]), None,
                              "not UTF-8 text (a NUL character: UTF-16 without a byte-order mark?)",
                              "save the file as UTF-8")
    return text, None


def _row_at(prefix: str) -> int:
    """The spreadsheet row in which the text after `prefix` starts."""
    with _big_fields():
        return max(1, sum(1 for _ in csv.reader(io.StringIO(prefix))) + (1 if prefix.endswith("\n") else 0))


@contextlib.contextmanager
def _big_fields() -> Iterator[None]:
    # csv refuses cells over 128 KiB with an error that names no cell; read them and name the cell instead
    old = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def read_table(path: Path | str, required: tuple[str, ...], optional: tuple[str, ...] = (),
               multiline: frozenset[str] = frozenset()) -> Table:
    """The file's rows by column; raises CSVRefused naming every problem of the header and the cells."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CSVRefused(path, [RowProblem("too_big", 1, None, f"the file has {size:,} bytes, more than "
                                               f"{MAX_FILE_BYTES:,}", "split it into smaller files")])
        data = path.read_bytes()
    except OSError as exc:
        raise ImportError_(f"Cannot read {path}: {exc.strerror or exc}") from None
    text, problem = decode(data)
    if problem:
        raise CSVRefused(path, [problem])
    records: list[list[str]] = []
    with _big_fields():
        try:
            for record in csv.reader(io.StringIO(text, newline=""), strict=True):
                records.append(record)
        except csv.Error as exc:
            raise CSVRefused(path, [RowProblem("bad_csv", len(records) + 1, None, f"not valid CSV ({exc})",
                                               "a quoted cell must end with a quote before the next comma")]) from None
    if not records or not any(c.strip() for c in records[0]):
        expected = ",".join(required + optional)
        raise CSVRefused(path, [RowProblem("no_header", 1, None, "the file has no header row",
                                           f"the first row names the columns: {expected}")])
    header = [c.strip() for c in records[0]]
    for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
        parts = header[0].split(sep)
        if len(header) == 1 and len(parts) > 1 and any(part.strip() in required + optional for part in parts):
            raise CSVRefused(path, [RowProblem("not_commas", 1, None, f"the columns are separated by {name}, not commas",
                                               "save the file as CSV (comma delimited)")])
    found = _header_problems(header, records[1:], required, optional)
    if found:
        raise CSVRefused(path, found)
    rows: list[tuple[int, dict[str, str]]] = []
    for n, cells in enumerate(records[1:], 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            found.append(RowProblem(
                "extra_cells", n, None, f"{len(cells)} cells but the header has {len(header)} columns",
                "a comma inside a value (1,000.00 or 1,50) splits it: write amounts as 1000.00, quote other text"))
            continue
        row = {}
        for column, cell in zip(header, cells):
            if not column:
                continue
            value = cell.strip()
            bad = _cell_problem(n, column, value, column in multiline)
            if bad:
                found.append(bad)
            row[column] = value
        rows.append((n, row))
    if found:
        raise CSVRefused(path, found)
    return Table(tuple(h for h in header if h), tuple(rows))


def _header_problems(header: list[str], rows: list[list[str]], required: tuple[str, ...],
                     optional: tuple[str, ...]) -> list[RowProblem]:
    known = required + optional
    expected = f"the header is {','.join(known)}"
    found = []
    seen: dict[str, int] = {}
    for i, name in enumerate(header, 1):
        if not name:
            if any(len(r) >= i and r[i - 1].strip() for r in rows):
                found.append(RowProblem("unnamed_column", 1, None, f"column {i} has values but no name", expected))
            continue
        if name in seen:
            found.append(RowProblem("duplicate_column", 1, name,
                                    f"the header has '{name}' twice (columns {seen[name]} and {i})",
                                    "keep one of them"))
        seen.setdefault(name, i)
    unknown = [h for h in seen if h not in known]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, [k for k in known if k not in seen], n=1, cutoff=0.6)
            hints.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        found.append(RowProblem("unknown_column", 1, None, f"unknown {'column' if len(unknown) == 1 else 'columns'} "
                                + ", ".join(hints), expected))
    for name in required:
        if name not in seen:
            found.append(RowProblem("missing_column", 1, name, f"the header has no '{name}' column"))
    return found


def _cell_problem(row: int, column: str, value: str, multiline: bool) -> RowProblem | None:
    if len(value) > MAX_CELL:
        return RowProblem("too_long", row, column, f"{len(value):,} characters, more than {MAX_CELL:,}")
    bad = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    if bad:
        return RowProblem("control_character", row, column,
                          f"contains the control character U+{ord(bad.group()):04X}", "remove it")
    return None
