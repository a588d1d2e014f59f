"""`govhub supervision evaluate|cases|case` on cases the hub's own case book recorded: what
the rules say at a chosen time (--at), nothing issued."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.config import Settings
from hub.store import Store
from hub.store.records import NewMessage
from hub.supervision.casebook import CaseBook
from hub.supervision.catalogue import CatalogueFile

SHANGHAI = timezone(timedelta(hours=8))
NS = "urn:govhub:canonical:1"
APPLICANT = "11010519900307013X"


def message(kind: str, body: str) -> NewMessage:
    xml = f'<c:{kind} xmlns:c="{NS}">{body}</c:{kind}>'.encode()
    return NewMessage(
        message_id=str(uuid.uuid4()),
        message_type=kind,
        sender="MARRIAGE_REGISTRY",
        correlation_id=None,
        idempotency_key=str(uuid.uuid4()),
        purpose="supervision",
        sent_at=datetime.now(UTC),
        schema_version="1.0",
        original=xml,
        original_content_type="text/xml",
        canonical=xml,
        inbound_mapping=None,
    )


def record(book_at: datetime, data_dir: Path, kind: str, body: str) -> None:
    settings = Settings(data_dir=data_dir)
    store = Store(settings.effective_database_url)
    store.upgrade()
    try:
        catalogue = CatalogueFile(settings.supervision_catalogue_file)
        CaseBook(store.engine, catalogue.current, clock=lambda: book_at).record(message(kind, body))
    finally:
        store.dispose()


def accepted(case: str, at: datetime) -> str:
    return (
        f"<c:itemCode>MZ-HYDJ-001</c:itemCode><c:caseNumber>{case}</c:caseNumber>"
        f"<c:applicant><c:identityNumber>{APPLICANT}</c:identityNumber></c:applicant>"
        f"<c:acceptedAt>{at.isoformat()}</c:acceptedAt><c:department>MARRIAGE_REGISTRY</c:department>"
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Two marriage cases accepted Sep 30 2026 (3 working days committed: due Oct 10, the
    make-up Saturday after National Day); MZ-2's acceptance reported two days late."""
    at = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    record(at + timedelta(minutes=1), tmp_path, "CaseAccepted", accepted("MZ-1", at))
    record(at + timedelta(days=2), tmp_path, "CaseAccepted", accepted("MZ-2", at))
    step = "<c:caseNumber>MZ-1</c:caseNumber><c:step>handled</c:step><c:handler>李明</c:handler>"
    done = datetime(2026, 10, 8, 15, 0, tzinfo=SHANGHAI)
    record(
        done,
        tmp_path,
        "CaseStepCompleted",
        step + f"<c:completedAt>{done.isoformat()}</c:completedAt>",
    )
    return tmp_path


def run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, object] = json.loads(result.output)
    return parsed


def signals(report: dict[str, object]) -> dict[str, list[str]]:
    return {c["case_number"]: [s["rule"] for s in c["signals"]] for c in report["cases"]}  # type: ignore[attr-defined,index]


def test_evaluate_shows_the_signals_at_a_chosen_time(data_dir: Path) -> None:
    on_oct_8 = run(
        "supervision", "evaluate", "--data-dir", str(data_dir), "--at", "2026-10-08T17:00"
    )
    on_oct_9 = run(
        "supervision", "evaluate", "--data-dir", str(data_dir), "--at", "2026-10-09T10:00"
    )
    on_oct_12 = run(
        "supervision", "evaluate", "--data-dir", str(data_dir), "--at", "2026-10-12T10:00+08:00"
    )

    assert signals(on_oct_8) == {"MZ-1": [], "MZ-2": ["reported-late:1"]}
    assert signals(on_oct_9) == {
        "MZ-1": ["committed-deadline-near"],
        "MZ-2": ["reported-late:1", "committed-deadline-near", "step-overdue:handled"],
    }
    assert signals(on_oct_12) == {
        "MZ-1": ["not-concluded-in-time"],
        "MZ-2": ["reported-late:1", "not-concluded-in-time"],
    }


def test_cases_filter_by_signal_and_department(data_dir: Path) -> None:
    red = run(
        "supervision",
        "cases",
        "--data-dir",
        str(data_dir),
        "--at",
        "2026-10-09T10:00",
        "--signal",
        "yellow-card",
    )
    other = run("supervision", "cases", "--data-dir", str(data_dir), "--department", "TAX")

    assert [c["case_number"] for c in red["cases"]] == ["MZ-2"]  # type: ignore[attr-defined]
    assert other["cases"] == []


def test_case_shows_the_clock_step_by_step_with_the_holidays(data_dir: Path) -> None:
    detail = run(
        "supervision", "case", "MZ-1", "--data-dir", str(data_dir), "--at", "2026-10-09T10:00"
    )
    text = CliRunner().invoke(
        main,
        ["supervision", "case", "MZ-1", "--data-dir", str(data_dir), "--at", "2026-10-09T10:00"],
    )

    assert detail["committed_due"] == "2026-10-10"
    assert detail["steps"] == [
        {
            "step": "handled",
            "limit_days": 1,
            "starts": "2026-09-30",
            "due": "2026-10-08",
            "done": "2026-10-08",
        },
        {
            "step": "reviewed",
            "limit_days": 1,
            "starts": "2026-10-08",
            "due": "2026-10-09",
            "done": None,
        },
    ]
    special = {d["date"]: d["kind"] for d in detail["special_days"]}  # type: ignore[attr-defined]
    assert special["2026-10-01"] == "holiday"
    assert special["2026-10-10"] == "adjusted-working-day"
    assert text.exit_code == 0, text.output
    assert (
        "handled   1 working day(s) from 2026-09-30, due 2026-10-08, done 2026-10-08" in text.output
    )
    assert "2026-10-10 adjusted-working-day (National Day)" in text.output
    assert "yellow-light committed-deadline-near" in text.output


def test_case_of_an_unknown_number_is_an_error(data_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["supervision", "case", "MZ-404", "--data-dir", str(data_dir)]
    )

    assert result.exit_code == 1
    assert "no case MZ-404" in result.output
