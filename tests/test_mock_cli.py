"""`govhub mock-departments`: run, show, fault."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from hub.identity import make_number
from mock_departments import cli
from mock_departments.runner import DEPARTMENTS, MockDepartments, start_mock_departments

ZHANG = make_number("11010519900307", "123")
LI = make_number("11010519920611", "124")
FREE_PORTS = dict.fromkeys(DEPARTMENTS, 0)


@pytest.fixture
def mocks(tmp_path: Path) -> Iterator[MockDepartments]:
    running = start_mock_departments(
        data_dir=tmp_path, ports=FREE_PORTS, hub_url="http://127.0.0.1:9"
    )
    yield running
    running.stop()


def deliver_to_tax(mocks: MockDepartments, key: str) -> None:
    event = {
        "eventType": "MARRIAGE",
        "registrationNumber": "J-1",
        "registeredAt": "2024-05-20T09:30:00+08:00",
        "taxpayer": {"idNumber": ZHANG, "fullName": "Zhang San"},
        "spouse": {"idNumber": LI, "fullName": "Li Si"},
    }
    requests.post(
        mocks.url("tax") + "/api/v1/marital-events",
        json=event,
        headers={"Idempotency-Key": key},
        timeout=10,
    ).raise_for_status()


def test_show_summarises_what_a_department_received_with_masked_numbers(
    mocks: MockDepartments, tmp_path: Path
) -> None:
    deliver_to_tax(mocks, "key-1")
    result = CliRunner().invoke(
        cli.mock_departments_cli, ["show", "tax", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "received 1: marital-event 1" in result.output
    assert "key=key-1" in result.output


def test_show_prints_json_with_every_record(mocks: MockDepartments, tmp_path: Path) -> None:
    deliver_to_tax(mocks, "key-1")
    deliver_to_tax(mocks, "key-1")
    deliver_to_tax(mocks, "key-2")
    result = CliRunner().invoke(
        cli.mock_departments_cli, ["show", "TAX", "--json", "--data-dir", str(tmp_path)]
    )
    report = json.loads(result.output)
    assert report["count"] == 2
    assert [r["idempotency_key"] for r in report["records"]] == ["key-1", "key-2"]
    assert ZHANG not in result.output


def test_show_reveals_identity_numbers_only_when_asked(
    mocks: MockDepartments, tmp_path: Path
) -> None:
    deliver_to_tax(mocks, "key-1")
    args = ["show", "tax", "--json", "--reveal", "--data-dir", str(tmp_path)]
    assert ZHANG in CliRunner().invoke(cli.mock_departments_cli, args).output


def test_show_says_when_a_department_has_no_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli.mock_departments_cli, ["show", "marriage", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "has no store" in result.output


def test_an_unknown_department_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.mock_departments_cli, ["show", "police"])
    assert result.exit_code == 2
    assert "no mock department 'police'" in result.output


def test_fault_sets_faults_on_a_running_mock(mocks: MockDepartments) -> None:
    result = CliRunner().invoke(
        cli.mock_departments_cli,
        [
            "fault",
            "social-security",
            "--fail-next",
            "2",
            "--permanent",
            "--url",
            mocks.url("SOCIAL_SECURITY"),
        ],
    )
    assert result.exit_code == 0, result.output
    state = mocks.social_security.faults.state
    assert (state.fail_next, state.permanent) == (2, True)


def test_fault_down_and_clear(mocks: MockDepartments) -> None:
    runner = CliRunner()
    url = mocks.url("tax")
    runner.invoke(cli.mock_departments_cli, ["fault", "tax", "--down", "--url", url])
    assert mocks.tax.faults.is_down
    runner.invoke(cli.mock_departments_cli, ["fault", "tax", "--clear", "--url", url])
    assert not mocks.tax.faults.is_down


def test_fault_needs_something_to_inject() -> None:
    result = CliRunner().invoke(cli.mock_departments_cli, ["fault", "tax"])
    assert result.exit_code == 2
    assert "say what to inject" in result.output


def test_fault_says_when_the_mock_is_not_running() -> None:
    result = CliRunner().invoke(
        cli.mock_departments_cli, ["fault", "tax", "--down", "--url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "not reachable" in result.output


def test_without_a_subcommand_it_runs_all_four_until_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def interrupt() -> None:  # stands in for the operator's Ctrl-C
        seen.append(requests.get(tax_url() + "/_control/faults", timeout=10).status_code)

    printed: list[str] = []
    monkeypatch.setattr(cli, "_wait_for_interrupt", interrupt)
    monkeypatch.setattr("click.echo", lambda text="": printed.append(str(text)))

    def tax_url() -> str:
        return next(line.split()[1] for line in printed if line.startswith("TAX"))

    args = [
        "--marriage-port",
        "0",
        "--social-security-port",
        "0",
        "--tax-port",
        "0",
        "--supervision-port",
        "0",
        "--data-dir",
        str(tmp_path),
    ]
    result = CliRunner().invoke(cli.mock_departments_cli, args)
    assert result.exit_code == 0, result.output
    assert seen == [200]
    assert (tmp_path / "mock_departments" / "TAX.db").exists()
    assert any(line.startswith("SUPERVISION") for line in printed)


def test_fault_finds_a_mock_on_any_port_through_its_data_folder(
    mocks: MockDepartments, tmp_path: Path
) -> None:
    runner = CliRunner()
    data_dir = ["--data-dir", str(tmp_path)]  # where the mocks run; their ports are free ones

    result = runner.invoke(cli.mock_departments_cli, ["fault", "tax", "--down", *data_dir])
    assert result.exit_code == 0, result.output
    assert mocks.tax.faults.is_down
    runner.invoke(cli.mock_departments_cli, ["fault", "TAX", "--clear", *data_dir])
    assert not mocks.tax.faults.is_down


def test_fault_says_a_stopped_mock_is_not_running_and_what_to_run(tmp_path: Path) -> None:
    start_mock_departments(data_dir=tmp_path, ports=FREE_PORTS, codes=["tax"]).stop()

    result = CliRunner().invoke(
        cli.mock_departments_cli, ["fault", "tax", "--down", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert f"TAX is not running from {tmp_path}" in result.output
    assert "govhub mock-departments" in result.output
