"""Department directory: who the hub talks to and how, read from a TOML file."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hub.errors import ConfigurationError, NotAuthorized, UnknownSender
from hub.retry import RetryOverrides

_KNOWN_KEYS = {
    "name",
    "adapter",
    "endpoint",
    "wsdl",
    "soap_version",
    "encoding",
    "timeout_seconds",
    "operations",
    "inbound",
    "options",
    "retry",
    "credentials",
}
# Where the hub's own username and secret at a department are kept: never in the settings
# themselves (they are stored and shown), only a reference to them.
_CREDENTIAL_SOURCES = ("env:", "file:")
_RETRY_KEYS = {"max_attempts", "max_age_seconds", "base_seconds", "max_seconds"}


@dataclass(frozen=True)
class DepartmentConfig:
    """One department: its adapter and that adapter's settings.

    ``operations`` maps a message type to the SOAP operation or URL path that receives it;
    ``inbound`` maps a native root element (``{ns}Name``) or URL path to the message type
    the department sends with it.
    """

    code: str
    name: str
    adapter: str
    endpoint: str
    wsdl: str | None = None
    soap_version: str = "1.1"
    encoding: str = "UTF-8"
    timeout_seconds: float = 10.0
    operations: Mapping[str, str] = field(default_factory=dict)
    inbound: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    # The department's own retry policy; None fields keep the hub-wide settings.
    retry: RetryOverrides = field(default_factory=RetryOverrides)
    # The registered package version it comes from; None: the departments file.
    version: int | None = None
    # "env:NAME" or "file:PATH" holding "username:secret": how the hub authenticates to
    # the department (see outbound_credentials); None: it does not.
    credentials: str | None = None


class DepartmentDirectory:
    """All registered departments, by code."""

    def __init__(
        self, departments: Mapping[str, DepartmentConfig], disabled: Iterable[str] = ()
    ) -> None:
        self._departments = dict(departments)
        # Disabled departments stay here so that what was accepted for them is still
        # delivered; they may not send, and routes leave them out.
        self._disabled = frozenset(disabled)

    @classmethod
    def from_file(cls, path: Path) -> DepartmentDirectory:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read departments file {path}: {exc}") from exc
        return cls(
            {code: parse_department(f"{path} [{code}]", code, table) for code, table in raw.items()}
        )

    def with_endpoints(self, overrides: Mapping[str, str]) -> DepartmentDirectory:
        """A copy with the endpoints of the departments it holds replaced (overrides for
        others wait for their department: see ``parse_endpoint_overrides``)."""
        departments = {
            code: with_endpoint(config, overrides) for code, config in self._departments.items()
        }
        return DepartmentDirectory(departments, self._disabled)

    def replace_with(self, other: DepartmentDirectory) -> None:
        """Take ``other``'s contents at once (a configuration reload); holders keep this one."""
        self._departments, self._disabled = other._departments, other._disabled

    def sender(self, code: str) -> DepartmentConfig:
        """The department, if it may send now."""
        config = self.get(code)
        if code in self._disabled:
            raise NotAuthorized(f"department {code} is disabled")
        return config

    def is_enabled(self, code: str) -> bool:
        return code in self._departments and code not in self._disabled

    def get(self, code: str) -> DepartmentConfig:
        try:
            return self._departments[code]
        except KeyError:
            raise UnknownSender(f"unknown department {code!r}") from None

    def __contains__(self, code: object) -> bool:
        return code in self._departments

    def __iter__(self) -> Iterator[DepartmentConfig]:
        return iter(self._departments.values())

    def codes(self) -> list[str]:
        return sorted(self._departments)


def parse_endpoint_overrides(text: str) -> dict[str, str]:
    """GOVHUB_DEPARTMENT_ENDPOINTS, "TAX=http://h:1,PUBLIC_SECURITY=...": the endpoint each
    named department gets instead of its registered one, whether it comes from the
    departments file or is registered at runtime (then from the moment it is)."""
    overrides = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        code, _, url = item.partition("=")
        if not code.strip() or not url.strip():
            raise ConfigurationError(f"endpoint override {item!r}: expected CODE=url")
        overrides[code.strip()] = url.strip()
    return overrides


def with_endpoint(config: DepartmentConfig, overrides: Mapping[str, str]) -> DepartmentConfig:
    url = overrides.get(config.code)
    return config if url is None else replace(config, endpoint=url)


