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
    return environment


def render(template: str, **values: Any) -> bytes:
    return _environment().get_template(template).render(**values).encode("utf-8")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"
