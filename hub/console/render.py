"""Jinja2 templates from the package, autoescaped: nothing a sender wrote becomes markup."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("hub.console", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
    )
    environment.filters["when"] = _when
    environment.filters["seconds"] = _seconds
    return environment


def render(template: str, **values: Any) -> bytes:
    return _environment().get_template(template).render(**values).encode("utf-8")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def _seconds(value: float | None) -> str:
    """A duration the way an operator reads it: 120 ms, 4.2 s, 3.5 min, 2.0 h."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"
