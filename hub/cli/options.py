"""What every `govhub` command shares: the settings options, the JSON and actor options, and
the store a command opens (migrated, its errors turned into clean CLI messages)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from hub.config import Settings
from hub.errors import HubError
from hub.security.payloads import payload_sealer
from hub.store import Store

F = TypeVar("F", bound=Callable[..., Any])


def settings_options(command: F) -> F:
    """Options every hub command shares; each falls back to GOVHUB_* and then the default."""
    options = [
        click.option(
            "--data-dir",
            type=click.Path(path_type=Path),
            help="Folder for the embedded database. [default: ./govhub-data]",
        ),
        click.option(
            "--database-url",
            help="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db. "
            "[default: SQLite in the data dir]",
        ),
        click.option(
            "--bus-url",
            help="kombu URL: memory:// (in-process) or amqp://user:pw@host//. [default: memory://]",
        ),
        click.option("--log-level", default="INFO", show_default=True, help="Logging level."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_settings(**overrides: Any) -> Settings:
    """Settings from GOVHUB_* with the command's options on top (``log_level`` is not one)."""
    overrides.pop("log_level", None)
    return Settings.from_env(**overrides)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
actor_option = click.option(
    "--actor", required=True, help="Who makes the change (recorded in the audit log)."
)


@contextmanager
def migrated_store(options: dict[str, Any]) -> Iterator[tuple[Settings, Store]]:
    """The hub's store for one command, migrated; a HubError becomes a clean CLI error."""
    settings = build_settings(**options)
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # the embedded database's folder
    try:
        store = Store(settings.effective_database_url, sealer=payload_sealer(settings))
    except HubError as error:
        raise click.ClickException(str(error)) from error
    try:
        store.upgrade()
        yield settings, store
    except HubError as error:
        raise click.ClickException(str(error)) from error
    finally:
        store.dispose()
