"""`govhub departments …` and `govhub routes …`: register, check, list, show, disable,
enable and roll back departments; list, add and remove routes. Changes reach every running
hub process within seconds (announced on the bus, polled otherwise); no restart."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from hub.cli.options import actor_option, json_option, migrated_store, settings_options
from hub.conditions import parse_condition
from hub.configuration.admin import ConfigurationAdmin, Outcome
from hub.configuration.package import read_package
from hub.configuration.views import department_detail, department_rows, route_rows
from hub.errors import ConfigurationError, NotFound, RegistrationRefused
from hub.routing import ROLES, Role

EXIT_REFUSED = 2
_probe_option = click.option(
    "--probe",
    is_flag=True,
    help="Also try to connect to the department's endpoint; says only reachable or not.",
)


@contextmanager
def _admin(options: dict[str, Any], as_json: bool = False) -> Iterator[ConfigurationAdmin]:
    """The configuration admin for one command; a refusal lists every reason and exits 2."""
    from hub.runtime import configuration_admin, configuration_loader

    with migrated_store(options) as (settings, store):
        try:
            yield configuration_admin(settings, configuration_loader(settings, store))
        except RegistrationRefused as refused:  # before migrated_store makes it one line
            _refused(refused, as_json)


@click.group("departments")
def departments_cli() -> None:
    """Departments: register a department package, list, show, disable, enable, roll back."""


@departments_cli.command("check")
@settings_options
@json_option
@_probe_option
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def check_command(path: Path, as_json: bool, probe: bool, **options: Any) -> None:
    """Run every registration check on the package at PATH (a folder or .zip); store nothing.

    Exit 0 when it would be accepted (warnings are printed), 2 with every reason when not."""
    with _admin(options, as_json) as admin:
        outcome = admin.check(read_package(path), probe_endpoint=probe)
        outcome.note = f"every check passed; registering it would make version {outcome.version}"
        if as_json:
            _print_outcome(outcome, as_json)
            return
        for warning in outcome.warnings:
            click.echo(f"warning: {warning}", err=True)
        _print_endpoint(outcome)
        click.echo(f"{outcome.subject}: {outcome.note}")


@departments_cli.command("register")
@settings_options
@json_option
@actor_option
@_probe_option
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def register_command(path: Path, as_json: bool, actor: str, probe: bool, **options: Any) -> None:
    """Check the package at PATH and make it the department's newest active version.

    Every running hub process uses it within seconds; nothing is restarted. A package that
    fails a check is refused with all its reasons (exit 2) and nothing changes."""
    with _admin(options, as_json) as admin:
        _print_outcome(admin.register(read_package(path), actor, probe_endpoint=probe), as_json)


@departments_cli.command("list")
@settings_options
@json_option
def list_command(as_json: bool, **options: Any) -> None:
    """Every department: where it is defined, its version, enabled or not."""
    with _admin(options, as_json) as admin:
        rows = department_rows(admin.current())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        version = f"v{row['version']}" if row["version"] else "file"
        state = "enabled" if row["enabled"] else "DISABLED"
        click.echo(f"{row['code']:<22} {version:<6} {state:<9} {row['adapter']:<6} {row['name']}")


@departments_cli.command("show")
@settings_options
@json_option
@click.argument("code")
def show_command(code: str, as_json: bool, **options: Any) -> None:
    """One department: settings, routes, mappings in use, every registered version."""
    with _admin(options, as_json) as admin:
        configuration = admin.current()
        if code not in configuration.departments:
            known = ", ".join(configuration.departments.codes())
            raise NotFound(f"no department {code}; known: {known}")
        view = department_detail(configuration, code, admin.versions(code))
    if as_json:
        click.echo(json.dumps(view, ensure_ascii=False, indent=2))
        return
    for key, value in view.items():
        if isinstance(value, list):
            click.echo(f"{key}:")
            for item in value:
                click.echo(f"  {_line(item)}")
        else:
            click.echo(f"{key}: {value}")


@departments_cli.command("disable")
@settings_options
@json_option
@actor_option
@click.argument("code")
def disable_command(code: str, as_json: bool, actor: str, **options: Any) -> None:
    """Stop routing to and accepting from CODE; what was accepted for it is still delivered."""
    with _admin(options, as_json) as admin:
        _print_outcome(admin.set_enabled(code, False, actor), as_json)


@departments_cli.command("enable")
@settings_options
@json_option
@actor_option
@click.argument("code")
def enable_command(code: str, as_json: bool, actor: str, **options: Any) -> None:
    """Route to and accept from CODE again."""
    with _admin(options, as_json) as admin:
        _print_outcome(admin.set_enabled(code, True, actor), as_json)


@departments_cli.command("rollback")
@settings_options
@json_option
@actor_option
@click.argument("code")
@click.option("--to-version", "version", type=int, required=True, help="A registered version.")
def rollback_command(code: str, version: int, as_json: bool, actor: str, **options: Any) -> None:
    """Make an earlier registered version of CODE the active one again (new messages use
    it; every version stays kept for replay)."""
    with _admin(options, as_json) as admin:
        _print_outcome(admin.rollback(code, version, actor), as_json)


@click.group("routes")
def routes_cli() -> None:
    """Routes: which department sends and which receives each message type."""


@routes_cli.command("list")
@settings_options
@json_option
@click.option("--type", "message_type", help="Only this message type.")
def routes_list_command(as_json: bool, message_type: str | None, **options: Any) -> None:
    """Every route in force, where it comes from (file, package, admin), and its condition."""
    with _admin(options, as_json) as admin:
        configuration = admin.current()
    rows = [r for r in route_rows(configuration) if message_type in (None, r["message_type"])]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        when = f"  when {row['when']}" if row["when"] else ""
        off = "  (department disabled)" if not row["enabled"] else ""
        click.echo(
            f"{row['message_type']:<22} {row['role']:<8} {row['department']:<22} "
            f"[{row['origin']}]{when}{off}"
        )


@routes_cli.command("add")
@settings_options
@json_option
@actor_option
@click.argument("message_type")
@click.argument("role", type=click.Choice(ROLES))
@click.argument("department")
@click.option(
    "--when-path", help="Condition: a canonical XPath (prefix c), e.g. c:registrationOffice"
)
@click.option(
    "--prefix",
    "prefixes",
    multiple=True,
    help="Condition: the value starts with this; repeat it for several (any one matches).",
)
@click.option("--equals", help="Condition: the value is exactly this.")
def routes_add_command(
    message_type: str,
    role: Role,
    department: str,
    when_path: str | None,
    prefixes: tuple[str, ...],
    equals: str | None,
    as_json: bool,
    actor: str,
    **options: Any,
) -> None:
    """Let DEPARTMENT send or receive MESSAGE_TYPE, e.g.
    `govhub routes add MarriageRegistered receives PUBLIC_SECURITY --when-path
    c:registrationOffice --prefix 3201 --actor admin`."""
    with _admin(options, as_json) as admin:
        condition = None
        if when_path:
            raw: dict[str, Any] = {"path": when_path}
            if prefixes:
                raw["prefix"] = list(prefixes)
            if equals is not None:
                raw["equals"] = equals
            condition = parse_condition(raw, "--when-path")
        elif prefixes or equals:
            raise ConfigurationError("--prefix and --equals need --when-path")
        outcome = admin.add_route(message_type, department, role, actor, condition)
        _print_outcome(outcome, as_json)


@routes_cli.command("remove")
@settings_options
@json_option
@actor_option
@click.argument("message_type")
@click.argument("role", type=click.Choice(ROLES))
@click.argument("department")
def routes_remove_command(
    message_type: str, role: Role, department: str, as_json: bool, actor: str, **options: Any
) -> None:
    """Stop DEPARTMENT sending or receiving MESSAGE_TYPE (whichever file or package said so)."""
    with _admin(options, as_json) as admin:
        _print_outcome(admin.remove_route(message_type, department, role, actor), as_json)


# -- printing -----------------------------------------------------------------------------


def _line(item: Any) -> str:
    if isinstance(item, dict):
        return "  ".join(f"{key}={value}" for key, value in item.items() if value is not None)
    return str(item)


def _print_outcome(outcome: Outcome, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(vars(outcome), ensure_ascii=False, indent=2))
        return
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    _print_endpoint(outcome)
    what = "changed" if outcome.changed else "no change"
    version = f", version {outcome.version}" if outcome.version else ""
    generation = f", configuration generation {outcome.generation}" if outcome.generation else ""
    note = f" ({outcome.note})" if outcome.note else ""
    click.echo(f"{outcome.subject}: {what}{version}{generation}{note}")


def _print_endpoint(outcome: Outcome) -> None:
    if outcome.endpoint is not None:
        click.echo(f"endpoint: {outcome.endpoint}")


def _refused(refused: RegistrationRefused, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"refused": refused.message, "reasons": refused.reasons}, indent=2))
    else:
        subject = refused.message.split(" refused:", 1)[0]
        click.echo(f"{subject} refused; nothing changed:", err=True)
        for reason in refused.reasons:
            click.echo(f"  - {reason}", err=True)
    sys.exit(EXIT_REFUSED)
