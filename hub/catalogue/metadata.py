"""Resource metadata of a message type (GB/T 21063.3 core metadata), read from TOML layers."""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from hub.errors import ConfigurationError
from hub.resources import DEFAULTS_ROOT

DEFAULT_FILE = DEFAULTS_ROOT / "catalogue.toml"
FILE_IN_PACKAGE = "catalogue.toml"
UPDATE_CYCLES = ("realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular")
# The standard's three values of 共享类型 and 开放类型.
SHARING_TYPES = {"unconditional": "无条件共享", "conditional": "有条件共享", "none": "不予共享"}
OPEN_TYPES = {"unconditional": "无条件开放", "conditional": "有条件开放", "none": "不予开放"}
_REQUIRED = ("name", "identifier", "summary", "category", "format", "update_cycle", "sharing")
_CHOICES: dict[str, tuple[str, ...]] = {
    "update_cycle": UPDATE_CYCLES,
    "sharing": tuple(SHARING_TYPES),
    "open": tuple(OPEN_TYPES),
}

Fields = Mapping[str, str]


@dataclass(frozen=True)
class ResourceMetadata:
    name: str
    identifier: str
    provider: str
    summary: str
    category: str
    format: str
    update_cycle: str
    sharing: str
    open: str = "none"
    sharing_condition: str = ""

    @property
    def sharing_label(self) -> str:
        return SHARING_TYPES[self.sharing]

    @property
    def open_label(self) -> str:
        return OPEN_TYPES[self.open]


FIELD_NAMES = tuple(f.name for f in fields(ResourceMetadata))


def read_layer(path: Path) -> dict[str, Fields]:
    """The entries of one catalogue file, by message type; every mistake in it at once."""
    layer, problems = _read(path)
    if problems:
        raise ConfigurationError("; ".join(problems))
    return layer


def package_problems(folder: Path, sends: Collection[str]) -> tuple[list[str], list[str]]:
    """(errors, warnings) of a package's catalogue.toml, for its registration checks: its
    mistakes refuse it; an entry for a type the department does not send is not used."""
    path = folder / FILE_IN_PACKAGE
    if not path.is_file():
        return [], []
    layer, problems = _read(path)
    unused = [
        f"{path} [{message_type}]: {message_type} is described only by a department that "
        "sends it; this entry is not used"
        for message_type in layer
        if message_type not in sends
    ]
    return problems, unused


def _read(path: Path) -> tuple[dict[str, Fields], list[str]]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"cannot read catalogue file {path}: {exc}"]
    return _parsed(str(path), raw)


def _parsed(where: str, raw: Mapping[str, Any]) -> tuple[dict[str, Fields], list[str]]:
    problems: list[str] = []
    layer: dict[str, Fields] = {}
    for message_type, table in raw.items():
        here = f"{where} [{message_type}]"
        if not isinstance(table, dict):
            problems.append(f"{here}: expected a table of metadata fields")
            continue
        unknown = sorted(set(table) - set(FIELD_NAMES))
        if unknown:
            problems.append(f"{here}: unknown field(s) {', '.join(unknown)}")
        for key, value in table.items():
            if not isinstance(value, str):
                problems.append(f"{here}: {key} must be text")
            elif key in _CHOICES and value not in _CHOICES[key]:
                problems.append(f"{here}: {key} must be one of {', '.join(_CHOICES[key])}")
        layer[message_type] = {k: v for k, v in table.items() if k in FIELD_NAMES}
    return layer, problems


def resolved(message_type: str, layers: list[Fields], provider: str) -> ResourceMetadata:
    """The metadata of ``message_type``: each layer's fields over the ones before it.
    ``provider`` (the senders' names) stands when no layer names one."""
    merged: dict[str, str] = {"provider": provider, "open": "none"}
    for layer in layers:
        merged.update(layer)
    missing = [key for key in _REQUIRED if not merged.get(key)]
    if merged.get("sharing") == "conditional" and not merged.get("sharing_condition"):
        missing.append("sharing_condition (sharing is conditional)")
    if missing:
        raise ConfigurationError(
            f"catalogue entry {message_type} lacks {', '.join(missing)}: give it in the "
            "resource_catalogue_file (docs/catalogue.md)"
        )
    return ResourceMetadata(**merged)
