"""`govhub tracker PERSON` (a person's data trail, for an operator with the tracker
permission) and `govhub exemptions grant` (keep a department's access from the person's view
until a date); docs/tracker.md."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import click

from hub.cli.options import actor_option, json_option, migrated_store, settings_options
from hub.errors import HubError
from hub.operations.timeparse import parse_time
from hub.tracker import TrailEntry
from hub.tracker.pdf import write_pdf
from hub.tracker.service import build_tracker


@click.command("tracker")
@settings_options
@json_option
@actor_option
@click.argument("person", metavar="ID_NUMBER")
@click.option("--since", help="Only entries at or after: ISO 8601 (UTC) or an age (2h, 30d).")
@click.option(
    "--pdf",
    "pdf_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the trail to this PDF file.",
)
def tracker_command(
    as_json: bool,
    actor: str,
    person: str,
    since: str | None,
    pdf_file: Path | None,
    **options: Any,
) -> None:
    """Who received or read PERSON's data, when and why: messages, queries, reveals and
    replays, newest first. Needs an admin account (--actor) with the tracker permission;
    every use is audited."""
    if as_json and pdf_file is not None:
        raise click.UsageError("--json and --pdf: choose one")
    with migrated_store(options) as (settings, store):
        tracker = build_tracker(settings, store)
        start = parse_time(since, store.clock()) if since else None
        try:
            entries = tracker.for_operator(actor, person.strip(), since=start, via="cli")
        except HubError as error:
            raise click.ClickException(str(error)) from error
        printed_at = store.clock()
    if as_json:
        click.echo(json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=2))
    elif pdf_file is not None:
        write_pdf(pdf_file, person.strip(), entries, printed_at=printed_at)
        click.echo(f"{len(entries)} entries written to {pdf_file}")
    else:
        _print(entries)


def _print(entries: list[TrailEntry]) -> None:
    if not entries:
        click.echo("no entry: the hub holds no exchange about this person")
    for entry in entries:
        reached = ", ".join(f"{leg.department} {leg.state}" for leg in entry.legs)
        click.echo(
            f"{entry.at.isoformat(timespec='seconds')}  {entry.kind:<7}  {entry.actor:<18}  "
            f"{entry.what}  -> {reached or '-'}  {entry.purpose}  [{entry.reference}]"
        )
        for exemption in entry.confidential:
            click.echo(
                f"    CONFIDENTIAL ({exemption.department} until "
                f"{exemption.until:%Y-%m-%d}, granted by {exemption.granted_by}): "
                f"{exemption.reason}"
            )


@click.group("exemptions")
def exemptions_cli() -> None:
    """Keep an investigating department's access from a citizen's data tracker until a date."""


@exemptions_cli.command("grant")
@settings_options
@actor_option
@click.argument("person", metavar="ID_NUMBER")
@click.option("--department", required=True, help="The department whose access is withheld.")
@click.option(
    "--until",
    "until_day",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Withheld until this day (UTC midnight), e.g. when the case closes.",
)
@click.option("--reason", required=True, help="Why; operators see it beside the entries.")
def grant_command(
    actor: str,
    person: str,
    department: str,
    until_day: datetime,
    reason: str,
    **options: Any,
) -> None:
    """Withhold DEPARTMENT's access to ID_NUMBER's data from that person's view until a day.
    Only an operator the tracker rules name for DEPARTMENT may (audited)."""
    until = datetime.combine(date.fromordinal(until_day.toordinal()), time(), tzinfo=UTC)
    with migrated_store(options) as (settings, store):
        try:
            exemption = build_tracker(settings, store).exemptions.grant(
                person.strip(), department, until, reason, actor=actor
            )
        except HubError as error:
            raise click.ClickException(str(error)) from error
    click.echo(
        f"{exemption.department}'s access withheld from the person's view until "
        f"{exemption.until:%Y-%m-%d} (granted by {exemption.granted_by})"
    )
