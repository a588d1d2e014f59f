"""The `govhub` command line as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, inspect

from hub.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_demo_once_shows_every_leg_arriving_and_exits_zero(tmp_path: Path) -> None:
    port = 0  # the hub and the four mock departments each take a free port
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub",
            "demo",
            "--once",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Every leg arrived" in result.stdout
    # two legs per record, two records, two signals, and the node-backed office's two lines
    assert result.stdout.count("✓") == 8
    assert "(GB18030)" in result.stdout  # the registry got its address change in its encoding
    verdicts = {  # the supervision pass on the demo clock, one line per case
        line.split(": ", 1)[1].split(" (")[0]
        for line in result.stdout.splitlines()
        if line.startswith(("   MZ-", "   SB-")) and "  " in line.strip()
    }
    assert verdicts == {
        "on time, no signal",
        "red-card not-concluded-in-time",
        "yellow-light committed-deadline-near",
    }
    assert result.stdout.count("<jc:XHTZ") == 2  # SUPERVISION holds both, in its own format
    # The county office without a server: its node pulled the marriage into its folder, in
    # the tax bureau's JSON, and sent the move its system dropped in the outbox.
    county = tmp_path / "demo" / "county-tax"
    (pulled,) = (county / "inbox").glob("*.json")
    assert json.loads(pulled.read_bytes())["eventType"] == "MARRIAGE"
    assert (county / "outbox" / "sent" / "move-0001.xml").exists()
    assert "reached MARRIAGE_REGISTRY, SOCIAL_SECURITY (hub message" in result.stdout


def test_db_upgrade_creates_the_hub_tables(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade", "--data-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    tables = inspect(create_engine(f"sqlite:///{tmp_path / 'hub.db'}")).get_table_names()
    assert {"messages", "deliveries", "attempts"} <= set(tables)


def test_validate_names_the_schema_a_canonical_example_matches() -> None:
    result = CliRunner().invoke(
        main, ["validate", str(EXAMPLES / "canonical" / "MarriageRegistered.xml")]
    )

    assert result.exit_code == 0, result.output
    assert "valid (canonical/canonical.xsd)" in result.output


def test_validate_recognises_a_gb18030_native_document() -> None:
    native = next((EXAMPLES / "mappings" / "MARRIAGE_REGISTRY" / "inbound").glob("*.in.xml"))

    result = CliRunner().invoke(main, ["validate", "--json", str(native)])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["schema"].endswith("marriage-registry.xsd")


def test_validate_lists_every_error_and_exits_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text(
        (EXAMPLES / "canonical" / "MarriageRegistered.xml")
        .read_text(encoding="utf-8")
        .replace("<c:registrationOffice>110105", "<c:registrationOffice>ABC")
        .replace("<c:maritalStatus>20", "<c:maritalStatus>77"),
        encoding="utf-8",
    )

    result = CliRunner().invoke(main, ["validate", str(broken)])

    assert result.exit_code == 1
    assert "INVALID" in result.output
    assert "registrationOffice" in result.output and "maritalStatus" in result.output


def test_validate_reports_json_for_tax(tmp_path: Path) -> None:
    native = next((EXAMPLES / "mappings" / "TAX" / "inbound").glob("*.in.json"))

    result = CliRunner().invoke(main, ["validate", str(native)])

    assert result.exit_code == 0, result.output
    assert "address-change.json" in result.output


def test_every_command_has_help() -> None:
    for command in (
        ["serve"],
        ["worker"],
        ["validate"],
        ["db", "upgrade"],
        ["demo"],
        ["mock-departments"],
    ):
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, command
