"""Print one benchmark's result as a table: its rows, every column any of them has."""

from __future__ import annotations

from typing import Any

_HIDDEN = {"first_failure"}


def print_result(result: dict[str, Any]) -> None:
    print(f"\n== {result['name']}: {result['what']}")
    if result.get("goal"):
        print(f"   goal: {result['goal']}")
    if "geometric_mean_ratio" in result:
        print(f"   geometric mean ratio: {result['geometric_mean_ratio']}")
    if result.get("growth"):
        grown = ", ".join(f"{name} {mb:+,.1f}" for name, mb in result["growth"].items())
        print(f"   grown from the first minute to the end (MB): {grown}")
    for process, errors in result.get("errors_logged", {}).items():
        if errors["count"]:
            print(f"   {process} logged {errors['count']} errors, first: {errors['first']}")
    if result.get("skipped"):
        print(f"   skipped in part: {result['skipped']}")
    rows = result.get("rows", [])
    if not rows:
        return
    columns = [key for key in dict.fromkeys(k for row in rows for k in row) if key not in _HIDDEN]
    widths = {c: max(len(c), *(len(_cell(row.get(c))) for row in rows)) for c in columns}
    print("   " + "  ".join(c.rjust(widths[c]) for c in columns))
    for row in rows:
        print("   " + "  ".join(_cell(row.get(c)).rjust(widths[c]) for c in columns))
        if row.get("first_failure"):
            print(f"     first failure: {row['first_failure']}")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return "" if value is None else str(value)
