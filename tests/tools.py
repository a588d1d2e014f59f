"""Programs outside Python that a test drives (node and npm, a JDK and wsimport). A missing
one skips its tests on a laptop and fails them in CI (CI=true), like tests/backends.py does
for services."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def require_tools(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        unavailable(f"{', '.join(missing)} (apt-get install nodejs npm default-jdk-headless jaxws)")


def unavailable(what: str) -> None:
    message = f"not installed here: {what}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run(command: list[str], cwd: Path, timeout: float = 300) -> str:
    """The command's output; its error output in the failure when it does not succeed."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout
