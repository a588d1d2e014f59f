"""Modules a person runs or imports on their own import first, in a fresh interpreter: an
import cycle shows only when its first module is the one imported first (the store and the
audit log import each other's parts; `python -m bench.soap_adapter` once failed so)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "module",
    [
        "hub.security.audit",
        "hub.security.credentials",
        "mock_departments.runner",
        "bench.soap_adapter",
        "adapters.http_client",
    ],
)
def test_the_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
