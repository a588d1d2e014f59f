"""`govhub federation check [FILE]`: the federation file as the hub reads it (its division,
its parent and children, each link's secret found or not: never shown), or every reason it
would be refused, before an admin puts it in force."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from hub.config import Settings
from hub.errors import ConfigurationError
from hub.federation.config import FederationConfig, Neighbour, read_federation

EXIT_REFUSED = 2


@click.group("federation")
def federation_cli() -> None:
    """This hub's place among hubs (docs/federation.md)."""


@federation_cli.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check(file: Path | None, as_json: bool) -> None:
    """Read FILE (default: GOVHUB_FEDERATION_FILE) as the hub would; exit 2 if refused."""
    named = str(file or "") or Settings.from_env().federation_file
    if not named:
        click.echo("no federation file: give FILE or set GOVHUB_FEDERATION_FILE", err=True)
        sys.exit(EXIT_REFUSED)
    try:
        config = read_federation(Path(named))
    except ConfigurationError as error:
        click.echo(f"refused: {error.message}", err=True)
        sys.exit(EXIT_REFUSED)
    if as_json:
        click.echo(json.dumps(_view(config), indent=2))
    else:
        click.echo(f"hub {config.division}")
        for role, neighbour in _roles(config):
            click.echo(f"  {role} {neighbour.division} at {neighbour.endpoint} (secret found)")


def _roles(config: FederationConfig) -> list[tuple[str, Neighbour]]:
    parent = [("parent", config.parent)] if config.parent else []
    return parent + [("child ", child) for child in config.children]


def _view(config: FederationConfig) -> dict[str, object]:
    return {
        "division": config.division,
        "neighbours": [
            {"role": role.strip(), "division": n.division, "endpoint": n.endpoint}
            for role, n in _roles(config)
        ],
    }
