"""Department packages: one folder (or a zip of it) that describes a department whole.

    department.toml                            code, name, adapter and its settings, routes
    schemas/...                                its own XSDs, JSON Schemas, WSDL
    mappings/<inbound|outbound>/<Type>.toml    its mappings (docs/mappings.md)
    examples/<inbound|outbound>/<Type>.in.*    an input of that mapping ...
    examples/<inbound|outbound>/<Type>.out.*   ... and the output it must give

Schema paths inside a package are written ``departments/<CODE>/<path under schemas/>``, as
for the shipped departments. See docs/departments.md.
"""

from __future__ import annotations

import hashlib
import io
import tomllib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from hub.conditions import parse_condition
from hub.departments import DepartmentConfig, parse_department
from hub.errors import ConfigurationError, RegistrationRefused
from hub.routing import ROLES, RouteEntry

DESCRIPTION = "department.toml"
MAX_PACKAGE_BYTES = 20 * 1024 * 1024
_PACKAGE_KEYS = {"code", "routes"}
_ROUTE_KEYS = {"sends", "receives", "when"}
# A fixed time for every zip entry: the same folder always packs to the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class DepartmentPackage:
    """The files of a package by relative path, and where they were read from."""

    files: Mapping[str, bytes]
    source: str

    def to_zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(self.files):
                archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), self.files[name])
        return buffer.getvalue()

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(self.files[name]).digest())
        return digest.hexdigest()

    def under(self, folder: str) -> dict[str, bytes]:
        """The files below ``folder/`` by their path relative to it."""
        prefix = folder.rstrip("/") + "/"
        return {
            name[len(prefix) :]: data
            for name, data in self.files.items()
            if name.startswith(prefix)
        }


@dataclass(frozen=True)
class Description:
    """What department.toml says: the department's settings and its routes."""

    department: DepartmentConfig
    routes: tuple[RouteEntry, ...] = field(default_factory=tuple)

    @property
    def code(self) -> str:
        return self.department.code


def read_package(path: Path) -> DepartmentPackage:
    """A package from a folder or a .zip file."""
    if path.is_dir():
        entries = [e for e in sorted(path.rglob("*")) if not _ignored(e.relative_to(path))]
        _refuse_links_out(path, entries)
        files = {e.relative_to(path).as_posix(): e.read_bytes() for e in entries if e.is_file()}
        return DepartmentPackage(files, str(path))
    if path.is_file():
        return package_from_zip(path.read_bytes(), str(path))
    raise ConfigurationError(f"no department package at {path}: expected a folder or a .zip")


def package_from_zip(data: bytes, source: str) -> DepartmentPackage:
    """The package a zip holds; RegistrationRefused (the sender's mistake, a client fault) if
    it is not a readable zip, too large, or names a path outside itself."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            if sum(info.file_size for info in infos) > MAX_PACKAGE_BYTES:
                raise RegistrationRefused(
                    source, [f"package larger than {MAX_PACKAGE_BYTES} bytes"]
                )
            files = {_safe_name(source, info.filename): archive.read(info) for info in infos}
    except (zipfile.BadZipFile, OSError) as exc:
        raise RegistrationRefused(source, [f"not a readable zip: {exc}"]) from exc
    return DepartmentPackage(files, source)


def describe(package: DepartmentPackage, version: int | None = None) -> Description:
    """Parse department.toml; every problem in it is reported at once."""
    where = f"{package.source}/{DESCRIPTION}"
    if DESCRIPTION not in package.files:
        raise RegistrationRefused(package.source, [f"{where}: missing"])
    try:
        raw = tomllib.loads(package.files[DESCRIPTION].decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RegistrationRefused(package.source, [f"{where}: {exc}"]) from exc
    code = raw.get("code")
    if not isinstance(code, str) or not code.isupper() or not code.replace("_", "").isalnum():
        raise RegistrationRefused(
            package.source, [f"{where}: code must be upper-case letters, digits and _"]
        )
    reasons: list[str] = []
    settings = {key: value for key, value in raw.items() if key not in _PACKAGE_KEYS}
    try:
        department = parse_department(where, code, settings, version)
    except ConfigurationError as exc:
        reasons.append(exc.message)
        department = DepartmentConfig(code=code, name=code, adapter="", endpoint="")
    routes = _routes(where, code, raw.get("routes", []), reasons)
    if reasons:
        raise RegistrationRefused(f"department {code}", reasons)
    return Description(department, tuple(routes))


def _routes(where: str, code: str, raw: Any, reasons: list[str]) -> list[RouteEntry]:
    if not isinstance(raw, list):
        reasons.append(f"{where}: routes must be a list of [[routes]] tables")
        return []
    entries = []
    for number, table in enumerate(raw, start=1):
        here = f"{where} [[routes]] #{number}"
        try:
            entries.append(_route(here, code, table))
        except ConfigurationError as exc:
            reasons.append(exc.message)
    return entries


def _route(where: str, code: str, table: Any) -> RouteEntry:
    if not isinstance(table, dict) or set(table) - _ROUTE_KEYS:
        raise ConfigurationError(f"{where}: expected sends or receives, and optionally when")
    roles = [role for role in ROLES if role in table]
    if len(roles) != 1 or not isinstance(table[roles[0]], str):
        raise ConfigurationError(f"{where}: name one message type, as sends = or receives =")
    role = roles[0]
    condition = None
    if "when" in table:
        if role != "receives":
            raise ConfigurationError(f"{where}: a condition (when) applies to receives only")
        condition = parse_condition(table["when"], where)
    return RouteEntry(table[role], code, role, condition, origin="package")


def _refuse_links_out(folder: Path, entries: list[Path]) -> None:
    """A symbolic link is followed only to a place inside the package. Checked on every
    link, pointing anywhere or nowhere, before any is read: the refusal says nothing of
    what lies outside."""
    root = folder.resolve()
    for entry in entries:
        if entry.is_symlink() and not entry.resolve().is_relative_to(root):
            name = entry.relative_to(folder).as_posix()
            raise ConfigurationError(
                f"{folder}: {name} is a symbolic link out of the package; copy the file in"
            )


def _ignored(relative: Path) -> bool:
    # Editor and VCS droppings are not part of a package.
    return any(part.startswith(".") or part == "__pycache__" for part in relative.parts)


def _safe_name(source: str, name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name:
        raise RegistrationRefused(source, [f"unsafe path {name!r} in the package"])
    return path.as_posix()
