"""The item catalogue: what each item's time limits are, read from a TOML file admins change
while the hub runs (the file is read again when it changes; a broken change is refused and
the last good version stays in force, logged).

A case copies its item's ``Limits`` when it is accepted, with the catalogue's version, so a
later change never moves the deadline of a case already running.
"""

from __future__ import annotations

import logging
import threading
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeGuard

from hub.errors import ConfigurationError, RegistrationRefused

log = logging.getLogger(__name__)

STEPS = ("handled", "reviewed", "approved")  # 承办, 审核, 批准: always in this order


@dataclass(frozen=True)
class Limits:
    """An item's limits in working days, as a case keeps them."""

    legal_days: int
    committed_days: int
    steps: dict[str, int]  # step -> limit, in STEPS order, only the item's own steps

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Limits:
        return cls(int(raw["legal_days"]), int(raw["committed_days"]), dict(raw["steps"]))


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    department: str
    legal_basis: str
    limits: Limits


@dataclass(frozen=True)
class Catalogue:
    version: int
    items: dict[str, Item]


def read_catalogue(path: Path) -> Catalogue:
    """The catalogue in ``path``; every mistake is reported at once, each naming its item."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"supervision catalogue {path} cannot be read: {exc}") from exc
    problems: list[str] = []
    version = raw.get("version")
    if not _positive(version):
        problems.append("version: a whole number from 1, raised with every change")
    items_table = raw.get("items", {})
    if not isinstance(items_table, dict):
        problems.append("items: a table of items, e.g. [items.MZ-HYDJ-001]")
        items_table = {}
    items = {}
    for code, table in items_table.items():
        item = _item(code, table, f"[items.{code}]", problems)
        if item is not None:
            items[code] = item
    if problems:
        raise RegistrationRefused(f"supervision catalogue {path}", problems)
    return Catalogue(version if _positive(version) else 0, items)


def _item(code: str, table: Any, where: str, problems: list[str]) -> Item | None:
    if not isinstance(table, dict):
        problems.append(f"{where}: a table")
        return None
    before = len(problems)
    text = {
        key: _text(table, key, where, problems) for key in ("name", "department", "legal_basis")
    }
    legal = _days(table, "legal_days", where, problems)
    committed = _days(table, "committed_days", where, problems)
    if legal and committed and committed > legal:
        problems.append(f"{where}: committed_days is longer than legal_days")
    steps = _steps(table.get("steps", {}), where, problems)
    if len(problems) > before:
        return None
    limits = Limits(legal, committed, steps)
    return Item(code, text["name"], text["department"], text["legal_basis"], limits)


def _text(table: dict[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = table.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    problems.append(f"{where} {key}: text is needed")
    return ""


def _days(table: dict[str, Any], key: str, where: str, problems: list[str]) -> int:
    value = table.get(key)
    if _positive(value):
        return value
    problems.append(f"{where} {key}: a whole number of working days from 1")
    return 0


def _steps(raw: Any, where: str, problems: list[str]) -> dict[str, int]:
    if not isinstance(raw, dict):
        problems.append(f"{where} steps: a table of step = working days")
        return {}
    for step in sorted(set(raw) - set(STEPS)):
        problems.append(f"{where} steps: unknown step {step!r} ({', '.join(STEPS)})")
    for step in STEPS:
        if step in raw and not _positive(raw[step]):
            problems.append(f"{where} steps.{step}: a whole number of working days from 1")
    return {step: int(raw[step]) for step in STEPS if step in raw and _positive(raw[step])}


def _positive(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


class CatalogueFile:
    """The catalogue of one file, read again when the file changes (size or mtime); a broken
    change is logged and the last good catalogue stays. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._catalogue = read_catalogue(path)  # a broken file at start is an error
        self._seen = self._stamp()

    def current(self) -> Catalogue:
        with self._lock:
            stamp = self._stamp()
            if stamp != self._seen:
                self._seen = stamp
                self._reload()
            return self._catalogue

    def _reload(self) -> None:
        try:
            catalogue = read_catalogue(self.path)
        except ConfigurationError as error:
            log.error(
                "supervision catalogue change refused, version %s stays: %s",
                self._catalogue.version,
                error,
            )
            return
        if catalogue.version <= self._catalogue.version and catalogue != self._catalogue:
            log.warning(
                "supervision catalogue %s changed without raising its version (%s)",
                self.path,
                catalogue.version,
            )
        self._catalogue = catalogue

    def _stamp(self) -> tuple[int, int]:
        try:
            status = self.path.stat()
        except OSError:
            return (-1, -1)
        return (status.st_mtime_ns, status.st_size)
