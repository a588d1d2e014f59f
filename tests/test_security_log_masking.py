"""Identity numbers are masked in the log of `govhub serve` itself: the logging set-up the
command line installs (hub.logs.configure) carries the masking filter, so a number that reaches
a log line unmasked at its source still leaves the process masked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from deployment import free_port
from hubstack import HUSBAND_ID

from hub.identity import mask_in_text
from hub.polling import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`govhub serve` as an operator starts it; its URL and the file its stderr goes to."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GOVHUB_")}
    env.update(GOVHUB_DATA_DIR=str(tmp_path / "hub"), GOVHUB_BUS_URL="memory://")
    stderr = tmp_path / "serve.stderr"
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _healthy(url), seconds=60), stderr.read_text("utf-8")
        yield url, stderr
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_refused_push_naming_an_identity_number_is_logged_masked(
    serve: tuple[str, Path],
) -> None:
    url, stderr = serve
    # A misdirected client puts a person's number where the department code belongs; the
    # refusal logs the path segment as it came.
    answer = requests.post(
        f"{url}/native/{HUSBAND_ID}/address-changes",
        json={"idNumber": HUSBAND_ID},
        timeout=10,
    )
    assert answer.status_code == 400, answer.text

    logged = wait_for(lambda: _refusal_line(stderr), seconds=10)

    assert logged is not None, stderr.read_text("utf-8")
    assert f"at /native/{mask_in_text(HUSBAND_ID)}/address-changes:" in logged
    assert HUSBAND_ID not in stderr.read_text("utf-8")


def _refusal_line(stderr: Path) -> str | None:
    lines = stderr.read_text("utf-8").splitlines()
    return next((line for line in lines if "refused at /native/" in line), None)


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=1).ok
    except requests.RequestException:
        return False
