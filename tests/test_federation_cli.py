"""`govhub federation check`: the file as the hub reads it, secrets never shown, or every
reason it would be refused (exit 2) before an admin puts it in force."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hub.cli import main

SECRET = "the-link-secret-itself"


def write(tmp_path: Path, child: str = "320102", secret: str = "link") -> Path:
    (tmp_path / "link").write_text(SECRET)
    path = tmp_path / "federation.toml"
    path.write_text(
        'division = "320100"\n'
        '[parent]\ndivision = "320000"\nendpoint = "https://province:8700/soap"\n'
        f'secret = "file:{tmp_path / "link"}"\n'
        f'[[children]]\ndivision = "{child}"\nendpoint = "https://county:8700/soap"\n'
        f'secret = "file:{tmp_path / secret}"\n'
    )
    return path


def test_a_good_file_is_shown_with_its_neighbours_and_no_secret(tmp_path: Path) -> None:
    path = write(tmp_path)

    shown = CliRunner().invoke(main, ["federation", "check", str(path)])
    as_json = CliRunner().invoke(main, ["federation", "check", str(path), "--json"])

    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines() == [
        "hub 320100",
        "  parent 320000 at https://province:8700/soap (secret found)",
        "  child  320102 at https://county:8700/soap (secret found)",
    ]
    assert json.loads(as_json.output)["neighbours"][1] == {
        "role": "child",
        "division": "320102",
        "endpoint": "https://county:8700/soap",
    }
    assert SECRET not in shown.output + as_json.output


def test_a_child_outside_the_division_and_a_missing_secret_are_refused(tmp_path: Path) -> None:
    outside = CliRunner().invoke(main, ["federation", "check", str(write(tmp_path, "330100"))])
    no_secret = CliRunner().invoke(
        main, ["federation", "check", str(write(tmp_path, secret="gone"))]
    )

    assert outside.exit_code == 2
    assert "child 330100 does not lie under division 320100" in outside.output
    assert no_secret.exit_code == 2
    assert "secret file:" in no_secret.output and "cannot be read" in no_secret.output
