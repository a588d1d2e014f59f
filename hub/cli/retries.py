"""`govhub retries pause|resume|list`: hold every delivery to a department, and let it go.

Every running worker honours a pause or a resume at its relay's next pass (about a second);
see docs/observability.md and hub/observability/pauses.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from hub.cli.options import actor_option, json_option, migrated_store, settings_options
from hub.observability.pauses import Pause, RetryPauses


@contextmanager
def _pauses(options: dict[str, Any]) -> Iterator[RetryPauses]:
    from hub.runtime import configuration_loader

    with migrated_store(options) as (settings, store):
        loader = configuration_loader(settings, store)
        yield RetryPauses(store.engine, known=lambda: loader.load().departments.codes())


@click.group("retries")
def retries_cli() -> None:
    """Pause and resume the deliveries (retries and first attempts) to a department."""


@retries_cli.command("pause")
@settings_options
@actor_option
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@click.argument("department")
def pause_command(department: str, actor: str, reason: str, **options: Any) -> None:
    """Hold every delivery to DEPARTMENT until resumed; nothing is failed or lost."""
    with _pauses(options) as pauses:
        pause = pauses.pause(department, actor=actor, reason=reason)
    click.echo(f"deliveries to {pause.department} paused by {pause.paused_by}: {pause.reason}")


@retries_cli.command("resume")
@settings_options
@actor_option
@click.argument("department")
def resume_command(department: str, actor: str, **options: Any) -> None:
    """Let DEPARTMENT's deliveries go again: what waited is sent at once."""
    with _pauses(options) as pauses:
        lifted = pauses.resume(department, actor=actor)
    click.echo(f"deliveries to {lifted.department} resumed by {actor}")


@retries_cli.command("list")
@settings_options
@json_option
def list_command(as_json: bool, **options: Any) -> None:
    """The paused departments, who paused each, when and why."""
    with _pauses(options) as pauses:
        listed = pauses.all_pauses()
    if as_json:
        click.echo(json.dumps([_as_dict(p) for p in listed], indent=2))
        return
    if not listed:
        click.echo("no department is paused")
    for pause in listed:
        at = pause.paused_at.isoformat(timespec="seconds")
        click.echo(f"{pause.department}  paused by {pause.paused_by} at {at}: {pause.reason}")


def _as_dict(pause: Pause) -> dict[str, str]:
    return {
        "department": pause.department,
        "pausedBy": pause.paused_by,
        "pausedAt": pause.paused_at.isoformat(),
        "reason": pause.reason,
    }
