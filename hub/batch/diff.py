"""`govhub rules diff A B --against FILE`: before a new version is put in force, the rows of
a batch whose outcome (pass, or the rules failed) the two versions disagree on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hub.batch.layouts import layout_for
from hub.batch.reading import read_rows
from hub.batch.records import check_row
from hub.batch.rules import RuleSet
from hub.schemas import SchemaRegistry


@dataclass(frozen=True)
class ChangedRow:
    row: int
    before: tuple[str, ...]  # ids of the rules the row failed under the first version
    after: tuple[str, ...]


def rule_diff(old: RuleSet, new: RuleSet, batch: Path, schemas: SchemaRegistry) -> list[ChangedRow]:
    layout = layout_for(new.message_type)
    changed = []
    for row in read_rows(batch, layout):
        checked = check_row(row, layout, schemas)
        if checked.failures:
            continue  # the hub's own checks fail it under either version
        before = tuple(r.id for r in old.failed_rules(checked.values))
        after = tuple(r.id for r in new.failed_rules(checked.values))
        if before != after:
            changed.append(ChangedRow(row.number, before, after))
    return changed
