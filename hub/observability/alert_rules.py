"""Alert rules, read from a TOML file (``GOVHUB_ALERT_RULES_FILE``):

    [[rule]]
    name = "tax-failing"
    kind = "failure_rate"        # share of attempts in the window that did not deliver
    department = "TAX"           # optional: omitted, every department on its own
    above = 0.5
    window_seconds = 300

    [[rule]]
    name = "backlog"
    kind = "pending_above"       # legs not delivered or failed yet, per department
    above = 100

    [[rule]]
    name = "stuck"
    kind = "oldest_pending_above"  # seconds since the oldest such leg's message arrived
    above = 600

    [[rule]]
    name = "mailbox-full"
    kind = "mailbox_held"        # legs held because the department's mailbox is at its quota
    above = 0

    [[rule]]
    name = "certificates"
    kind = "certificate_expiry"  # the hub's TLS and signing certificates
    within_days = 14

A rule the hub cannot read is a ConfigurationError at start, naming the rule and the field.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.errors import ConfigurationError

KINDS = (
    "failure_rate",
    "pending_above",
    "oldest_pending_above",
    "certificate_expiry",
    "mailbox_held",
)
DEFAULT_WINDOW_SECONDS = 300.0


@dataclass(frozen=True)
class AlertRule:
    name: str
    kind: str
    above: float = 0.0
    department: str | None = None
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    within_days: float = 0.0


def load_rules(path: str) -> list[AlertRule]:
    """The rules of the file; none when no file is configured."""
    if not path:
        return []
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"alert rules {path}: {exc}") from exc
    rules = [_rule(entry, number) for number, entry in enumerate(raw.get("rule", []), 1)]
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"alert rules {path}: rule names must differ: {names}")
    return rules


def _rule(entry: dict[str, Any], number: int) -> AlertRule:
    where = f"alert rule {entry.get('name') or number}"
    if not isinstance(entry.get("name"), str) or not entry["name"]:
        raise ConfigurationError(f"{where}: needs a name")
    if entry.get("kind") not in KINDS:
        raise ConfigurationError(f"{where}: kind must be one of {', '.join(KINDS)}")
    unknown = set(entry) - {"name", "kind", "above", "department", "window_seconds", "within_days"}
    if unknown:
        raise ConfigurationError(f"{where}: unknown fields {sorted(unknown)}")
    try:
        return AlertRule(
            name=entry["name"],
            kind=entry["kind"],
            above=float(entry.get("above", 0.0)),
            department=str(entry["department"]) if "department" in entry else None,
            window_seconds=float(entry.get("window_seconds", DEFAULT_WINDOW_SECONDS)),
            within_days=float(entry.get("within_days", 0.0)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{where}: {exc}") from exc
