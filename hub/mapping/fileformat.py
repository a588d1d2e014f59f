"""Read a mapping file (TOML) into plain, checked data; every mistake names file and place.

The format is described, with a full example, in docs/mappings.md.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import ConfigurationError

if TYPE_CHECKING:
    from hub.mapping.repeat import RepeatSpec

DIRECTIONS = ("inbound", "outbound", "answers")  # answers: a query answer -> its facts
FORMATS = ("xml", "json")

_TOP_KEYS = {"mapping", "source", "target", "codes", "fields", "repeat"}
_MAPPING_KEYS = {"department", "direction", "message_type", "version", "description"}
_SIDE_KEYS = {"format", "schema", "root", "namespaces", "encoding"}
_FIELD_KEYS = {"from", "to", "value", "convert", "codes", "required", "default", "description"}
_CONVERT_KEYS = {"from", "to", "timezone"}


@dataclass(frozen=True)
class SideSpec:
    format: str
    schema: str
    root: str | None = None
    namespaces: dict[str, str] = field(default_factory=dict)
    encoding: str = "UTF-8"


@dataclass(frozen=True)
class FieldSpec:
    where: str  # e.g. '[[fields]] #3 (to = "c:partyA/c:sex")', for error messages
    to: str
    source: str | None = None
    value: str | None = None
    convert: dict[str, str] | None = None
    codes: str | None = None
    required: bool = True
    default: str | None = None


@dataclass(frozen=True)
class MappingSpec:
    file: Path
    department: str
    direction: str
    message_type: str
    version: int
    source: SideSpec
    target: SideSpec
    codes: dict[str, dict[str, str]]
    fields: tuple[FieldSpec, ...]
    repeats: tuple[RepeatSpec, ...] = ()  # [[repeat]]: repeated records (hub/mapping/repeat.py)


def config_error(file: Path, where: str, reason: str) -> ConfigurationError:
    return ConfigurationError(f"mapping file {file}: {where}: {reason}")


def read_spec(file: Path) -> MappingSpec:
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read mapping file {file}: {exc}") from exc
    _check_keys(file, "top level", raw, _TOP_KEYS, required={"mapping", "source", "target"})
    header = _table(file, "[mapping]", raw["mapping"])
    _check_keys(file, "[mapping]", header, _MAPPING_KEYS, required=_MAPPING_KEYS - {"description"})
    from hub.mapping.repeat import read_repeats  # here: repeat.py reads fields with this module

    repeats = read_repeats(file, raw["repeat"]) if "repeat" in raw else ()
    fields = raw.get("fields", [])
    if not isinstance(fields, list) or not (fields or repeats):
        raise config_error(file, "[[fields]]", "at least one field is needed")
    return MappingSpec(
        file=file,
        department=_text(file, "[mapping].department", header["department"]),
        direction=_choice(file, "[mapping].direction", header["direction"], DIRECTIONS),
        message_type=_text(file, "[mapping].message_type", header["message_type"]),
        version=_version(file, header["version"]),
        source=_side(file, "source", raw["source"]),
        target=_side(file, "target", raw["target"]),
        codes=_codes(file, raw.get("codes", {})),
        fields=tuple(_field(file, number, item) for number, item in enumerate(fields, start=1)),
        repeats=repeats,
    )


def _side(file: Path, name: str, raw: Any) -> SideSpec:
    where = f"[{name}]"
    table = _table(file, where, raw)
    _check_keys(file, where, table, _SIDE_KEYS, required={"format", "schema"})
    fmt = _choice(file, f"{where}.format", table["format"], FORMATS)
    if fmt == "xml" and "root" not in table:
        raise config_error(file, where, "an xml side needs a root")
    namespaces = _table(file, f"{where}.namespaces", table.get("namespaces", {}))
    return SideSpec(
        format=fmt,
        schema=_text(file, f"{where}.schema", table["schema"]),
        root=_text(file, f"{where}.root", table["root"]) if "root" in table else None,
        namespaces={k: _text(file, f"{where}.namespaces.{k}", v) for k, v in namespaces.items()},
        encoding=_encoding(file, f"{where}.encoding", table.get("encoding", "UTF-8")),
    )


def _codes(file: Path, raw: Any) -> dict[str, dict[str, str]]:
    tables = _table(file, "[codes]", raw)
    result = {}
    for name, table in tables.items():
        where = f"[codes.{name}]"
        entries = _table(file, where, table)
        result[name] = {k: _text(file, f"{where}.{k}", v) for k, v in entries.items()}
    return result


def _field(file: Path, number: int, raw: Any) -> FieldSpec:
    return read_field(file, f"[[fields]] #{number}", raw)


def read_field(file: Path, where: str, raw: Any) -> FieldSpec:
    """One field table (top-level or of a [[repeat]]), checked."""
    table = _table(file, where, raw)
    if "to" in table:
        where += f" (to = {table['to']!r})"
    _check_keys(file, where, table, _FIELD_KEYS, required={"to"})
    if ("from" in table) == ("value" in table):
        raise config_error(file, where, "give exactly one of 'from' (a path) or 'value'")
    return FieldSpec(
        where=where,
        to=_text(file, f"{where}.to", table["to"]),
        source=_optional_text(file, f"{where}.from", table.get("from")),
        value=_optional_text(file, f"{where}.value", table.get("value")),
        convert=_convert(file, f"{where}.convert", table.get("convert")),
        codes=_optional_text(file, f"{where}.codes", table.get("codes")),
        required=_flag(file, f"{where}.required", table.get("required", True)),
        default=_optional_text(file, f"{where}.default", table.get("default")),
    )


def _convert(file: Path, where: str, raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    table = _table(file, where, raw)
    _check_keys(file, where, table, _CONVERT_KEYS, required={"from", "to"})
    return {k: _text(file, f"{where}.{k}", v) for k, v in table.items()}


def _check_keys(
    file: Path, where: str, table: dict[str, Any], known: set[str], *, required: set[str]
) -> None:
    for key in table:
        if key not in known:
            raise config_error(file, where, f"unknown key {key!r} (known: {sorted(known)})")
    for key in sorted(required):
        if key not in table:
            raise config_error(file, where, f"missing key {key!r}")


def _table(file: Path, where: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise config_error(file, where, "must be a table")
    return raw


def _text(file: Path, where: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw:
        raise config_error(file, where, "must be a non-empty string")
    return raw


def _optional_text(file: Path, where: str, raw: Any) -> str | None:
    return None if raw is None else _text(file, where, raw)


def _flag(file: Path, where: str, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise config_error(file, where, "must be true or false")
    return raw


def _choice(file: Path, where: str, raw: Any, choices: tuple[str, ...]) -> str:
    if raw not in choices:
        raise config_error(file, where, f"must be one of {', '.join(choices)}, not {raw!r}")
    return str(raw)


def _version(file: Path, raw: Any) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise config_error(file, "[mapping].version", "must be a positive integer")
    return raw


def _encoding(file: Path, where: str, raw: Any) -> str:
    text = _text(file, where, raw)
    try:
        "".encode(text)
    except LookupError as exc:
        raise config_error(file, where, f"unknown encoding {text!r}") from exc
    return text


# For hub/mapping/repeat.py, which reads its tables the same way.
check_keys, table_of, text_of = _check_keys, _table, _text
