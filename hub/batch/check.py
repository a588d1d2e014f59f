"""A batch checked row by row, nothing sent: each row through the hub's own checks
(records.py), then the rule set's rules. Rows are read and checked one at a time, so memory
holds the failures, not the rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hub.batch.layouts import Layout
from hub.batch.reading import MAX_ROWS, read_rows
from hub.batch.records import CellFailure, CheckedRow, check_row
from hub.batch.rules import RuleSet
from hub.identity import mask
from hub.schemas import SchemaRegistry


@dataclass
class BatchReport:
    file: str
    message_type: str
    rule_set: str | None  # NAME@VERSION that checked it
    rows: int = 0
    passed: int = 0
    failures: list[CellFailure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.rows - self.passed

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "message_type": self.message_type,
            "rule_set": self.rule_set,
            "rows": self.rows,
            "passed": self.passed,
            "failed": self.failed,
            "failures": [f.__dict__ for f in self.failures],
        }


def checked_rows(
    path: Path,
    layout: Layout,
    schemas: SchemaRegistry,
    rule_set: RuleSet | None = None,
    max_rows: int = MAX_ROWS,
) -> Iterator[CheckedRow]:
    """Each row with every failure: the hub's checks, then (when they pass) the rule set's."""
    for row in read_rows(path, layout, max_rows):
        checked = check_row(row, layout, schemas)
        if rule_set is not None and not checked.failures:
            broken = tuple(
                CellFailure(
                    row.number, rule.column, rule.id, rule.message, _shown(checked, rule.column)
                )
                for rule in rule_set.failed_rules(checked.values)
            )
            if broken:
                checked = CheckedRow(checked.number, None, checked.values, broken)
        yield checked


def check_file(
    path: Path, layout: Layout, schemas: SchemaRegistry, rule_set: RuleSet | None = None
) -> BatchReport:
    report = BatchReport(path.name, layout.message_type, rule_set.label if rule_set else None)
    for _ in tallied(report, checked_rows(path, layout, schemas, rule_set)):
        pass
    return report


def tallied(report: BatchReport, rows: Iterable[CheckedRow]) -> Iterator[CheckedRow]:
    """The rows as they come, each counted in ``report`` (its failures kept)."""
    for checked in rows:
        report.rows += 1
        report.passed += not checked.failures
        report.failures.extend(checked.failures)
        yield checked


def _shown(checked: CheckedRow, column: str | None) -> str:
    value = checked.values.get(column) if column else None
    if column and column.endswith("identityNumber"):
        return mask(str(value))
    return "" if value is None else str(value)