def parse_department(
    where: str, code: str, table: Any, version: int | None = None
) -> DepartmentConfig:
    """One department's settings; ConfigurationError names ``where`` and the setting."""
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where}: expected a table of settings")
    unknown = set(table) - _KNOWN_KEYS
    if unknown:
        raise ConfigurationError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    for required in ("name", "adapter", "endpoint"):
        if not isinstance(table.get(required), str):
            raise ConfigurationError(f"{where}: {required} is required and must be text")
    return DepartmentConfig(
        code=code,
        name=table["name"],
        adapter=table["adapter"],
        endpoint=table["endpoint"],
        wsdl=table.get("wsdl"),
        soap_version=str(table.get("soap_version", "1.1")),
        encoding=str(table.get("encoding", "UTF-8")),
        timeout_seconds=_positive_number(where, table.get("timeout_seconds", 10.0)),
        operations=_texts(where, "operations", table.get("operations", {})),
        inbound=_texts(where, "inbound", table.get("inbound", {})),
        options=_options(where, table.get("options", {})),
        retry=_parse_retry(where, table.get("retry", {})),
        version=version,
        credentials=_credentials_reference(where, table.get("credentials")),
    )


@dataclass(frozen=True)
class OutboundCredentials:
    username: str
    secret: str = field(repr=False)


def outbound_credentials(config: DepartmentConfig) -> OutboundCredentials | None:
    """The hub's username and secret at the department, read from where its ``credentials``
    reference points; ConfigurationError (naming the reference, never the secret) if absent."""
    reference = config.credentials
    if reference is None:
        return None
    text = read_reference(f"{config.code}: credentials", reference)
    username, colon, secret = text.strip().partition(":")
    if not (username and colon and secret):
        raise ConfigurationError(
            f"{config.code}: credentials {reference}: expected username:secret"
        )
    return OutboundCredentials(username, secret)


def read_reference(what: str, reference: str) -> str:
    """The text kept where ``env:NAME`` or ``file:PATH`` points; ConfigurationError names
    ``what`` and the reference, never the text."""
    kind, _, where = reference.partition(":")
    try:
        return os.environ[where] if kind == "env" else Path(where).read_text("utf-8")
    except (KeyError, OSError) as exc:
        raise ConfigurationError(
            f"{what} {reference} cannot be read ({type(exc).__name__})"
        ) from None


def _credentials_reference(where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(_CREDENTIAL_SOURCES) or value[-1] == ":":
        raise ConfigurationError(
            f"{where}: credentials must be a reference, env:VARIABLE or file:PATH, "
            "to where username:secret is kept"
        )
    return value


def _parse_retry(where: str, table: Any) -> RetryOverrides:
    if not isinstance(table, dict) or set(table) - _RETRY_KEYS:
        raise ConfigurationError(
            f"{where}: retry must be a table of {', '.join(sorted(_RETRY_KEYS))}"
        )
    try:
        return RetryOverrides(
            max_attempts=_positive(table.get("max_attempts"), int),
            max_age_seconds=_positive(table.get("max_age_seconds"), float),
            base_seconds=_positive(table.get("base_seconds"), float),
            max_seconds=_positive(table.get("max_seconds"), float),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{where}: retry: {exc}") from exc


def _positive(value: Any, kind: type[int] | type[float]) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"expected a number > 0, not {value!r}")
    return kind(value)


def _positive_number(where: str, value: Any) -> float:
    try:
        return float(_positive(value, float))
    except ValueError as exc:
        raise ConfigurationError(f"{where}: timeout_seconds: {exc}") from exc


def _options(where: str, value: Any) -> dict[str, Any]:
    options = _table(where, "options", value)
    quota = options.get("mailbox_quota")  # hub/mailbox/quota.py
    if quota is not None and (isinstance(quota, bool) or not isinstance(quota, int) or quota < 1):
        raise ConfigurationError(f"{where}: options.mailbox_quota must be a whole number >= 1")
    return options


def _table(where: str, name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: {name} must be a table")
    return dict(value)


def _texts(where: str, name: str, value: Any) -> dict[str, str]:
    table = _table(where, name, value)
    wrong = [key for key, text in table.items() if not isinstance(text, str)]
    if wrong:
        raise ConfigurationError(f"{where}: {name}.{wrong[0]} must be text")
    return table
