"""Batch files for tests: the template filled in as a clerk would, and the CLI invoked."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from openpyxl import load_workbook

from hub.cli import main
from hub.identity import make_number
from hub.security import audit
from hub.store import Store

RULES = Path(__file__).resolve().parent.parent / "examples" / "rules" / "marriage-county.toml"


def marriage(**changes: Any) -> dict[str, Any]:
    """A marriage registration row that passes every check, with ``changes``."""
    row: dict[str, Any] = {
        "registrationNumber": "J110105-2026-000123",
        "registeredOn": date(2026, 5, 20),
        "registrationOffice": "110105",
        "partyA_identityNumber": "11010519900307013X",
        "partyA_name": "张伟",
        "partyA_sex": "1",
        "partyA_birthDate": date(1990, 3, 7),
        "partyB_identityNumber": "310104199208150281",
        "partyB_name": "李娜",
        "partyB_sex": "2",
        "partyB_birthDate": date(1992, 8, 15),
        "maritalStatus": "20",
    }
    return {**row, **changes}


def couple(n: int, **changes: Any) -> dict[str, Any]:
    """The n-th couple of a batch: its own registration and identity numbers."""
    numbers = {
        "registrationNumber": f"J110105-2026-{n:06d}",
        "partyA_identityNumber": make_number("11010519900307", f"{n:03d}"),
        "partyB_identityNumber": make_number("31010419920815", f"{n:03d}"),
    }
    return marriage(**{**numbers, **changes})


def govhub(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--data-dir", str(tmp_path / "data")], env={})


def audited(tmp_path: Path) -> dict[str, dict[str, Any]]:
    """The hub's audit log in the test's data folder: subject -> (actor, details)."""
    store = Store(f"sqlite:///{tmp_path / 'data' / 'hub.db'}")
    try:
        with store.engine.connect() as connection:
            return {
                e.subject: {"actor": e.actor, **json.loads(e.details)}
                for e in audit.entries(connection)
            }
    finally:
        store.dispose()


def check(tmp_path: Path, batch: Path, *args: str) -> Result:
    """`govhub batch check BATCH --sender MARRIAGE_REGISTRY ARGS`."""
    return govhub(tmp_path, "batch", "check", str(batch), "--sender", "MARRIAGE_REGISTRY", *args)


def template(target: Path, sender: str = "MARRIAGE_REGISTRY") -> Path:
    args = ["batch", "template", "MarriageRegistered", "--sender", sender, str(target)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return target


def filled_workbook(tmp_path: Path, rows: list[dict[str, Any]], name: str = "batch.xlsx") -> Path:
    """The template, filled in column by column the way a clerk types."""
    book = load_workbook(template(tmp_path / "template.xlsx"))
    sheet = book.active
    assert sheet is not None
    order = list(marriage())
    for number, row in enumerate(rows, start=2):
        for column, key in enumerate(order, start=1):
            sheet.cell(row=number, column=column, value=row[key])
    target = tmp_path / name
    book.save(target)
    return target
