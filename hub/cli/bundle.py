"""`govhub bundle export|import|receipt|list`: one-way transfer bundles between networks joined by
a one-way gateway or removable media (hub/bundle, docs/bundles.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from hub import logs
from hub.cli.options import build_settings, json_option, migrated_store, settings_options

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.group("bundle")
def bundle_cli() -> None:
    """Carry messages to another network in signed files, and receipts back."""


@bundle_cli.command("export")
@settings_options
@json_option
@click.option("--to", "network", required=True, help="The network the bundle is for.")
@click.option(
    "--since",
    type=click.IntRange(min=1),
    help="Carry again what bundles numbered SINCE and later carried and still waits "
    "(a lost medium). [default: only what no bundle carried yet]",
)
@click.argument("file", type=_FILE)
def export_command(
    network: str, since: int | None, file: Path, as_json: bool, **options: Any
) -> None:
    """Write every message waiting for NETWORK into FILE, signed with the hub's key."""
    from hub.bundle import peers
    from hub.bundle.exporting import ExportRequest, export_bundle

    with _hub(options) as runtime:
        request = ExportRequest(
            own_network=peers.identity(runtime.settings).network,
            to=network,
            since=since,
            path=file,
            key=peers.signing_key(runtime.settings),
        )
        result = export_bundle(runtime.store, runtime.departments, request)
    summary = {**result.__dict__, "path": str(result.path)}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(
        f"bundle {result.bundle_id} for {network}, number {result.sequence}: "
        f"{result.messages} message(s), {result.legs} leg(s) -> {file}"
    )


@bundle_cli.command("import")
@settings_options
@json_option
@click.option(
    "--receipt",
    type=_FILE,
    help="Also write a receipt bundle for the way back to the sending hub.",
)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def import_command(file: Path, receipt: Path | None, as_json: bool, **options: Any) -> None:
    """Verify FILE and take its messages into delivery here (or settle the legs a receipt
    names); refused as a whole when anything about the file is wrong."""
    with _hub(options) as runtime:
        result = _importer(runtime).import_file(file, receipt)
    if result.missing:
        click.echo(
            f"warning: bundle number {result.sequence} from {result.from_network}: never "
            f"imported before it: {', '.join(map(str, result.missing))}",
            err=True,
        )
    if as_json:
        summary = {**result.__dict__, "receipt": str(result.receipt) if result.receipt else None}
        click.echo(json.dumps(summary, indent=2))
        return
    counts = ", ".join(f"{value} {name}" for name, value in result.counts.items())
    click.echo(
        f"imported {result.kind} bundle {result.bundle_id} from {result.from_network}, "
        f"number {result.sequence}: {counts}"
    )
    if result.receipt is not None:
        click.echo(f"receipt for {result.from_network} -> {result.receipt}")


@bundle_cli.command("receipt")
@settings_options
@click.argument("bundle_id")
@click.argument("file", type=_FILE)
def receipt_command(bundle_id: str, file: Path, **options: Any) -> None:
    """Write the receipt of an imported bundle again (the first medium was lost)."""
    with _hub(options) as runtime:
        sequence = _importer(runtime).write_receipt(bundle_id, file)
    click.echo(f"receipt number {sequence} for bundle {bundle_id} -> {file}")


@bundle_cli.command("list")
@settings_options
@json_option
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_command(limit: int, as_json: bool, **options: Any) -> None:
    """The bundles this hub wrote and imported, newest first, with numbers and counts."""
    from hub.bundle.ledger import recent

    with migrated_store(options) as (_, store):
        rows = recent(store, limit)
    if as_json:
        click.echo(json.dumps([row.__dict__ for row in rows], indent=2))
        return
    if not rows:
        click.echo("no bundle written or imported")
    for row in rows:
        way = "to  " if row.direction == "export" else "from"
        counts = " ".join(f"{name}={value}" for name, value in row.summary.items())
        click.echo(
            f"{row.at[:19]}  {row.direction:<6} {row.kind:<8} {way} {row.network:<12} "
            f"#{row.sequence:<5} {row.bundle_id}  {counts}"
        )


def _importer(runtime: Any) -> Any:
    from hub.bundle.importing import BundleImporter

    return BundleImporter(
        runtime.settings, runtime.store, runtime.ingress, runtime.departments, runtime.publisher
    )


@contextmanager
def _hub(options: dict[str, Any]) -> Iterator[Any]:
    """The hub's runtime (its live departments, routes and bus), without its workers; every
    refusal one clean line."""
    from hub.errors import HubError
    from hub.runtime import HubRuntime

    logs.configure(options.get("log_level", "INFO"))
    try:
        runtime = HubRuntime(build_settings(**options))
    except HubError as error:
        raise click.ClickException(str(error)) from error
    try:
        yield runtime
    except HubError as error:
        raise click.ClickException(f"refused ({error.code}): {error.message}") from error
    finally:
        runtime.close()
