"""`govhub rules register|set|show|history|diff`: the versioned rule sets batches are
checked by (hub/batch)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from hub.cli.options import (
    actor_option,
    json_option,
    migrated_store,
    settings_options,
)

reason_option = click.option("--reason", required=True, help="Why (kept with the version).")


@contextmanager
def _book(options: dict[str, Any]) -> Iterator[Any]:
    """The hub's rule sets (in its database); a HubError becomes a clean CLI message."""
    from hub.batch import RuleBook

    with migrated_store(options) as (_, store):
        yield RuleBook(store.engine)


def _recorded(options: dict[str, Any], change: Callable[[Any], Any]) -> None:
    """Make a new version by ``change`` and enter it in the hub's audit log."""
    from hub.batch.audit_trail import record_rule_version

    with _book(options) as book:
        version = change(book)
        record_rule_version(book.engine, version)
    click.echo(f"registered {version.rule_set.label}")


@click.group("rules")
def rules_cli() -> None:
    """Rule sets: which rows of a batch pass, as data; every change a new version."""


@rules_cli.command("register")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@actor_option
@reason_option
@settings_options
def register(file: Path, actor: str, reason: str, log_level: str, **options: Any) -> None:
    """Register the rule set FILE (TOML) as its next version; refused unless every rule
    compiles and the set's own examples pass."""
    _recorded(options, lambda book: book.register(file.read_text("utf-8"), actor, reason))


@rules_cli.command("set")
@click.argument("name")
@click.argument("changes", nargs=-1, required=True)
@actor_option
@reason_option
@settings_options
def set_parameters(
    name: str, changes: tuple[str, ...], actor: str, reason: str, log_level: str, **options: Any
) -> None:
    """Change parameters of NAME (PARAM=VALUE, VALUE in TOML: 22, "110105", [1, 2]): a new
    version, in force for the next check without a restart."""
    parsed = {}
    for change in changes:
        key, _, value = change.partition("=")
        try:
            parsed[key] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError as exc:
            raise click.BadParameter(f"{change}: the value is not TOML ({exc})") from exc
    _recorded(options, lambda book: book.set_parameters(name, parsed, actor, reason))


@rules_cli.command("show")
@click.argument("reference")
@json_option
@settings_options
def show(reference: str, as_json: bool, log_level: str, **options: Any) -> None:
    """Show rule set NAME or NAME@VERSION: who made it, why, its parameters and rules."""
    from hub.batch import parse_reference

    with _book(options) as book:
        entry = book.entry(*parse_reference(reference))
    definition = entry.rule_set.definition()
    if as_json:
        made = {"version": entry.version, "actor": entry.actor, "reason": entry.reason}
        click.echo(json.dumps({**made, "at": entry.at, **definition}, ensure_ascii=False))
        return
    click.echo(f"{entry.rule_set.label} by {entry.actor} at {entry.at}: {entry.reason}")
    for key, value in definition["parameters"].items():
        click.echo(f"  {key} = {value!r}")
    for rule in entry.rule_set.rules:
        click.echo(f"  {rule.id}: {rule.expression}  ({rule.message})")


@rules_cli.command("history")
@click.argument("name")
@settings_options
def history(name: str, log_level: str, **options: Any) -> None:
    """Every version of NAME: when, who and why."""
    with _book(options) as book:
        versions = book.history(name)
    if not versions:
        raise click.ClickException(f"there is no rule set {name}")
    for v in versions:
        click.echo(f"{v.rule_set.label}  {v.at}  {v.actor}: {v.reason}")


@rules_cli.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--against",
    required=True,
    help="A batch (its id) or a batch file whose rows to check under both versions.",
)
@settings_options
def diff(old: str, new: str, against: str, log_level: str, **options: Any) -> None:
    """The rows of a batch whose outcome OLD and NEW (NAME@VERSION) disagree on."""
    from hub.batch import parse_reference, rule_diff
    from hub.batch.ledger import BatchLedger
    from hub.schemas import SchemaRegistry

    with _book(options) as book:
        before, after = book.get(*parse_reference(old)), book.get(*parse_reference(new))
        batch_file = Path(against)
        if not batch_file.is_file():  # a batch's id: the file it was filed from
            batch_file = Path(BatchLedger(book.engine).get(against).file)
        changed = rule_diff(before, after, batch_file, SchemaRegistry())
    click.echo(f"{len(changed)} rows change outcome from {before.label} to {after.label}")
    for row in changed:
        was, now = ", ".join(row.before) or "pass", ", ".join(row.after) or "pass"
        click.echo(f"  row {row.row}: {was} -> {now}")
