"""A command run where there is no hub database yet says so, and what to run instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("GOVHUB_DATA_DIR", "GOVHUB_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize("command", [["messages", "list"], ["trace", "KEY-1"]])
def test_a_command_without_a_database_says_what_to_run(here: Path, command: list[str]) -> None:
    result = CliRunner().invoke(main, command)

    assert result.exit_code == 3
    assert "there is no hub database in govhub-data yet" in result.output
    assert "govhub db upgrade" in result.output
    assert not (here / "govhub-data" / "hub.db").exists()  # and it did not make an empty one


def test_after_the_demo_it_says_where_the_demo_keeps_its_data(here: Path) -> None:
    assert (
        CliRunner().invoke(main, ["db", "upgrade", "--data-dir", "govhub-data/demo"]).exit_code == 0
    )

    result = CliRunner().invoke(main, ["messages", "list"])

    assert result.exit_code == 3
    assert "add --data-dir govhub-data/demo" in result.output
    assert "no such table" not in result.output
    where_it_says = CliRunner().invoke(main, ["messages", "list", "--data-dir", "govhub-data/demo"])
    assert "no message matches these filters" in where_it_says.output  # the demo's database


def test_a_database_without_the_hub_tables_says_so(here: Path) -> None:
    empty = here / "empty.db"
    empty.touch()

    result = CliRunner().invoke(main, ["messages", "list", "--database-url", f"sqlite:///{empty}"])

    assert result.exit_code == 3
    assert "has no hub tables yet" in result.output
    assert "govhub db upgrade" in result.output


def test_a_command_that_makes_the_database_notes_where_the_demo_keeps_its_data(
    here: Path,
) -> None:
    assert (
        CliRunner().invoke(main, ["db", "upgrade", "--data-dir", "govhub-data/demo"]).exit_code == 0
    )

    result = CliRunner().invoke(main, ["retries", "list"])

    assert result.exit_code == 0, result.output
    assert "add --data-dir govhub-data/demo" in result.output
