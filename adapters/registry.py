"""Which adapter class a department's ``adapter`` setting names.

Built-in adapters are listed by short name in one table of lazy import strings (as
kombu lists its transports); anything else is a dotted path (``package.module:Class``) or
the name of a Python entry point in the group ``govhub.adapters``.
"""

from __future__ import annotations

import difflib
import importlib
from importlib.metadata import EntryPoint, entry_points

from adapters.base import Adapter
from hub.departments import DepartmentConfig
from hub.errors import ConfigurationError, HubError

ENTRY_POINT_GROUP = "govhub.adapters"

BUILTIN_ADAPTERS: dict[str, str] = {
    "soap": "adapters.soap:SoapAdapter",
    "rest": "adapters.rest:RestAdapter",
    "mailbox": "adapters.mailbox:MailboxAdapter",
    "bundle": "adapters.bundle:BundleAdapter",
}


def adapter_class(name: str) -> type[Adapter]:
    """The adapter class for a short name, a dotted path or an entry point name."""
    if name in BUILTIN_ADAPTERS:
        return _import(BUILTIN_ADAPTERS[name], name)
    if ":" in name or "." in name:
        return _import(name, name)
    entry_point = _entry_points().get(name)
    if entry_point is None:
        raise ConfigurationError(_no_such_adapter(name))
    try:
        loaded = entry_point.load()
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(
            f"adapter {name!r} (entry point {entry_point.value}) does not load: {exc}"
        ) from exc
    return _checked(loaded, name)


def load_adapter(config: DepartmentConfig) -> Adapter:
    """A ready adapter for one department."""
    cls = adapter_class(config.adapter)
    try:
        return cls(config)
    except HubError:
        raise
    except Exception as exc:  # a third-party adapter's own error: translate at the boundary
        raise ConfigurationError(
            f"adapter {config.adapter!r} cannot be set up for {config.code}: {exc}"
        ) from exc


def known_adapter_names() -> list[str]:
    return sorted({*BUILTIN_ADAPTERS, *_entry_points()})


def _import(target: str, name: str) -> type[Adapter]:
    module_name, _, attribute = target.partition(":") if ":" in target else target.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"adapter {name!r}: cannot import {module_name}: {exc}") from exc
    try:
        loaded = getattr(module, attribute)
    except AttributeError:
        raise ConfigurationError(f"adapter {name!r}: {module_name} has no {attribute!r}") from None
    return _checked(loaded, name)


def _checked(loaded: object, name: str) -> type[Adapter]:
    if not (isinstance(loaded, type) and issubclass(loaded, Adapter)):
        raise ConfigurationError(f"adapter {name!r} is not a subclass of adapters.base.Adapter")
    return loaded


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _no_such_adapter(name: str) -> str:
    known = known_adapter_names()
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"No such adapter: {name}. Did you mean {close[0]}?"
    return f"No such adapter: {name}. Known adapters: {', '.join(known)}"
