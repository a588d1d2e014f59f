"""The console benchmark keeps working: a small store filled, every page answered and timed
against /health. No figure is asserted (speed depends on the machine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_bench_quick_runner import run_bench

pytestmark = pytest.mark.slow

PAGES = [
    "/health (baseline)",
    "messages, first page",
    "messages, failed at TAX",
    "messages, page 11 (keyset)",
    "messages, by identity number",
    "a message's page",
    "dashboard",
]


def test_the_console_benchmark_times_every_page_against_health(tmp_path: Path) -> None:
    result = run_bench(tmp_path, "--only", "console", "--console-messages", "2000")

    (console,) = result["benchmarks"]  # type: ignore[misc]
    assert "2,000 messages (SQLite)" in console["what"]
    assert [row["page"] for row in console["rows"]] == PAGES
    assert all(row["median_ms"] > 0 and row["ratio"] for row in console["rows"])
