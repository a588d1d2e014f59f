"""Where each running mock department listens, written into its data folder, so that
`govhub mock-departments fault` finds it on any port (0: a free one) without --url."""

from __future__ import annotations

import os
from pathlib import Path


def address_path(data_dir: Path, code: str) -> Path:
    return data_dir / "mock_departments" / f"{code}.url"


def write_address(data_dir: Path, code: str, url: str) -> Path:
    path = address_path(data_dir, code)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then renamed: a reader never finds the file there but still empty.
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    aside.write_text(url + "\n", encoding="utf-8")
    os.replace(aside, path)
    return path


def read_address(data_dir: Path, code: str) -> str | None:
    """The base URL the department wrote when it started, or None if it is not running."""
    try:
        return address_path(data_dir, code).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def forget_address(path: Path, url: str) -> None:
    """Remove the file when it still names ``url`` (another run may have taken it over)."""
    try:
        if path.read_text(encoding="utf-8").strip() == url:
            path.unlink()
    except FileNotFoundError:
        pass
