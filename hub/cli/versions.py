"""`govhub versions`: the canonical model's versions in force (status, what each down
conversion loses, which departments receive each), and `--check FILE` to register a new
versions file before pointing GOVHUB_MODEL_VERSIONS_FILE at it (docs/versions.md)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from hub.cli.options import json_option, migrated_store, settings_options


@click.command("versions")
@settings_options
@json_option
@click.option(
    "--check",
    "check_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Register this versions file as the hub would (conversions, examples, chains, "
    "retired versions still declared) and say what is wrong; nothing changes.",
)
def versions_cli(as_json: bool, check_file: Path | None, **options: Any) -> None:
    """Every version of every canonical message type: its status (active, deprecated,
    retired), the version it follows, what its down conversion loses, who receives it."""
    with migrated_store(options) as (settings, store):
        from hub.runtime import configuration_loader, registered_versions
        from hub.versions.views import version_rows

        mappings = configuration_loader(settings, store).load().mappings.all()
        if check_file is not None:
            checked = replace(settings, model_versions_file=str(check_file))
            registered_versions(checked, mappings)  # raises, naming every problem
            click.echo(
                f"{check_file}: every conversion converts its examples; no retired "
                "version is still declared"
            )
            return
        registered_versions(settings, mappings)
        rows = version_rows(mappings)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        receivers = ", ".join(row["receivers"]) or "(no department receives it)"
        click.echo(f"{row['message_type']} {row['version']}  {row['status']}  {row['schema']}")
        click.echo(f"  receivers  {receivers}")
        if row["lossy_down"]:
            click.echo(f"  down to {row['follows']} loses  {row['lossy_down']}")
