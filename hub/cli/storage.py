"""`govhub db compact`: give the space pruning freed back to the disk (hub/store/
compaction.py says what each database locks while it does)."""

from __future__ import annotations

import json
from typing import Any

import click

from hub.cli.options import json_option, migrated_store, settings_options
from hub.store.compaction import compact


@click.command("compact")
@settings_options
@json_option
@click.option(
    "--full",
    is_flag=True,
    help="PostgreSQL: VACUUM FULL, which returns all the space but locks each table (reads "
    "and writes wait) while it is rewritten. SQLite always rewrites the file.",
)
def compact_command(full: bool, as_json: bool, **options: Any) -> None:
    """Return free space to the disk after `govhub prune`. SQLite: VACUUM (writers wait for
    it; needs free disk as large as the database). PostgreSQL: VACUUM (no blocking lock;
    space is reused, little returned) or --full (returns it; each table locked in turn; for
    no downtime use pg_repack instead)."""
    with migrated_store(options) as (_settings, store):
        done = compact(store.engine, full=full)
    if as_json:
        click.echo(json.dumps(done.__dict__))
        return
    mib = 1024 * 1024
    click.echo(
        f"{done.how} on {done.database}: {done.bytes_before / mib:.1f} MiB before, "
        f"{done.bytes_after / mib:.1f} MiB after"
    )
