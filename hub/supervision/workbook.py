"""Supervision statistics as an .xlsx workbook (openpyxl): the ranking of departments with a
chart of their on-time rates and one of their signals, and a sheet per item. Numbers are
written as numbers (rates as percentages), so the office can sort and sum them in Excel."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from hub.supervision.statistics import Counts, Statistics

COUNT_HEADERS = (
    "Cases",
    "Concluded",
    "On time",
    "On-time rate",
    "Average working days",
    "Yellow lights",
    "Yellow cards",
    "Red cards",
)
DEPARTMENT_HEADERS = ("Rank", "Department", *COUNT_HEADERS)
ITEM_HEADERS = ("Department", "Item", "Item name", *COUNT_HEADERS)
HEADER_ROW = 3  # row 1 the title, row 2 empty


def workbook_bytes(stats: Statistics) -> bytes:
    book = Workbook()
    departments = book.active
    assert departments is not None
    departments.title = "Departments"
    _title(departments, stats)
    _table(
        departments,
        DEPARTMENT_HEADERS,
        [[d.rank, d.department, *_counts(d.counts)] for d in stats.departments],
    )
    _charts(departments, len(stats.departments))
    items = book.create_sheet("Items")
    _title(items, stats)
    _table(
        items,
        ITEM_HEADERS,
        [
            [d.department, i.item_code, i.item_name, *_counts(i.counts)]
            for d in stats.departments
            for i in d.items
        ],
    )
    if stats.not_counted:  # named, never silently missing from the figures
        missing = book.create_sheet("Not counted")
        _title(missing, stats)
        for row, line in enumerate(stats.not_counted, start=HEADER_ROW):
            missing.cell(row, 1, line)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _title(sheet: Worksheet, stats: Statistics) -> None:
    period = stats.period
    sheet["A1"] = (
        f"Supervision statistics {period.name} ({period.first.isoformat()} to "
        f"{period.last.isoformat()}), working days"
    )
    sheet["A1"].font = Font(bold=True, size=13)


def _table(sheet: Worksheet, headers: tuple[str, ...], rows: list[list[Any]]) -> None:
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(HEADER_ROW, column, header)
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = max(12, len(header) + 2)
    rate_column = headers.index("On-time rate") + 1
    for offset, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(HEADER_ROW + offset, column, value)
            if column == rate_column:
                cell.number_format = "0.0%"


def _counts(counts: Counts) -> list[Any]:
    days = counts.average_working_days
    return [
        counts.cases,
        counts.concluded,
        counts.on_time,
        counts.on_time_rate,
        None if days is None else round(days, 2),
        counts.yellow_lights,
        counts.yellow_cards,
        counts.red_cards,
    ]


def _charts(sheet: Worksheet, rows: int) -> None:
    if not rows:
        return
    first, last = HEADER_ROW + 1, HEADER_ROW + rows
    names = Reference(sheet, min_col=2, min_row=first, max_row=last)
    column = DEPARTMENT_HEADERS.index

    rates = BarChart()
    rates.type = "bar"
    rates.title = "On-time rate by department"
    rates.y_axis.number_format = "0%"
    rate = column("On-time rate") + 1
    rates.add_data(Reference(sheet, min_col=rate, min_row=HEADER_ROW, max_row=last), True)
    rates.set_categories(names)
    sheet.add_chart(rates, f"A{last + 3}")

    signals = BarChart()
    signals.title = "Yellow lights, yellow cards and red cards"
    start = column("Yellow lights") + 1
    data = Reference(sheet, min_col=start, max_col=start + 2, min_row=HEADER_ROW, max_row=last)
    signals.add_data(data, titles_from_data=True)
    signals.set_categories(names)
    sheet.add_chart(signals, f"G{last + 3}")
