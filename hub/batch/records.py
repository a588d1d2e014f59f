"""One row of a batch to one canonical record, checked cell by cell: a value where a formula
is, a required cell filled, a date that is a date, a code from its table, an identity
number's check digit; then the record as a whole by the hub's own checks (the canonical
schema, hub.ingress.checked_canonical). Each problem is a CellFailure naming the row, the
column, the rule and the value; the clerk's file is marked from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lxml import etree

from hub import identity
from hub.batch.layouts import Column, Layout
from hub.batch.reading import Formula, SheetRow
from hub.errors import HubError, InvalidIdentityNumber, SchemaInvalid
from hub.ingress import checked_canonical
from hub.resources import CANONICAL_NAMESPACE
from hub.schemas import SchemaRegistry

# The hub's own checks, named as a rule set's rules are (a report names one or the other).
FORMULA, REQUIRED, DATE, CODE, IDENTITY, SCHEMA = (
    "formula",
    "required",
    "date",
    "code-table",
    "identity-check-digit",
    "schema",
)


@dataclass(frozen=True)
class CellFailure:
    row: int
    column: str | None  # the column's symbol; None: the record as a whole
    rule: str
    message: str
    value: str


@dataclass(frozen=True)
class CheckedRow:
    number: int
    canonical: bytes | None  # None when a check failed
    values: dict[str, Any]  # what a rule set's expressions see: typed values and ages
    failures: tuple[CellFailure, ...]
    record: etree._Element | None = None  # the checked canonical record, for routing


def check_row(row: SheetRow, layout: Layout, schemas: SchemaRegistry) -> CheckedRow:
    failures: list[CellFailure] = []
    values: dict[str, Any] = {}
    for column in layout.columns:
        value, failure = _cell(row, column)
        values[column.symbol] = value
        if failure is not None:
            failures.append(failure)
    values.update(_ages(layout, values))
    if failures:
        return CheckedRow(row.number, None, values, tuple(failures))
    record = _record(layout, values)
    try:
        canonical, _ = checked_canonical(schemas, record)
    except (SchemaInvalid, InvalidIdentityNumber) as error:
        failure = _record_failure(row.number, layout, values, error)
        return CheckedRow(row.number, None, values, (failure,))
    return CheckedRow(row.number, canonical, values, (), record)


def _cell(row: SheetRow, column: Column) -> tuple[Any, CellFailure | None]:
    number, raw = row.number, row.values.get(column.symbol)

    def failed(rule: str, message: str) -> tuple[Any, CellFailure]:
        return raw, CellFailure(number, column.symbol, rule, message, _shown(column, raw))

    if isinstance(raw, Formula):
        return failed(FORMULA, "a formula where a value belongs: paste the values instead")
    if raw is None or raw == "":
        return (None, None) if column.optional else failed(REQUIRED, "this column is required")
    if column.kind == "date":
        parsed = _date(raw, text_allowed=not row.typed)
        if parsed is None:
            return failed(DATE, "not a date: enter a date cell (in CSV: YYYY-MM-DD)")
        return parsed, None
    text = _text(raw)
    if column.kind == "code" and text not in column.codes:
        return failed(CODE, f"not a code of the table: {', '.join(column.codes)}")
    if column.kind == "identity" and not identity.is_valid(text):
        return failed(IDENTITY, "not a valid identity number (GB 11643 check character)")
    return text, None


def _date(raw: Any, text_allowed: bool) -> date | None:
    """A date cell, or ISO text from a CSV file (where every value is text). Text in an
    .xlsx date column is refused: Excel sorts and compares it as text."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and text_allowed:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return None
    return None


def _text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))  # a code typed as a number
    return str(raw).strip()


def _shown(column: Column, raw: Any) -> str:
    """The value as a report shows it; an identity number masked (reports travel)."""
    text = "" if raw is None else str(raw.text if isinstance(raw, Formula) else raw)
    return identity.mask(text) if column.kind == "identity" else text


def _ages(layout: Layout, values: dict[str, Any]) -> dict[str, int | None]:
    ages: dict[str, int | None] = {}
    for name, (born_symbol, on_symbol) in layout.ages.items():
        born, on = values.get(born_symbol), values.get(on_symbol)
        if isinstance(born, date) and isinstance(on, date):
            ages[name] = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        else:
            ages[name] = None
    return ages


def _record(layout: Layout, values: dict[str, Any]) -> etree._Element:
    """The canonical record; the layout lists columns in the schema's order."""
    root = etree.Element(_tag(layout.message_type), nsmap={"c": CANONICAL_NAMESPACE})
    for column in layout.columns:
        value = values[column.symbol]
        if value is None:
            continue
        parent = root
        *groups, leaf = column.key.split("/")
        for group in groups:
            found = parent.find(_tag(group))
            parent = found if found is not None else etree.SubElement(parent, _tag(group))
        leaf_element = etree.SubElement(parent, _tag(leaf))
        leaf_element.text = value.isoformat() if isinstance(value, date) else str(value)
    return root


def _tag(name: str) -> str:
    return f"{{{CANONICAL_NAMESPACE}}}{name}"


def _record_failure(
    number: int, layout: Layout, values: dict[str, Any], error: HubError
) -> CellFailure:
    """The hub's check that failed, on the column its path names (the record when none)."""
    path = getattr(error, "path", None) or error.detail or ""
    column = next((c for c in layout.columns if path.endswith(c.key)), None)
    if column is None:
        return CellFailure(number, None, SCHEMA, identity.mask_in_text(error.message), "")
    value = values.get(column.symbol)
    return CellFailure(
        number, column.symbol, SCHEMA, identity.mask_in_text(error.message), _shown(column, value)
    )
