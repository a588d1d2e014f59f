"""Batch files the hub refuses as a whole, each with the reason named: not a workbook, a zip
bomb, a missing or renamed column, more than one sheet, more rows than the limit."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from batch_kit import check, filled_workbook, marriage
from openpyxl import load_workbook

from hub.batch import layout_for
from hub.batch.reading import read_rows
from hub.errors import BatchInvalid


def refusal(tmp_path: Path, batch: Path) -> str:
    result = check(tmp_path, batch)
    assert result.exit_code == 1
    assert "rows" not in result.output  # refused before any row was checked
    return result.output


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    batch = tmp_path / "batch.xlsx"
    batch.write_text("registrationNumber,registeredOn\n", encoding="utf-8")
    assert "batch.xlsx is not an .xlsx workbook" in refusal(tmp_path, batch)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    batch = tmp_path / "bomb.xlsx"
    with (
        zipfile.ZipFile(batch, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/worksheets/sheet1.xml", "w") as part,
    ):
        for _ in range(20):
            part.write(b"\0" * 1024 * 1024)
    output = refusal(tmp_path, batch)
    assert "unpacks to 20971520 bytes" in output and "200:1" in output


def rename_header(batch: Path, cell: str, header: str | None) -> Path:
    book = load_workbook(batch)
    sheet = book.active
    assert sheet is not None
    sheet[cell] = header
    book.save(batch)
    return batch


def test_a_missing_column_is_named_in_both_languages(tmp_path: Path) -> None:
    batch = rename_header(filled_workbook(tmp_path, [marriage()]), "C1", None)
    output = refusal(tmp_path, batch)
    assert "row 1: missing column 登记机关区划代码 (Registration office)" in output


def test_a_renamed_column_is_named_with_its_position(tmp_path: Path) -> None:
    batch = rename_header(filled_workbook(tmp_path, [marriage()]), "C1", "机关")
    output = refusal(tmp_path, batch)
    assert "missing column 登记机关区划代码" in output
    assert "unknown column '机关' (column 3)" in output


def test_a_workbook_with_more_than_one_sheet_is_refused_naming_them(tmp_path: Path) -> None:
    batch = filled_workbook(tmp_path, [marriage()])
    book = load_workbook(batch)
    book.create_sheet("Notes")
    book.save(batch)
    assert "a batch is one sheet; batch.xlsx has MarriageRegistered, Notes" in refusal(
        tmp_path, batch
    )


def test_rows_beyond_the_limit_stop_the_batch_naming_the_limit(tmp_path: Path) -> None:
    batch = filled_workbook(tmp_path, [marriage()] * 4)
    rows = read_rows(batch, layout_for("MarriageRegistered"), max_rows=3)
    with pytest.raises(BatchInvalid, match="row 5: a batch holds at most 3 rows"):
        list(rows)
