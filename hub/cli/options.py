"""What every `govhub` command shares: the settings options, the JSON and actor options, and
the store a command opens (migrated, its errors turned into clean CLI messages)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine, inspect

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


def no_database_hint(settings: Settings, engine: Engine | None = None) -> str | None:
    """What to tell someone whose hub database is not there yet (None: it is): the embedded
    file missing, or (``engine``) a database without the hub's tables. Names the demo's
    data folder when the demo's data is what they have."""
    embedded = settings.data_dir / "hub.db"
    if not settings.database_url and not embedded.exists():
        where = f"there is no hub database in {settings.data_dir} yet"
    elif engine is not None and not inspect(engine).has_table("messages"):
        where = f"the database {engine.url.render_as_string()} has no hub tables yet"
    else:
        return None
    demo = demo_folder(settings)
    if demo is not None:
        return f"{where}; `govhub demo` keeps its data in {demo}: add --data-dir {demo}"
    return f"{where}: run `govhub db upgrade` (or `govhub serve`) to create it, or give --data-dir"


def demo_folder(settings: Settings) -> Path | None:
    """Where `govhub demo` left its data under the data folder, if it did."""
    demo = settings.data_dir / "demo"
    return demo if (demo / "hub.db").exists() else None


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
actor_option = click.option(
    "--actor", required=True, help="Who makes the change (recorded in the audit log)."
)


@contextmanager
def migrated_store(options: dict[str, Any]) -> Iterator[tuple[Settings, Store]]:
    """The hub's store for one command, migrated; a HubError becomes a clean CLI error."""
    settings = build_settings(**options)
    hint = no_database_hint(settings)
    if hint is not None and demo_folder(settings) is not None:  # made below; the data: there
        click.echo(f"note: {hint}", err=True)
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
