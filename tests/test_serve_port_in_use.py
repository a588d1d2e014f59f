"""`govhub serve` (and `govhub demo`) on a port in use: one clear line and exit 1, before
anything starts."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("command", [["serve"], ["demo", "--once"]])
def test_a_port_in_use_is_said_in_one_line_and_nothing_starts(
    tmp_path: Path, command: list[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = ["--port", str(port), "--data-dir", str(tmp_path / "data")]
        result = subprocess.run(
            [sys.executable, "-m", "hub", *command, *options],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"Error: cannot listen on 127.0.0.1:{port}: address already in use "
        "(is another govhub running? choose another with --port or GOVHUB_PORT)"
    ]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "data").exists()  # no database, no workers: nothing started
