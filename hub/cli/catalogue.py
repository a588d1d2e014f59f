"""`govhub catalogue`: every message type with its schema, senders, receivers and resource
metadata (GB/T 21063); what one department may do; the XML export for a catalogue system;
one type's self-contained XSD. Read from the configuration in force, as ListServices is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from hub.catalogue.export import export_xml
from hub.catalogue.live import deployment_file
from hub.catalogue.schemas import type_schema
from hub.catalogue.services import Catalogue, build_catalogue
from hub.catalogue.views import catalogue_lines, catalogue_view
from hub.cli.options import json_option, migrated_store, settings_options
from hub.errors import HubError


@click.command("catalogue")
@settings_options
@json_option
@click.option("--department", help="Also show what this department may send, receive, read.")
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the catalogue as XML (xsd/catalogue/resource-catalogue.xsd) to this file.",
)
@click.option("--schema", "schema_of", metavar="TYPE", help="Print the XSD of one message type.")
@click.option(
    "--schema-version",
    metavar="VERSION",
    help="With --schema: that canonical version's XSD. [default: 1.0 while it is active]",
)
def catalogue_cli(
    as_json: bool,
    department: str | None,
    export_file: Path | None,
    schema_of: str | None,
    schema_version: str | None,
    **options: Any,
) -> None:
    """What the hub exchanges: each message type, its schema, who may send it, who receives
    it, and its resource metadata (name, identifier, provider, sharing and open type ...)."""
    if schema_version is not None and schema_of is None:
        raise click.UsageError("--schema-version goes with --schema TYPE")
    with migrated_store(options) as (settings, store):
        from hub.runtime import configuration_loader, registered_versions

        configuration = configuration_loader(settings, store).load()
        registered_versions(settings, configuration.mappings.all())  # GOVHUB_MODEL_VERSIONS_FILE
        catalogue = build_catalogue(configuration, deployment_file(settings))
        _answer(catalogue, as_json, department, export_file, (schema_of, schema_version))


def _answer(
    catalogue: Catalogue,
    as_json: bool,
    department: str | None,
    export_file: Path | None,
    schema_asked: tuple[str | None, str | None],
) -> None:
    schema_of, schema_version = schema_asked
    try:
        if schema_of is not None:
            schema = type_schema(schema_of, catalogue.message_types(), schema_version)
            click.echo(schema.document.decode("utf-8"), nl=False)
            return
        if export_file is not None:
            export_file.write_bytes(export_xml(catalogue))
            click.echo(f"{len(catalogue.services)} resources written to {export_file}")
            return
        allowed = None if department is None else catalogue.allowed(department)
    except HubError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(catalogue_view(catalogue, allowed), ensure_ascii=False, indent=2))
        return
    for line in catalogue_lines(catalogue, allowed):
        click.echo(line)
