"""The benchmark runner keeps working: its quick mode runs and writes its JSON. No figure is
asserted (speed depends on the machine); only that every benchmark produced its rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mock_departments.runner import start_mock_departments

DEPARTMENTS = ("MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX", "SUPERVISION")
ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def run_bench(tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--no-distributed", "--json", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return result


def test_the_quick_runner_measures_ingest_and_validate_map_and_writes_json(
    tmp_path: Path,
) -> None:
    result = run_bench(tmp_path, "--only", "validate_map,ingest", "--seconds", "0.3")

    machine = result["machine"]
    assert isinstance(machine, dict) and machine["cores"] and machine["python"]
    benchmarks = result["benchmarks"]
    assert isinstance(benchmarks, list)
    by_name = {b["name"]: b for b in benchmarks}
    assert sorted(by_name) == ["ingest", "validate_map"]
    ingest = by_name["ingest"]["rows"]
    assert [row["setup"].split(" ")[0] for row in ingest] == ["spyne", "hub,"]
    assert all(row["ok"] > 0 and row["failed"] == 0 for row in ingest), ingest
    assert all(row["ratio"] is not None for row in ingest)
    validate_map = by_name["validate_map"]["rows"]
    assert {row["mapping"] for row in validate_map} >= {"TAX/outbound/MarriageRegistered@1"}
    assert all(row["hub_per_second"] > 0 for row in validate_map)


def test_the_runner_refuses_an_unknown_benchmark_name(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nonsense"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown benchmark 'nonsense'" in done.stderr


def test_end_to_end_can_deliver_to_mock_departments_running_elsewhere(tmp_path: Path) -> None:
    mocks = start_mock_departments(
        data_dir=tmp_path / "elsewhere", ports={code: 0 for code in DEPARTMENTS}
    )
    try:
        endpoints = ",".join(f"{code}={url}" for code, url in mocks.endpoints().items())
        result = run_bench(
            tmp_path, "--only", "end_to_end", "--seconds", "0.2", "--departments", endpoints
        )
        received = mocks.social_security.store.count() + mocks.tax.store.count()
    finally:
        mocks.stop()

    (row,) = result["benchmarks"][0]["rows"]  # type: ignore[index]
    assert row["deliveries_per_second"] > 0 and row["failed_submits"] == 0
    assert received >= 2 * row["messages"]  # the mocks given were the ones delivered to
