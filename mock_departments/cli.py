"""`govhub mock-departments`: run the four mock departments (or any of them, and household
registration, by name), see what they received, and inject faults. The environment is read
only here (GOVHUB_DATA_DIR, GOVHUB_HUB_URL)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import requests

from hub.config import DEFAULT_DATA_DIR
from hub.errors import HubError
from hub.identity import mask_in_text
from hub.startup.stop_signal import wait_for_stop_signal
from mock_departments.addresses import address_path, read_address
from mock_departments.pusher import DEFAULT_HUB_URL, PushCredentials, load_credentials
from mock_departments.runner import (
    ALL_DEPARTMENTS,
    DEFAULT_HOST,
    DEFAULT_PORTS,
    department_code,
    start_mock_departments,
)
from mock_departments.store import MockStore, store_path

_host_option = click.option(
    "--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on."
)
_hub_url_option = click.option(
    "--hub-url",
    default=DEFAULT_HUB_URL,
    envvar="GOVHUB_HUB_URL",
    show_default=True,
    help="Where the clerks push what they enter.",
)
_data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    envvar="GOVHUB_DATA_DIR",
    show_default=True,
    help="Folder holding mock_departments/<CODE>.db.",
)


@click.group("mock-departments", invoke_without_command=True)
@_host_option
@click.option(
    "--marriage-port",
    type=int,
    default=DEFAULT_PORTS["MARRIAGE_REGISTRY"],
    show_default=True,
    help="Port of the marriage registry (SOAP 1.1, /soap).",
)
@click.option(
    "--social-security-port",
    type=int,
    default=DEFAULT_PORTS["SOCIAL_SECURITY"],
    show_default=True,
    help="Port of social security (SOAP 1.2, /soap).",
)
@click.option(
    "--tax-port",
    type=int,
    default=DEFAULT_PORTS["TAX"],
    show_default=True,
    help="Port of the tax bureau (REST/JSON).",
)
@click.option(
    "--supervision-port",
    type=int,
    default=DEFAULT_PORTS["SUPERVISION"],
    show_default=True,
    help="Port of the supervision office (SOAP 1.1, /soap): receives the hub's signals.",
)
@_data_dir_option
@_hub_url_option
@click.option(
    "--credentials",
    "credentials_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="GOVHUB_MOCK_CREDENTIALS_FILE",
    help="TOML file: [DEPARTMENT] username, secret (from `govhub credentials issue`); "
    "those departments authenticate their pushes.",
)
@click.pass_context
def mock_departments_cli(
    ctx: click.Context,
    host: str,
    marriage_port: int,
    social_security_port: int,
    tax_port: int,
    supervision_port: int,
    data_dir: Path,
    hub_url: str,
    credentials_file: Path | None,
) -> None:
    """Run the four mock departments until Ctrl-C (without a subcommand).

    They take the hub's deliveries, keep what they received in their own SQLite stores,
    and push what their clerks enter (POST /clerk/...) to the hub, retrying while it is down.
    """
    if ctx.invoked_subcommand is not None:
        return
    ports = {
        "MARRIAGE_REGISTRY": marriage_port,
        "SOCIAL_SECURITY": social_security_port,
        "TAX": tax_port,
        "SUPERVISION": supervision_port,
    }
    try:
        credentials = load_credentials(credentials_file) if credentials_file else None
    except HubError as exc:
        raise click.BadParameter(str(exc), param_hint="--credentials") from exc
    _run(data_dir=data_dir, host=host, ports=ports, hub_url=hub_url, credentials=credentials)


@mock_departments_cli.command("serve")
@click.argument("departments", nargs=-1, required=True)
@click.option(
    "--port",
    type=int,
    help="Port to listen on (one department only; default: its own, e.g. 8704).",
)
@_host_option
@_data_dir_option
@_hub_url_option
def serve(
    departments: tuple[str, ...], port: int | None, host: str, data_dir: Path, hub_url: str
) -> None:
    """Run the named mock DEPARTMENTS until Ctrl-C, each on its default port.

    Household registration (PUBLIC_SECURITY, port 8704) runs only this way, e.g.
    `govhub mock-departments serve PUBLIC_SECURITY`. A DEPARTMENT is MARRIAGE_REGISTRY,
    SOCIAL_SECURITY, TAX, SUPERVISION or PUBLIC_SECURITY (or marriage, social-security, tax,
    supervision, household).
    """
    codes = [_code(name) for name in departments]
    if port is not None and len(set(codes)) != 1:
        raise click.UsageError("--port goes with exactly one department")
    ports = {} if port is None else {codes[0]: port}
    _run(data_dir=data_dir, host=host, ports=ports, hub_url=hub_url, codes=codes)


def _run(
    *,
    data_dir: Path,
    host: str,
    ports: dict[str, int],
    hub_url: str,
    codes: list[str] | None = None,
    credentials: dict[str, PushCredentials] | None = None,
) -> None:
    try:
        mocks = start_mock_departments(
            data_dir=data_dir,
            host=host,
            ports=ports,
            hub_url=hub_url,
            codes=codes,
            credentials=credentials,
        )
    except HubError as exc:
        raise click.ClickException(str(exc)) from exc
    with mocks:
        for code, endpoint in mocks.endpoints().items():
            click.echo(f"{code:<18} {endpoint}")
        click.echo(f"pushing to {hub_url}; data in {data_dir}; Ctrl-C to stop")
        _wait_for_interrupt()


def _wait_for_interrupt() -> None:
    wait_for_stop_signal()
    click.echo("stopping")


@mock_departments_cli.command("show")
@click.argument("department")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a summary.")
@click.option("--kind", help="Only records of this kind (e.g. DiZhiBianGeng, marital-event).")
@click.option("--limit", type=int, default=20, show_default=True, help="How many records.")
@click.option("--reveal", is_flag=True, help="Show full identity numbers (masked by default).")
@_data_dir_option
def show(
    department: str, as_json: bool, kind: str | None, limit: int, reveal: bool, data_dir: Path
) -> None:
    """What DEPARTMENT received and what its clerks pushed, read from its store.

    DEPARTMENT is MARRIAGE_REGISTRY, SOCIAL_SECURITY, TAX, SUPERVISION or PUBLIC_SECURITY (or
    marriage, social-security, tax, supervision, household). Identity numbers are masked
    unless --reveal.
    """
    code = _code(department)
    path = store_path(data_dir, code)
    if not path.exists():
        raise click.ClickException(f"{code} has no store at {path} (has it ever run there?)")
    store = MockStore(path, reference_prefix=ALL_DEPARTMENTS[code].reference_prefix)
    try:
        report = _report(store, code, kind, limit)
    finally:
        store.close()
    text = json.dumps(report, ensure_ascii=False, indent=2) if as_json else _summary(report)
    click.echo(text if reveal else mask_in_text(text))


def _report(store: MockStore, code: str, kind: str | None, limit: int) -> dict[str, Any]:
    outbox = [{k: v for k, v in asdict(entry).items() if k != "body"} for entry in store.outbox()]
    return {
        "department": code,
        "store": str(store.path),
        "count": store.count(kind),
        "by_kind": store.count_by_kind(),
        "records": [asdict(record) for record in store.received(kind=kind, limit=limit)],
        "outbox_by_status": store.count_outbox(),
        "outbox": outbox[-limit:],
    }


def _summary(report: dict[str, Any]) -> str:
    kinds = ", ".join(f"{k} {n}" for k, n in report["by_kind"].items()) or "nothing"
    lines = [f"{report['department']} ({report['store']})", f"received {report['count']}: {kinds}"]
    for r in report["records"]:
        lines.append(
            f"  {r['received_at']}  {r['kind']:<20} key={r['idempotency_key']}"
            f"  ref={r['reference']}  {r['encoding']}"
        )
    pushed = ", ".join(f"{s} {n}" for s, n in report["outbox_by_status"].items()) or "nothing"
    lines.append(f"entered by its clerks: {pushed}")
    for e in report["outbox"]:
        error = f"  ({e['last_error']})" if e["last_error"] else ""
        lines.append(
            f"  {e['created_at']}  {e['kind']:<20} {e['idempotency_key']}"
            f"  {e['status']} after {e['attempts']} attempt(s){error}"
        )
    return "\n".join(lines)


@mock_departments_cli.command("fault")
@click.argument("department")
@click.option(
    "--fail-next",
    type=click.IntRange(min=0),
    metavar="N",
    help="Fail the next N deliveries (HTTP 500 / SOAP Server fault).",
)
@click.option(
    "--permanent",
    is_flag=True,
    help="With --fail-next: reject instead (HTTP 400 / SOAP Client fault).",
)
@click.option(
    "--slow",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Wait SECONDS before answering each request (0: answer at once).",
)
@click.option("--down", is_flag=True, help="Answer 503 to everything until --up or --clear.")
@click.option("--up", is_flag=True, help="Undo --down.")
@click.option("--clear", is_flag=True, help="Remove every injected fault.")
@click.option(
    "--url", help="Base URL of the running mock (default: where it said it listens, in --data-dir)."
)
@_data_dir_option
def fault(
    department: str,
    fail_next: int | None,
    permanent: bool,
    slow: float | None,
    down: bool,
    up: bool,
    clear: bool,
    url: str | None,
    data_dir: Path,
) -> None:
    """Inject faults into a running mock DEPARTMENT (POST /_control/faults).

    DEPARTMENT is MARRIAGE_REGISTRY, SOCIAL_SECURITY, TAX, SUPERVISION or PUBLIC_SECURITY (or
    marriage, social-security, tax, supervision, household). Options combine, e.g. --clear
    --fail-next 3.
    """
    code = _code(department)
    settings = _fault_settings(fail_next, permanent, slow, down, up, clear)
    base = url or read_address(data_dir, code)
    if base is None:
        raise click.ClickException(
            f"{code} is not running from {data_dir} (no {address_path(data_dir, code)}): "
            "start it with `govhub mock-departments`, or give --data-dir or --url"
        )
    try:
        answer = requests.post(base.rstrip("/") + "/_control/faults", json=settings, timeout=10)
    except requests.RequestException as exc:
        raise click.ClickException(f"{code} is not reachable at {base}: {exc}") from exc
    if not answer.ok:
        raise click.ClickException(f"{code} refused: HTTP {answer.status_code} {answer.text}")
    click.echo(f"{code} faults now: {json.dumps(answer.json())}")


def _fault_settings(
    fail_next: int | None, permanent: bool, slow: float | None, down: bool, up: bool, clear: bool
) -> dict[str, Any]:
    settings: dict[str, Any] = {"clear": True} if clear else {}
    if fail_next is not None:
        settings.update(fail_next=fail_next, permanent=permanent)
    elif permanent:
        raise click.UsageError("--permanent goes with --fail-next N")
    if slow is not None:
        settings["slow"] = slow
    if down or up:
        settings["down"] = down and not up
    if not settings:
        raise click.UsageError(
            "say what to inject: --fail-next N, --slow S, --down, --up or --clear"
        )
    return settings


def _code(department: str) -> str:
    try:
        return department_code(department)
    except HubError as exc:
        raise click.BadParameter(str(exc), param_hint="DEPARTMENT") from exc
