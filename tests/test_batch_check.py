"""`govhub batch template` and `govhub batch check`: the workbook a clerk fills in, and every
row of it checked as the hub would check it, with the rows and columns that fail named."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from batch_kit import check, filled_workbook, govhub, marriage, template
from click.testing import CliRunner
from lxml import etree
from openpyxl import load_workbook

from hub.batch import layout_for
from hub.batch.layouts import message_types
from hub.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "canonical"
# Who may send each type (hub/defaults/routes.toml): the template is filled in that language.
SENDERS = {
    "MarriageRegistered": "MARRIAGE_REGISTRY",
    "DivorceRegistered": "MARRIAGE_REGISTRY",
    "AddressChanged": "TAX",
    "InsuredPersonEnrolled": "SOCIAL_SECURITY",
}


def test_the_template_has_headers_in_the_departments_language_with_notes_lists_and_dates(
    tmp_path: Path,
) -> None:
    chinese, english = tmp_path / "zh.xlsx", tmp_path / "en.xlsx"
    sheet = load_workbook(template(chinese)).active
    assert sheet is not None and sheet.title == "MarriageRegistered"
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["登记证号", "登记日期", "登记机关区划代码", "男方身份证号"]
    assert sheet["D1"].comment is not None and "check digit" in sheet["D1"].comment.text
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists["F2"] == '"0,1,2,9"'  # party A's sex: GB/T 2261.1 codes
    assert lists["L2"].startswith('"10,20,21')
    assert sheet["B2"].number_format == "yyyy-mm-dd"
    english_sheet = load_workbook(template(english, sender="TAX")).active
    assert english_sheet is not None and english_sheet["A1"].value == "Registration number"


def test_check_names_each_failing_row_column_and_rule_and_passes_the_rest(tmp_path: Path) -> None:
    batch = filled_workbook(
        tmp_path,
        [
            marriage(),
            marriage(partyB_identityNumber="310104199208150282", partyB_sex="3"),
            marriage(registeredOn="=TODAY()"),
            marriage(partyA_birthDate="1990-03-07"),  # a date typed as text
        ],
    )
    result = check(tmp_path, batch, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert (report["rows"], report["passed"], report["failed"]) == (4, 1, 3)
    failures = {(f["row"], f["column"], f["rule"]) for f in report["failures"]}
    assert failures == {
        (3, "partyB_identityNumber", "identity-check-digit"),
        (3, "partyB_sex", "code-table"),
        (4, "registeredOn", "formula"),
        (5, "partyA_birthDate", "date"),
    }
    assert "310104199208150282" not in result.output  # identity numbers only masked


def test_a_record_the_schema_refuses_is_named_on_its_column(tmp_path: Path) -> None:
    batch = filled_workbook(tmp_path, [marriage(registrationOffice="11010")])
    result = check(tmp_path, batch, "--json")
    (failure,) = json.loads(result.output)["failures"]
    assert (failure["row"], failure["column"], failure["rule"]) == (
        2,
        "registrationOffice",
        "schema",
    )


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_csv_in_utf8_and_gb18030_is_checked_like_a_workbook(tmp_path: Path, encoding: str) -> None:
    columns = layout_for("MarriageRegistered").columns
    good, bad = marriage(), marriage(partyA_sex="7")
    lines = [",".join(c.header("zh") for c in columns)]
    for row in (good, bad):
        lines.append(",".join(str(row[c.symbol]) for c in columns))
    batch = tmp_path / "batch.csv"
    batch.write_bytes("\n".join(lines).encode(encoding))
    workbook = tmp_path / "report.xlsx"
    result = check(
        tmp_path, batch, "--type", "MarriageRegistered", "--json", "--xlsx", str(workbook)
    )
    report = json.loads(result.output)
    assert (report["passed"], report["failed"]) == (1, 1)
    assert report["failures"][0]["column"] == "partyA_sex"
    sheet = load_workbook(workbook).worksheets[0]  # the CSV copied, its failing cell marked
    assert (sheet["E2"].value, sheet["F3"].value) == ("张伟", "7")
    assert sheet["F3"].comment is not None and "code-table" in sheet["F3"].comment.text


def test_an_address_change_batch_in_english_headers_from_tax(tmp_path: Path) -> None:
    batch = tmp_path / "moves.csv"
    batch.write_text(
        "Identity number,Name,New address division,New address,Postal code,Effective from,"
        "Recorded at\n"
        "11010519900307013X,张伟,110108,北京市海淀区中关村大街27号,,2026-06-01,2026-05-28T01:15:30Z\n"
        "11010519900307013X,张伟,110108,北京市海淀区中关村大街27号,,2026-06-01,yesterday\n",
        encoding="utf-8",
    )
    result = govhub(
        tmp_path, "batch", "check", str(batch), "--sender", "TAX", "--type", "AddressChanged",
        "--json",
    )  # fmt: skip
    report = json.loads(result.output)
    assert (report["passed"], report["failed"]) == (1, 1)
    assert [(f["row"], f["column"], f["rule"]) for f in report["failures"]] == [
        (3, "recordedAt", "schema")
    ]


def test_a_sender_that_may_not_send_the_type_is_refused(tmp_path: Path) -> None:
    batch = filled_workbook(tmp_path, [marriage()])
    result = govhub(tmp_path, "batch", "check", str(batch), "--sender", "TAX")
    assert result.exit_code == 1 and "TAX" in result.output


def test_the_report_is_the_clerks_file_with_failing_cells_red_and_a_summary(tmp_path: Path) -> None:
    batch = filled_workbook(tmp_path, [marriage(), marriage(partyA_sex="5")])
    report = tmp_path / "report.xlsx"
    check(
        tmp_path,
        batch,
        "--xlsx",
        str(report),
    )
    book = load_workbook(report)
    sheet, summary = book.worksheets
    failed = sheet["F3"]
    assert failed.fill.fgColor.rgb == "FFFF9999"
    assert failed.comment is not None and "code-table" in failed.comment.text
    assert "value: 5" in failed.comment.text
    assert sheet["F2"].fill.fgColor.rgb != "FFFF9999"
    assert sheet["A2"].value == "J110105-2026-000123"  # the clerk's own data kept
    rows = {r[0]: r[1] for r in summary.iter_rows(max_row=6, values_only=True)}
    assert (rows["Rows"], rows["Passed"], rows["Failed"]) == (2, 1, 1)
    assert (summary.cell(row=9, column=1).value, summary.cell(row=9, column=3).value) == (
        3,
        "code-table",
    )
    assert date(2026, 5, 20) == sheet["B2"].value.date()


def _example_values(message_type: str) -> dict[str, str]:
    """The canonical example of ``message_type``: element path ("partyA/name") -> text."""
    root = etree.parse(str(EXAMPLES / f"{message_type}.xml")).getroot()
    values = {}
    for element in root.iter():
        if element is root or len(element):
            continue
        steps = [element, *element.iterancestors()][:-1]  # up to, not including, the root
        values["/".join(etree.QName(e).localname for e in reversed(steps))] = element.text or ""
    return values


@pytest.mark.parametrize("message_type", message_types())
def test_every_record_type_with_a_layout_has_a_template_its_sender_fills_and_passes(
    tmp_path: Path, message_type: str
) -> None:
    sender = SENDERS[message_type]
    target = tmp_path / "template.xlsx"
    made = CliRunner().invoke(
        main, ["batch", "template", message_type, "--sender", sender, str(target)]
    )
    assert made.exit_code == 0, made.output
    book = load_workbook(target)
    sheet = book.active
    assert sheet is not None and sheet.title == message_type
    values = _example_values(message_type)
    for number, column in enumerate(layout_for(message_type).columns, start=1):
        text = values[column.key]
        sheet.cell(
            row=2, column=number, value=date.fromisoformat(text) if column.kind == "date" else text
        )
    book.save(target)

    result = govhub(tmp_path, "batch", "check", str(target), "--sender", sender, "--json")

    assert result.exit_code == 0, result.output
    assert (json.loads(result.output)["rows"], json.loads(result.output)["passed"]) == (1, 1)
