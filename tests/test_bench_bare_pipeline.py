"""The backlog row's baseline: the bare pipeline (bench/bare_pipeline.py) drains the same
backlog to the same departments as the hub did, and the row puts the hub's CPU per delivery
beside it. No figure is asserted (speed depends on the machine): that the bare pipeline really
delivered every leg, with its own keys, to the departments the hub delivered to."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from backends import unavailable

from bench.backends import distributed_missing
from mock_departments.runner import start_mock_departments

DEPARTMENTS = ("MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX", "SUPERVISION")
ROOT = Path(__file__).resolve().parent.parent
BENCH = [sys.executable, "-m", "bench", "--quick", "--only", "end_to_end", "--no-embedded"]


@pytest.mark.slow
@pytest.mark.distributed
def test_the_backlog_row_drains_the_same_backlog_through_the_bare_pipeline(
    tmp_path: Path,
) -> None:
    if missing := distributed_missing():
        unavailable("the distributed setup", RuntimeError(missing))
    mocks = start_mock_departments(
        data_dir=tmp_path / "departments", ports={code: 0 for code in DEPARTMENTS}
    )
    out = tmp_path / "results.json"
    try:
        endpoints = ",".join(f"{code}={url}" for code, url in mocks.endpoints().items())
        done = subprocess.run(
            [*BENCH, "--seconds", "0.2", "--departments", endpoints, "--json", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        bare_keys = {
            "SOCIAL_SECURITY": _bare_keys(mocks.social_security.store.keys()),
            "TAX": _bare_keys(mocks.tax.store.keys()),
        }
    finally:
        mocks.stop()
    assert done.returncode == 0, done.stdout + done.stderr

    rows = json.loads(out.read_text(encoding="utf-8"))["benchmarks"][0]["rows"]
    (backlog,) = [row for row in rows if "backlog" in row["setup"]]
    # Every leg of the backlog went through the bare pipeline too, each with a key of its own.
    assert {code: len(keys) for code, keys in bare_keys.items()} == {
        "SOCIAL_SECURITY": backlog["messages"],
        "TAX": backlog["messages"],
    }
    assert backlog["cpu_ms_bare"] > 0 and backlog["cpu_ms_workers"] > 0
    assert backlog["cpu_ms_hub"] == pytest.approx(
        backlog["cpu_ms_workers"] + backlog["cpu_ms_api"], abs=0.011
    )
    assert backlog["hub_over_bare"] == pytest.approx(
        backlog["cpu_ms_hub"] / backlog["cpu_ms_bare"], rel=0.02
    )


def _bare_keys(received: set[str]) -> set[str]:
    """The idempotency keys the bare pipeline sent (bench/bare_pipeline.py names them)."""
    return {key for key in received if key.startswith("bare-")}
