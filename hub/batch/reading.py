"""A batch file's rows, streamed: an .xlsx workbook read with openpyxl read-only (memory does
not grow with the rows), or CSV in UTF-8 or GB18030. Refused as a whole (BatchInvalid naming
the limit, the sheet or the column) before any row is read when the file is not a workbook,
is a zip bomb, is too large, has more than one sheet, or lacks a column; a row over the row
limit stops the reading with the limit named."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from hub.batch.layouts import Column, Layout
from hub.errors import BatchInvalid

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = 500 * 1024 * 1024  # what the workbook's parts may take once unzipped
MAX_PACKING_RATIO = 200  # spreadsheets pack 5-20 times; a bomb thousands
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula instead of a value (the hub does not compute formulas)."""

    text: str


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row's number as the clerk sees it (the header is row 1)
    values: dict[str, Any]  # column symbol -> the cell's value (None when empty)
    typed: bool  # a workbook's cells (dates are dates); False: CSV, where all is text


def read_rows(path: Path, layout: Layout, max_rows: int = MAX_ROWS) -> Iterator[SheetRow]:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BatchInvalid(f"{path.name} is {size} bytes; the limit is {MAX_FILE_BYTES} bytes")
    if path.suffix.lower() == ".csv":
        return _records(_csv_rows(path), layout, max_rows, typed=False)
    return _records(_xlsx_rows(path), layout, max_rows, typed=True)


def _records(
    rows: Iterator[tuple[Any, ...]], layout: Layout, max_rows: int, typed: bool
) -> Iterator[SheetRow]:
    header = next(rows, None)
    if header is None:
        raise BatchInvalid("the file is empty: row 1 must be the header row")
    positions = _positions(header, layout)
    count = 0
    for number, cells in enumerate(rows, start=2):
        if all(cell is None or cell == "" for cell in cells):
            continue  # the template's formatted but empty rows
        count += 1
        if count > max_rows:
            raise BatchInvalid(f"row {number}: a batch holds at most {max_rows} rows; split it")
        values = {c.symbol: cells[i] if i < len(cells) else None for c, i in positions}
        yield SheetRow(number, values, typed)


def _positions(header: tuple[Any, ...], layout: Layout) -> list[tuple[Column, int]]:
    """Each column's position in the file, by its header in any language; a missing column or
    a header the layout does not know (a renamed column) refuses the file, naming both."""
    found = {str(h).strip(): i for i, h in enumerate(header) if h is not None and str(h).strip()}
    positions, missing = [], []
    for column in layout.columns:
        index = next((found.pop(n) for n in column.names() if n in found), None)
        if index is None:
            missing.append(column.header("zh") + f" ({column.header('en')})")
        else:
            positions.append((column, index))
    if missing or found:
        unknown = ", ".join(f"{h!r} (column {i + 1})" for h, i in found.items())
        raise BatchInvalid(
            "row 1: "
            + (f"missing column {', '.join(missing)}" if missing else "")
            + ("; " if missing and found else "")
            + (f"unknown column {unknown}" if found else "")
        )
    return positions


def _open_workbook(path: Path) -> Any:
    _refuse_bombs(path)
    try:  # data_only=False: a formula shows as one, not as its cached result
        return load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken part
        raise BatchInvalid(f"{path.name} is not a readable .xlsx workbook ({exc})") from exc


def _xlsx_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    book = _open_workbook(path)
    try:
        if len(book.sheetnames) != 1:
            names = ", ".join(book.sheetnames)
            raise BatchInvalid(f"a batch is one sheet; {path.name} has {names}")
        sheet = book.worksheets[0]
        for row in sheet.iter_rows():
            yield tuple(_cell_value(cell) for cell in row)
    finally:
        book.close()


def _cell_value(cell: Any) -> Any:
    if getattr(cell, "data_type", None) == "f":
        return Formula(str(cell.value))
    return cell.value


def _refuse_bombs(path: Path) -> None:
    """Refuse what is not a zip, or unpacks to far more than a spreadsheet would, before
    openpyxl inflates any of it."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BatchInvalid(f"{path.name} is not an .xlsx workbook (nor a .csv file)") from exc
    unpacked = sum(p.file_size for p in parts)
    packed = max(1, sum(p.compress_size for p in parts))
    if unpacked > MAX_UNPACKED_BYTES or unpacked / packed > MAX_PACKING_RATIO:
        raise BatchInvalid(
            f"{path.name} unpacks to {unpacked} bytes from {packed} ({unpacked // packed}:1); "
            f"the limits are {MAX_UNPACKED_BYTES} bytes and {MAX_PACKING_RATIO}:1"
        )


def _csv_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    text = io.TextIOWrapper(path.open("rb"), encoding=csv_encoding(path), newline="")
    with text:
        for row in csv.reader(text):
            yield tuple(cell.strip() or None for cell in row)


def csv_encoding(path: Path) -> str:
    """UTF-8 (with or without its BOM) when the file is UTF-8, else GB18030; neither: refused."""
    data = path.read_bytes()  # bounded by MAX_FILE_BYTES above
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise BatchInvalid(f"{path.name} is neither UTF-8 nor GB18030 text")


def refuse_oversized(path: Path, layout: Layout, max_rows: int = MAX_ROWS) -> None:
    """BatchInvalid naming the limit when the file holds more than ``max_rows`` rows, before
    anything of it is sent. A workbook's declared size answers at once when it is within the
    limit; otherwise (and for CSV) the rows are counted, streaming."""
    if path.suffix.lower() != ".csv" and _declared_rows(path) <= max_rows + 1:
        return
    for _ in read_rows(path, layout, max_rows):
        pass


def _declared_rows(path: Path) -> float:
    """The sheet's size as its <dimension> says (Excel and openpyxl write one); unknown: inf."""
    book = _open_workbook(path)
    try:
        rows = book.worksheets[0].max_row
        return float("inf") if rows is None else float(rows)
    finally:
        book.close()


def sheet_name(path: Path) -> str:
    """The first sheet's name (a template's names its message type)."""
    book = _open_workbook(path)
    try:
        return str(book.sheetnames[0])
    finally:
        book.close()
