"""Operator commands: `govhub messages list|show`, `replay`, `trace`, `prune`.

Exit codes: 0 done, 1 nothing matched or not found, 2 usage (bad option or filter),
3 the hub's database cannot be read (not reachable, or not migrated: `govhub db upgrade`).
Identity numbers are masked in all output unless --reveal, which needs --reason and writes a
``reveal`` audit entry per message shown (--actor, default your login).
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, NoReturn

import click
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hub import logs
from hub.cli.options import (
    F,
    build_settings,
    json_option,
    no_database_hint,
    settings_options,
)
from hub.config import Settings
from hub.errors import ClientError, HubError, NotFound
from hub.federation.trace import federation_lines, federation_trace
from hub.identity import mask_in_text
from hub.operations import render
from hub.operations.prune import prune as run_prune
from hub.operations.queries import list_messages
from hub.operations.replay import ReplayRequest
from hub.operations.replay import replay as run_replay
from hub.operations.reveal import reason_for_reveal, record_reveal
from hub.operations.show import show_message
from hub.operations.timeparse import parse_time
from hub.operations.trace import trace as run_trace
from hub.operations.views import FILTER_STATES, MessageFilter, to_jsonable
from hub.security.payloads import payload_sealer
from hub.store import Store

EXIT_NOTHING, EXIT_USAGE, EXIT_DATABASE = 1, 2, 3


def filter_options(command: F) -> F:
    options = [
        click.option("--state", type=click.Choice(FILTER_STATES), help="A leg in this state."),
        click.option("--department", help="A leg to this department (code)."),
        click.option("--type", "message_type", help="Message type, e.g. MarriageRegistered."),
        click.option("--since", help="Received at or after: ISO 8601 (UTC) or an age (2h, 7d)."),
        click.option("--until", help="Received before: ISO 8601 (UTC) or an age (30m)."),
        click.option("--person", metavar="IDNUMBER", help="Names this identity number."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def reveal_options(command: F) -> F:
    options = [
        click.option(
            "--reveal", is_flag=True, help="Show identity numbers in clear (needs --reason)."
        ),
        click.option("--reason", default="", help="Why --reveal (kept in the audit log)."),
        click.option("--actor", default=None, help="Who, for the audit log. [default: your login]"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _revealing(reveal: bool, reason: str) -> str | None:
    """The reason when --reveal is given (refused without one, before anything is read)."""
    if not reveal:
        return None
    try:
        return reason_for_reveal(reason)
    except ClientError as error:
        raise click.UsageError(f"{error} (--reveal --reason TEXT)") from error


def _record_reveal(
    store: Store, why: str | None, actor: str | None, message_ids: list[str], via: str
) -> None:
    if why is not None:
        record_reveal(store, actor=actor or _login(), message_ids=message_ids, reason=why, via=via)


@click.group()
def messages() -> None:
    """Browse the message log: every message, every leg, every attempt."""


@messages.command("list")
@settings_options
@filter_options
@click.option("--limit", default=50, show_default=True, help="At most this many, newest first.")
@json_option
@reveal_options
def list_command(
    as_json: bool,
    reveal: bool,
    reason: str,
    actor: str | None,
    limit: int,
    log_level: str,
    **options: Any,
) -> None:
    """List messages, newest first, with the state of each leg."""
    why = _revealing(reveal, reason)
    with _session(log_level, options) as (_settings, store):
        wanted = _filter(store, options, limit)
        found = list_messages(store, wanted)
        if not found:
            _nothing("no message matches these filters")
        _record_reveal(store, why, actor, [m.message_id for m in found], "messages list")
        if as_json:
            _echo_json(found, reveal)
        else:
            click.echo(render.message_table(found, reveal=reveal))


@messages.command("show")
@settings_options
@click.argument("message_id")
@json_option
@reveal_options
def show_command(
    message_id: str,
    as_json: bool,
    reveal: bool,
    reason: str,
    actor: str | None,
    log_level: str,
    **options: Any,
) -> None:
    """Show one message: every leg, every attempt, the payload as received and as delivered."""
    why = _revealing(reveal, reason)
    with _session(log_level, options) as (_settings, store):
        detail = show_message(store, message_id, reveal=reveal)
        _record_reveal(store, why, actor, [detail.summary.message_id], "messages show")
        if as_json:
            _echo_json(detail, reveal)
        else:
            click.echo(render.message_detail(detail))


@click.command()
@settings_options
@click.argument("message_ids", nargs=-1)
@filter_options
@click.option("--limit", type=int, help="Bulk replay: at most this many legs.")
@click.option(
    "--reason", default="", help="Why (kept in the audit trail; required unless dry run)."
)
@click.option("--actor", default=None, help="Who, for the audit trail. [default: your login]")
@click.option("--dry-run", is_flag=True, help="Say what would be replayed; change nothing.")
@click.option(
    "--pin-mapping", is_flag=True, help="Map with the version recorded at first delivery."
)
@click.option("--batch", "batch_size", type=int, help="Legs released to the relay together.")
@json_option
def replay(
    message_ids: tuple[str, ...],
    limit: int | None,
    reason: str,
    actor: str | None,
    dry_run: bool,
    pin_mapping: bool,
    batch_size: int | None,
    as_json: bool,
    log_level: str,
    **options: Any,
) -> None:
    """Deliver again: the failed (or retrying) legs of MESSAGE_IDS, or with no ids every leg
    matching the filters (--state failed by default). Delivered legs are never replayed."""
    with _session(log_level, options) as (settings, store):
        if message_ids and any(options[k] for k in ("since", "until", "person", "message_type")):
            raise click.UsageError("give message ids or filters (--department aside), not both")
        request = ReplayRequest(
            actor=actor or _login(),
            reason=reason,
            message_ids=message_ids,
            wanted=_filter(store, options, 1),
            dry_run=dry_run,
            pin_mapping=pin_mapping,
            max_legs=limit,
            batch_size=batch_size or settings.replay_batch_size,
            batch_interval_seconds=settings.replay_batch_interval_seconds,
        )
        report = run_replay(store, _department_codes(settings, store), request)
        if as_json:
            _echo_json(report, reveal=True)
        else:
            click.echo(render.replay_lines(report))
        if not report.outcomes or report.not_found:
            sys.exit(EXIT_NOTHING)


@click.command()
@settings_options
@click.argument("key")
@json_option
@reveal_options
def trace(
    key: str,
    as_json: bool,
    reveal: bool,
    reason: str,
    actor: str | None,
    log_level: str,
    **options: Any,
) -> None:
    """Did every department get it? KEY is a message id, a correlation id or an identity
    number (all of that person's messages)."""
    why = _revealing(reveal, reason)
    with _session(log_level, options) as (settings, store):
        answers = run_trace(store, key)
        _record_reveal(store, why, actor, [a.message.message_id for a in answers], f"trace {key}")
        # Legs forwarded to other hubs: what those hubs say now (hub/federation/status.py).
        hubs = federation_trace(settings, store, [a.message.message_id for a in answers])
        if as_json:
            _echo_json(
                [{**to_jsonable(a), "hubs": hubs.get(a.message.message_id, {})} for a in answers]
                if hubs
                else answers,
                reveal,
            )
        else:
            click.echo(render.trace_lines(answers, reveal=reveal))
            for message_id, legs in hubs.items():
                click.echo(_masked(federation_lines(message_id, legs), reveal))


@click.command()
@settings_options
@click.option("--older-than", type=float, help="Body retention in days. [default: setting]")
@click.option(
    "--metadata-older-than",
    type=float,
    help="Also delete settled messages older than this many days. [default: setting; 0 keeps]",
)
@click.option("--batch", "batch_size", type=int, help="Messages per transaction.")
@click.option("--dry-run", is_flag=True, help="Count what would be pruned; change nothing.")
@click.option("--reason", default="manual prune", show_default=True, help="For the audit trail.")
@json_option
def prune(
    older_than: float | None,
    metadata_older_than: float | None,
    batch_size: int | None,
    dry_run: bool,
    reason: str,
    as_json: bool,
    log_level: str,
    **options: Any,
) -> None:
    """Empty the bodies of fully delivered messages older than the retention (hashes and
    metadata stay), in small batches; optionally delete old settled messages entirely."""
    with _session(log_level, options) as (settings, store):
        days = settings.body_retention_days if older_than is None else older_than
        meta = (
            settings.metadata_retention_days if metadata_older_than is None else metadata_older_than
        )
        report = run_prune(
            store,
            bodies_older_than=timedelta(days=days),
            metadata_older_than=timedelta(days=meta) if meta > 0 else None,
            batch_size=batch_size or settings.prune_batch_size,
            dry_run=dry_run,
            actor=_login(),
            reason=reason,
        )
        if as_json:
            _echo_json(report, reveal=True)
        else:
            click.echo(render.prune_line(report))


@contextmanager
def _session(log_level: str, options: dict[str, Any]) -> Iterator[tuple[Settings, Store]]:
    """Settings and store for one command; hub errors become messages and exit codes."""
    logs.configure("WARNING" if log_level == "INFO" else log_level)
    settings = build_settings(
        **{k: options.pop(k) for k in ("data_dir", "database_url", "bus_url")}
    )
    _exit_if_no_database(settings)  # before Store(): SQLite would create an empty file
    store = Store(settings.effective_database_url, sealer=payload_sealer(settings))
    try:
        yield settings, store
    except NotFound as error:
        _nothing(str(error))
    except ClientError as error:
        raise click.UsageError(mask_in_text(str(error))) from error
    except (HubError, SQLAlchemyError) as error:
        _exit_if_no_database(settings, store.engine)
        click.echo(
            "error: cannot read the hub database (is it reachable, and migrated with "
            f"`govhub db upgrade`?): {mask_in_text(str(error).splitlines()[0])}",
            err=True,
        )
        sys.exit(EXIT_DATABASE)
    finally:
        store.dispose()


def _exit_if_no_database(settings: Settings, engine: Engine | None = None) -> None:
    hint = no_database_hint(settings, engine)
    if hint is not None:
        click.echo(f"error: {hint}", err=True)
        sys.exit(EXIT_DATABASE)


def _filter(store: Store, options: dict[str, Any], limit: int) -> MessageFilter:
    now = store.clock()
    since, until = options.get("since"), options.get("until")
    return MessageFilter(
        state=options.get("state"),
        department=options.get("department"),
        message_type=options.get("message_type"),
        since=parse_time(since, now) if since else None,
        until=parse_time(until, now) if until else None,
        person=options.get("person"),
        limit=limit,
    )


def _department_codes(settings: Settings, store: Store) -> set[str]:
    """Every department configured now: the departments file's and the registered ones."""
    from hub.runtime import configuration_loader

    return set(configuration_loader(settings, store).load().departments.codes())


def _masked(text: str, reveal: bool) -> str:
    return text if reveal else mask_in_text(text)


def _echo_json(value: Any, reveal: bool) -> None:
    text = json.dumps(to_jsonable(value), ensure_ascii=False, indent=2)
    click.echo(text if reveal else mask_in_text(text))


def _nothing(message: str) -> NoReturn:
    click.echo(mask_in_text(message), err=True)
    sys.exit(EXIT_NOTHING)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


COMMANDS: dict[str, click.Command] = {
    "messages": messages,
    "replay": replay,
    "trace": trace,
    "prune": prune,
}
