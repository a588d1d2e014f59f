"""A batch sent through the real hub to the real mock departments: only committed rows that
pass and were not excluded, each once (the same file twice sends nothing twice, a corrected
file only its corrected rows), every exclusion kept with who and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batch_kit import audited, couple, filled_workbook, govhub
from hubstack import running_hub
from openpyxl import load_workbook

from hub.batch import check_file, layout_for
from hub.batch.ledger import BatchLedger
from hub.batch.sending import commit_batch, submit_batch
from hub.errors import BatchInvalid
from hub.polling import wait_for


def test_committed_rows_reach_the_departments_once_and_a_corrected_file_sends_only_its_fixes(
    tmp_path: Path,
) -> None:
    with running_hub(tmp_path) as stack:
        ingress, ledger = stack.runtime.ingress, BatchLedger(stack.runtime.store.engine)
        layout, tax = layout_for("MarriageRegistered"), stack.mocks.tax.store

        def filed(rows: list[dict[str, object]], name: str) -> str:
            path = filled_workbook(tmp_path, rows, name)
            report = check_file(path, layout, ingress.schemas)
            return ledger.new("MARRIAGE_REGISTRY", path, report).batch_id

        first = filed([couple(1), couple(2), couple(3, partyB_sex="7")], "monday.xlsx")
        assert ledger.get(first).state == "held" and tax.count_by_kind() == {}
        batch = commit_batch(ledger.get(first), ingress, None, {3}, "wang", "not signed")
        assert (batch.sent, batch.repeats) == (1, 0)
        assert [(e.row, e.actor, e.reason) for e in batch.exclusions] == [(3, "wang", "not signed")]
        assert wait_for(lambda: len(tax.keys()) == 1, 20)

        corrected = filed([couple(1), couple(2), couple(3)], "monday-corrected.xlsx")
        batch = commit_batch(ledger.get(corrected), ingress, None, (), "wang", "")
        assert (batch.sent, batch.repeats) == (2, 1)  # rows 3 and 4 new, row 2 sent on Monday
        assert wait_for(lambda: len(tax.keys()) == 3, 20)
        assert len(stack.mocks.social_security.store.keys()) >= 1

        too_many = filled_workbook(tmp_path, [couple(n) for n in range(10, 14)], "big.xlsx")
        with pytest.raises(BatchInvalid, match="at most 3 rows"):
            submit_batch(too_many, layout, "MARRIAGE_REGISTRY", ingress, None, ledger, "li", 3)
        assert len(tax.keys()) == 3
        assert not any(ledger.get(b).file.endswith("big.xlsx") for b in ledger.ids())


def test_submit_hold_show_and_commit_from_the_command_line(tmp_path: Path) -> None:
    batch_file = filled_workbook(tmp_path, [couple(1), couple(2, partyA_sex="5")])
    held = govhub(
        tmp_path, "batch", "submit", str(batch_file), "--sender", "MARRIAGE_REGISTRY",
        "--hold", "--actor", "li",
    )  # fmt: skip
    assert held.exit_code == 0, held.output
    batch_id = held.output.split()[1].rstrip(":")
    shown = json.loads(govhub(tmp_path, "batch", "show", batch_id, "--json").output)
    assert (shown["state"], shown["sent"], shown["report"]["failed"]) == ("held", 0, 1)
    report = tmp_path / "report.xlsx"
    govhub(tmp_path, "batch", "show", batch_id, "--xlsx", str(report))
    assert load_workbook(report).worksheets[0]["F3"].comment is not None  # row 3's sex
    no_reason = govhub(tmp_path, "batch", "commit", batch_id, "--exclude", "2", "--actor", "wang")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    committed = govhub(
        tmp_path, "batch", "commit", batch_id, "--exclude", "3", "--reason", "sex to be corrected",
        "--actor", "wang",
    )  # fmt: skip
    assert "1 rows sent, 0 already sent" in committed.output
    entry = audited(tmp_path)[f"batch {batch_id}"]
    assert (entry["actor"], entry["sent"]) == ("wang", 1)
    assert entry["excluded"] == [{"row": 3, "reason": "sex to be corrected"}]
    again = govhub(tmp_path, "batch", "commit", batch_id, "--actor", "wang")
    assert again.exit_code == 1 and "was committed by wang" in again.output
    resent = govhub(
        tmp_path, "batch", "submit", str(batch_file), "--sender", "MARRIAGE_REGISTRY",
        "--actor", "li",
    )  # fmt: skip
    assert "0 rows sent, 1 already sent" in resent.output
