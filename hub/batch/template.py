"""`govhub batch template`: an empty workbook a clerk fills in. One sheet named after the
message type, a header row in the department's language with a note on each header cell,
a drop-down of codes on each code column and date cells on each date column."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from hub.batch.layouts import Column, language_for, layout_for

DATE_FORMAT = "yyyy-mm-dd"
TEMPLATE_ROWS = 1000  # how far down the drop-downs and date formats reach


def write_template(message_type: str, path: Path, sender: str | None = None) -> None:
    layout = layout_for(message_type)
    language = language_for(sender)
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = message_type
    for index, column in enumerate(layout.columns, start=1):
        _header(sheet, index, column, language)
    sheet.freeze_panes = "A2"
    book.save(path)


def _header(sheet: Worksheet, index: int, column: Column, language: str) -> None:
    header = column.header(language)
    cell = sheet.cell(row=1, column=index, value=header)
    cell.font = Font(bold=True)
    note = column.note + ("" if not column.codes else "\n" + _code_list(column))
    cell.comment = Comment(note + ("\n(optional)" if column.optional else ""), "govhub")
    letter = get_column_letter(index)
    sheet.column_dimensions[letter].width = max(14, len(header) * 2)
    cells = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
    if column.codes:
        allowed = DataValidation(type="list", formula1=f'"{",".join(column.codes)}"')
        allowed.error, allowed.errorTitle = _code_list(column), column.header(language)
        allowed.add(cells)
        sheet.add_data_validation(allowed)
    if column.kind == "date":
        for row in range(2, TEMPLATE_ROWS + 2):
            sheet.cell(row=row, column=index).number_format = DATE_FORMAT
    else:  # text, so Excel keeps identity numbers' 18 digits and leading zeros
        for row in range(2, TEMPLATE_ROWS + 2):
            sheet.cell(row=row, column=index).number_format = "@"


def _code_list(column: Column) -> str:
    return "; ".join(f"{code} {meaning}" for code, meaning in column.codes.items())
