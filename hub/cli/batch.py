"""`govhub batch template|check`: spreadsheets of records (hub/batch)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from hub import logs
from hub.cli.options import build_settings, json_option, settings_options
from hub.errors import HubError


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
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sender", required=True, help="The department whose batch it is.")
@click.option("--type", "message_type", help="Message type. [default: the sheet's name]")
@click.option("--rules", "rules_ref", help="Rule set NAME or NAME@VERSION to check it by.")
@click.option(
    "--xlsx",
    "xlsx_report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report: the file with failing cells red, and a summary sheet.",
)
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
    from hub.batch import RuleBook, check_file, layout_for, parse_reference, write_report
    from hub.validate import HubRules

    logs.configure("WARNING" if log_level == "INFO" else log_level)
    settings = build_settings(**options)
    try:
        hub_rules = HubRules.from_settings(settings)
        hub_rules.departments.sender(sender)
        kind = message_type or _sheet_type(file)
        hub_rules.routes.receivers_for(sender, kind)  # may this department send it at all?
        rule_set = None
        if rules_ref:
            rule_set = RuleBook(settings.data_dir / "rules").get(*parse_reference(rules_ref))
        layout = layout_for(kind)
        report = check_file(file, layout, hub_rules.schemas, rule_set)
        if xlsx_report is not None:
            write_report(file, layout, report, xlsx_report)
    except HubError as error:
        raise click.ClickException(str(error)) from error
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
