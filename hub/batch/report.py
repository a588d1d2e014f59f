"""A batch's report as the clerk's own workbook: each failing cell filled red with a comment
naming the rule and the value (a failure of the whole record marks the row's first cell),
and a Summary sheet (file, rule set, counts, one line per failure). A CSV batch is copied
into a sheet first."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from hub.batch.check import BatchReport
from hub.batch.layouts import Layout
from hub.batch.reading import csv_encoding

FAILED_FILL = PatternFill(fill_type="solid", start_color="FFFF9999", end_color="FFFF9999")


def write_report(batch: Path, layout: Layout, report: BatchReport, target: Path) -> None:
    book = _clerks_workbook(batch)
    sheet = book.worksheets[0]
    columns = _column_numbers(sheet, layout)
    for failure in report.failures:
        cell = sheet.cell(row=failure.row, column=columns.get(failure.column or "", 1))
        cell.fill = FAILED_FILL
        note = f"{failure.rule}: {failure.message}\nvalue: {failure.value}"
        if cell.comment is not None:
            note = cell.comment.text + "\n" + note
        cell.comment = Comment(note, "govhub")
    _summary(book.create_sheet("Summary"), report)
    book.save(target)


def _clerks_workbook(batch: Path) -> Workbook:
    if batch.suffix.lower() != ".csv":
        return load_workbook(batch)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    with batch.open(encoding=csv_encoding(batch), newline="") as text:
        for row in csv.reader(text):
            sheet.append(row)
    return book


def _column_numbers(sheet: Worksheet, layout: Layout) -> dict[str, int]:
    header = [str(c.value).strip() if c.value is not None else "" for c in sheet[1]]
    numbers = {}
    for column in layout.columns:
        for index, name in enumerate(header, start=1):
            if name in column.names():
                numbers[column.symbol] = index
    return numbers


def _summary(sheet: Worksheet, report: BatchReport) -> None:
    for label, value in (
        ("File", report.file),
        ("Message type", report.message_type),
        ("Rule set", report.rule_set or "none (the hub's checks only)"),
        ("Rows", report.rows),
        ("Passed", report.passed),
        ("Failed", report.failed),
    ):
        sheet.append([label, value])
    sheet.append([])
    sheet.append(["Row", "Column", "Rule", "Message", "Value"])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for f in report.failures:
        sheet.append([f.row, f.column or "(record)", f.rule, f.message, f.value])
