"""The columns of a batch spreadsheet per message type (layouts.toml): which canonical
element each column fills, its header in each language, and what kind of value it takes."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from hub.errors import UnknownMessageType

KINDS = ("text", "date", "identity", "code")


@dataclass(frozen=True)
class Column:
    key: str  # the element's path in the canonical record, e.g. "partyA/identityNumber"
    headers: dict[str, str]  # language -> header
    kind: str
    note: str
    codes: dict[str, str]  # code -> meaning; empty unless kind == "code"
    optional: bool

    @property
    def symbol(self) -> str:
        """The column's name in a rule set's expressions."""
        return self.key.replace("/", "_")

    def header(self, language: str) -> str:
        return self.headers.get(language) or self.headers["en"]

    def names(self) -> set[str]:
        """Every header a file may give this column: any language's, or the key."""
        return {*self.headers.values(), self.key, self.symbol}


@dataclass(frozen=True)
class Layout:
    message_type: str
    columns: tuple[Column, ...]
    ages: dict[str, tuple[str, str]]  # derived symbol -> (birth date symbol, "on" date symbol)

    def symbols(self) -> set[str]:
        return {c.symbol for c in self.columns} | set(self.ages)


@cache
def _definitions() -> dict[str, Any]:
    text = resources.files("hub.batch").joinpath("layouts.toml").read_text("utf-8")
    return tomllib.loads(text)


def message_types() -> tuple[str, ...]:
    return tuple(k for k in _definitions() if k not in ("languages", "codes"))


def layout_for(message_type: str) -> Layout:
    """The layout of ``message_type``; UnknownMessageType names the ones there are."""
    definitions = _definitions()
    if message_type not in message_types():
        known = ", ".join(message_types())
        raise UnknownMessageType(f"there is no batch layout for {message_type}; there is {known}")
    entry = definitions[message_type]
    columns = tuple(_column(c, definitions["codes"]) for c in entry["columns"])
    ages = {name: (pair[0], pair[1]) for name, pair in entry.get("ages", {}).items()}
    return Layout(message_type, columns, ages)


def language_for(department: str | None) -> str:
    languages: dict[str, str] = _definitions()["languages"]
    return languages.get(department or "", languages["default"])


def _column(entry: dict[str, Any], code_tables: dict[str, dict[str, str]]) -> Column:
    headers: dict[str, str] = {lang: entry[lang] for lang in ("zh", "en") if lang in entry}
    codes = code_tables[entry["codes"]] if entry["kind"] == "code" else {}
    return Column(
        entry["key"], headers, entry["kind"], entry["note"], codes, entry.get("optional", False)
    )
