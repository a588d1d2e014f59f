"""`govhub batch template|check|submit|commit|show`: spreadsheets of records (hub/batch)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from hub import logs
from hub.cli.options import (
    actor_option,
    build_settings,
    json_option,
    migrated_store,
    settings_options,
)
from hub.config import Settings
from hub.errors import BatchInvalid, HubError

F = TypeVar("F", bound=Callable[..., Any])


report_option = click.option(
    "--xlsx",
    "xlsx_report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report: the clerk's file with failing cells red, and a summary sheet.",
)


def batch_file_options(command: F) -> F:
    """FILE, --sender, --type and --rules: what `batch check` and `batch submit` read."""
    options = [
        click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        click.option("--sender", required=True, help="The department whose batch it is."),
        click.option("--type", "message_type", help="Message type. [default: the sheet's name]"),
        click.option("--rules", "rules_ref", help="Rule set NAME or NAME@VERSION to check by."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group("batch")
def batch_cli() -> None:
    """Spreadsheets of records: a template to fill, a check of every row before sending."""


@batch_cli.command("template")
@click.argument("message_type")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sender", help="The department that fills it: headers in its language.")
def template(message_type: str, target: Path, sender: str | None) -> None:
    """Write an empty MESSAGE_TYPE workbook to TARGET (.xlsx): a header row with a note per
    column, drop-downs for code tables, date cells."""
    from hub.batch import write_template

    try:
        write_template(message_type, target, sender)
    except HubError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"wrote {target}")


@batch_cli.command("check")
@batch_file_options
@report_option
@json_option
@settings_options
def check(
    file: Path,
    sender: str,
    message_type: str | None,
    rules_ref: str | None,
    xlsx_report: Path | None,
    as_json: bool,
    log_level: str,
    **options: Any,
) -> None:
    """Check every row of FILE (.xlsx, or .csv in UTF-8 or GB18030) as the hub would, and by
    the rule set; nothing is sent. Exit 1 if any row fails."""
    from hub.batch import check_file, write_report
    from hub.validate import HubRules

    logs.configure("WARNING" if log_level == "INFO" else log_level)
    with migrated_store(options) as (settings, store):  # rule sets live in the database
        hub_rules = HubRules.from_settings(settings)
        layout, rule_set = _checked(hub_rules, store.engine, file, sender, message_type, rules_ref)
        report = check_file(file, layout, hub_rules.schemas, rule_set)
        if xlsx_report is not None:
            write_report(file, layout, report, xlsx_report)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        checked_by = f", rule set {report.rule_set}" if report.rule_set else ""
        click.echo(
            f"{file}: {report.rows} rows, {report.passed} pass, {report.failed} fail{checked_by}"
        )
        for f in report.failures:
            click.echo(f"  row {f.row} {f.column or '(record)'}: {f.rule}: {f.message} [{f.value}]")
    sys.exit(0 if report.failed == 0 else 1)


def _sheet_type(file: Path) -> str:
    """A workbook made from the template names its type in its sheet; a CSV file cannot."""
    if file.suffix.lower() == ".csv":
        raise click.UsageError("a CSV batch needs --type MESSAGE_TYPE")
    from hub.batch.reading import sheet_name

    return sheet_name(file)


@batch_cli.command("submit")
@batch_file_options
@click.option("--hold", is_flag=True, help="Keep it for a reviewer: `batch commit` sends it.")
@actor_option
@settings_options
def submit(
    file: Path,
    sender: str,
    message_type: str | None,
    rules_ref: str | None,
    hold: bool,
    actor: str,
    log_level: str,
    **options: Any,
) -> None:
    """Check FILE as `batch check` does, record it as a batch, and (unless --hold) send the
    rows that pass as ordinary messages. Prints the batch id."""
    from hub.batch.intake import Filing, file_batch

    logs.configure("WARNING" if log_level == "INFO" else log_level)
    settings = build_settings(**options)
    try:
        with _hub(settings) as ingress:
            kind = message_type or _sheet_type(file)
            batch = file_batch(ingress, file, Filing(sender, kind, rules_ref, hold, actor))
            report = batch.report
            click.echo(f"batch {batch.batch_id}: {report.rows} rows, {report.passed} pass")
            if not hold:
                click.echo(_sent(batch))
    except HubError as error:
        raise click.ClickException(str(error)) from error


@batch_cli.command("commit")
@click.argument("batch_id")
@click.option(
    "--exclude", default="", help="Rows not to send, e.g. 7,12 (as the sheet numbers them)."
)
@click.option("--reason", default="", help="Why those rows are excluded (kept with the batch).")
@actor_option
@settings_options
def commit(
    batch_id: str, exclude: str, reason: str, actor: str, log_level: str, **options: Any
) -> None:
    """Send a held batch's passing rows, less the excluded ones; who excluded what and why is
    kept with the batch."""
    logs.configure("WARNING" if log_level == "INFO" else log_level)
    try:
        rows = tuple(int(n) for n in exclude.replace(" ", "").split(",") if n)
    except ValueError as exc:
        raise click.BadParameter(f"{exclude}: rows are numbers, e.g. 7,12") from exc
    if rows and not reason:
        raise click.UsageError("--exclude needs --reason: every exclusion says why")
    settings = build_settings(**options)
    try:
        with _hub(settings) as ingress:
            _commit(ingress, batch_id, rows, actor, reason)
    except HubError as error:
        raise click.ClickException(str(error)) from error


@batch_cli.command("show")
@click.argument("batch_id")
@report_option
@json_option
@settings_options
def show(
    batch_id: str, xlsx_report: Path | None, as_json: bool, log_level: str, **options: Any
) -> None:
    """A batch's state, counts, failures and exclusions."""
    from hub.batch import layout_for, write_report
    from hub.batch.ledger import BatchLedger

    with migrated_store(options) as (_, store):
        batch = BatchLedger(store.engine).get(batch_id)
        if xlsx_report is not None:
            if not Path(batch.file).is_file():  # the report is drawn on the clerk's file
                raise BatchInvalid(f"{batch.file}, the file of batch {batch_id}, is gone")
            layout = layout_for(batch.report.message_type)
            write_report(Path(batch.file), layout, batch.report, xlsx_report)
    if as_json:
        click.echo(json.dumps(batch.as_dict(), ensure_ascii=False, indent=2))
        return
    report = batch.report
    click.echo(f"batch {batch.batch_id} ({batch.state}) from {batch.sender}: {batch.file}")
    click.echo(
        f"  {report.rows} rows, {report.passed} pass, {report.failed} fail; "
        f"rule set {report.rule_set or 'none'}"
    )
    if batch.committed_by:
        click.echo(
            f"  committed by {batch.committed_by} at {batch.committed_at}: "
            f"{batch.sent} sent, {batch.repeats} already sent"
        )
    for e in batch.exclusions:
        click.echo(f"  row {e.row} excluded by {e.actor}: {e.reason}")


def _commit(
    ingress: Any,
    batch_id: str,
    exclude: tuple[int, ...],
    actor: str,
    reason: str,
) -> None:
    from hub.batch.intake import commit_held

    click.echo(_sent(commit_held(ingress, batch_id, exclude, actor, reason)))


def _sent(batch: Any) -> str:
    return f"batch {batch.batch_id} committed: {batch.sent} rows sent, {batch.repeats} already sent"


def _checked(
    hub_rules: Any,
    engine: Engine,
    file: Path,
    sender: str,
    message_type: str | None,
    rules_ref: str | None,
) -> tuple[Any, Any]:
    """The batch's layout and rule set (hub/batch/intake.py)."""
    from hub.batch.intake import layout_and_rules

    return layout_and_rules(hub_rules, engine, sender, message_type or _sheet_type(file), rules_ref)


@contextmanager
def _hub(settings: Settings) -> Iterator[Any]:
    """The hub's ingress (its store, bus and configuration), as `govhub serve` runs it."""
    from hub.runtime import HubRuntime

    runtime = HubRuntime(settings)
    try:
        yield runtime.ingress
    finally:
        runtime.close()
