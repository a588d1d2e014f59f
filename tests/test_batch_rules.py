"""Rule sets as data: registered only when every rule compiles and the set's own examples
pass, every change a version with who and why, in force for the next check, and `rules diff`
naming the rows a new version would change."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from batch_kit import RULES, audited, check, filled_workbook, govhub, marriage


def register(tmp_path: Path, text: str | None = None) -> str:
    source = RULES
    if text is not None:
        source = tmp_path / "rules.toml"
        source.write_text(text, encoding="utf-8")
    result = govhub(tmp_path, "rules", "register", str(source), "--actor", "ana", "--reason", "r")
    return result.output


def test_a_row_breaking_a_rule_is_named_with_the_rule_set_version_that_checked_it(
    tmp_path: Path,
) -> None:
    assert "registered marriage-county@1" in register(tmp_path)
    batch = filled_workbook(
        tmp_path,
        [
            marriage(),
            marriage(partyA_birthDate=date(2005, 1, 1)),  # 21 on the day: under 22
            marriage(registrationOffice="310104"),  # not this county's
        ],
    )
    result = check(tmp_path, batch, "--rules", "marriage-county@1", "--json")
    report = json.loads(result.output)
    assert report["rule_set"] == "marriage-county@1" and report["passed"] == 1
    failures = {(f["row"], f["column"], f["rule"], f["value"]) for f in report["failures"]}
    assert failures == {
        (3, "partyA_birthDate", "min-age-a", "2005-01-01"),
        (4, "registrationOffice", "county-office", "310104"),
    }


def test_a_parameter_change_is_a_new_version_with_who_and_why_in_force_at_once(
    tmp_path: Path,
) -> None:
    register(tmp_path)
    batch = filled_workbook(tmp_path, [marriage(partyA_birthDate=date(2005, 1, 1))])
    assert check(tmp_path, batch, "--rules", "marriage-county").exit_code == 1
    changed = govhub(
        tmp_path, "rules", "set", "marriage-county", "min_age_male=21",
        "--actor", "head-office", "--reason", "circular 2026-7",
    )  # fmt: skip
    assert "marriage-county@2" in changed.output
    assert check(tmp_path, batch, "--rules", "marriage-county").exit_code == 0
    assert check(tmp_path, batch, "--rules", "marriage-county@1").exit_code == 1
    history = govhub(tmp_path, "rules", "history", "marriage-county").output
    assert "marriage-county@2" in history and "head-office: circular 2026-7" in history
    entry = audited(tmp_path)["rule set marriage-county@2"]
    assert entry["actor"] == "head-office" and entry["reason"] == "circular 2026-7"
    assert entry["parameters"]["min_age_male"] == 21


def test_rules_diff_names_the_rows_a_new_version_changes(tmp_path: Path) -> None:
    register(tmp_path)
    govhub(
        tmp_path, "rules", "set", "marriage-county", "min_age_male=21",
        "--actor", "head-office", "--reason", "lower",
    )  # fmt: skip
    batch = filled_workbook(
        tmp_path, [marriage(), marriage(partyA_birthDate=date(2005, 1, 1)), marriage()]
    )
    result = govhub(
        tmp_path, "rules", "diff", "marriage-county@1", "marriage-county@2", "--against", str(batch)
    )
    assert "1 rows change outcome" in result.output
    assert "row 3: min-age-a -> pass" in result.output
    held = govhub(
        tmp_path, "batch", "submit", str(batch), "--sender", "MARRIAGE_REGISTRY",
        "--rules", "marriage-county@1", "--hold", "--actor", "li",
    )  # fmt: skip
    batch_id = held.output.split()[1].rstrip(":")
    by_id = govhub(
        tmp_path, "rules", "diff", "marriage-county@1", "marriage-county@2", "--against", batch_id
    )
    assert "row 3: min-age-a -> pass" in by_id.output
    unknown = govhub(
        tmp_path, "rules", "diff", "marriage-county@1", "marriage-county@2", "--against", "nope"
    )
    assert unknown.exit_code == 1 and "there is no batch nope" in unknown.output


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ('expression = "partyA_age >="', "does not compile"),
        ('expression = "partyA_agee >= 1"', "partyA_agee"),
        ('expression = "partyA_age >= 30 or partyA_age == null"', "fails example"),
    ],
)
def test_a_rule_set_that_does_not_compile_or_fails_its_examples_is_refused(
    tmp_path: Path, change: str, named: str
) -> None:
    text = RULES.read_text("utf-8")
    original = (
        'expression = "partyA_age == null or partyA_age >= '
        "(partyA_sex == '2' ? min_age_female : min_age_male)\""
    )
    assert original in text
    output = register(tmp_path, text.replace(original, change))
    assert "min-age-a" in output and named in output
    assert "registered" not in output
    missing = govhub(tmp_path, "rules", "show", "marriage-county")
    assert missing.exit_code == 1 and "no rule set marriage-county" in missing.output


def test_checking_by_a_rule_set_that_does_not_exist_is_refused_naming_it(tmp_path: Path) -> None:
    batch = filled_workbook(tmp_path, [marriage()])
    result = check(tmp_path, batch, "--rules", "county@3")
    assert result.exit_code == 1 and "no rule set county" in result.output
