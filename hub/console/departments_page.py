"""The departments as the console shows them: the configuration's views
(hub/configuration/views.py), with any user name and password in an endpoint hidden, and
each one's pause (who paused its deliveries, when and why; None while they flow)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hub.configuration.admin import ConfigurationAdmin
from hub.configuration.views import department_detail, department_rows
from hub.errors import NotFound
from hub.observability.pauses import Pause


def departments(admin: ConfigurationAdmin, paused: Mapping[str, Pause]) -> list[dict[str, Any]]:
    return [_shown(row, paused) for row in department_rows(admin.current())]


def department(admin: ConfigurationAdmin, code: str, paused: Mapping[str, Pause]) -> dict[str, Any]:
    configuration = admin.current()
    if code not in configuration.departments.codes():
        raise NotFound(f"no department {code}")
    return _shown(department_detail(configuration, code, admin.versions(code)), paused)


def hidden_endpoint(endpoint: str | None) -> str:
    """The endpoint without the credentials a URL may carry (user:password@host)."""
    if not endpoint:
        return ""
    parts = urlsplit(endpoint)
    if parts.username is None and parts.password is None:
        return endpoint
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _shown(row: dict[str, Any], paused: Mapping[str, Pause]) -> dict[str, Any]:
    return {
        **row,
        "endpoint": hidden_endpoint(row.get("endpoint")),
        "pause": paused.get(row["code"]),
    }
