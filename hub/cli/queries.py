"""`govhub queries list|show`: the record of queries answered through Query and QueryAsync
(who asked about whom, which parts, why, what each source answered); docs/queries.md."""

from __future__ import annotations

import json
from typing import Any

import click

from hub.cli.options import json_option, migrated_store, settings_options
from hub.errors import HubError
from hub.query import QueryLog, QueryRecord


@click.group("queries")
def queries_cli() -> None:
    """The record of queries answered by several departments."""


@queries_cli.command("list")
@settings_options
@json_option
@click.option("--requester", help="Only the queries of this department.")
@click.option("--subject", metavar="ID_NUMBER", help="Only the queries about this person.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_command(
    as_json: bool, requester: str | None, subject: str | None, limit: int, **options: Any
) -> None:
    """The newest queries first: when, who, about whom (masked), which parts, why."""
    with migrated_store(options) as (_, store):
        records = QueryLog(store).recent(requester=requester, subject=subject, limit=limit)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in records], ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo("no query recorded")
    for record in records:
        click.echo(
            f"{record.asked_at.isoformat(timespec='seconds')}  {record.id}  {record.requester}"
            f"  {record.subject}  {','.join(record.parts)}  {_state(record)}  {record.purpose}"
        )


@queries_cli.command("show")
@settings_options
@json_option
@click.argument("query_id")
def show_command(as_json: bool, query_id: str, **options: Any) -> None:
    """One query: who asked, about whom, why, and what each source answered."""
    with migrated_store(options) as (_, store):
        try:
            record = QueryLog(store).get(query_id)
        except HubError as error:
            raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(record.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"query      {record.id}")
    click.echo(f"asked at   {record.asked_at.isoformat(timespec='seconds')}")
    click.echo(f"requester  {record.requester}")
    click.echo(f"subject    {record.subject}")
    click.echo(f"purpose    {record.purpose}")
    click.echo(f"answered   {_state(record)} in {record.duration_ms} ms")
    for answer in record.answered:
        click.echo(
            f"  {answer['part']:<16} {answer['department']:<20} {answer['status']:<14}"
            f" {answer['values']} value(s)"
        )


def _state(record: QueryRecord) -> str:
    return "complete" if record.complete else "incomplete"
