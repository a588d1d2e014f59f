"""`govhub serve`, `worker`, `validate`, `db upgrade` and `demo`: the commands that run the hub."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hub import logs
from hub.cli.options import build_settings, settings_options
from hub.config import Settings
from hub.errors import HubError
from hub.startup.stop_signal import wait_for_stop_signal


@click.command()
@settings_options
@click.option("--host", help="Address to listen on. [default: 127.0.0.1]")
@click.option("--port", type=int, help="Port to listen on. [default: 8700]")
@click.option(
    "--no-workers", is_flag=True, help="Serve the API only; run `govhub worker` elsewhere."
)
@click.option("--tls-cert-file", help="Serve HTTPS with this PEM certificate (chain).")
@click.option("--tls-key-file", help="The PEM private key of --tls-cert-file.")
@click.option(
    "--tls-client-ca-file",
    help="Require client certificates issued by these PEM CAs (mutual TLS).",
)
@click.option(
    "--import-only",
    is_flag=True,
    help="Serve GET /health, /ready, /metrics only (a hub fed by `govhub bundle import`).",
)
def serve(no_workers: bool, import_only: bool, log_level: str, **options: Any) -> None:
    """Serve the SOAP API (and, by default, the delivery workers) in one process."""
    from hub.bundle.import_only import import_only_app
    from hub.mailbox.waiting import server_threads
    from hub.security.tls import TlsFiles
    from hub.startup.heap import freeze_startup_heap
    from hub.waitress_limits import ServerLimits
    from hub.webserver import check_can_listen, make_server

    logs.configure(log_level)
    settings = build_settings(**options)
    try:
        check_can_listen(settings.host, settings.port)
    except HubError as error:
        raise click.ClickException(str(error)) from error
    if no_workers and settings.bus_url.startswith("memory"):
        click.echo(
            "warning: --no-workers with memory://: nothing in this process consumes what it "
            "publishes (fine for measuring ingest; use --bus-url amqp://... with workers)",
            err=True,
        )
    try:
        tls = TlsFiles.from_settings(settings)
    except HubError as error:
        raise click.ClickException(str(error)) from error
    # The embedded hub (its workers in the process, or the in-process bus) owns its schema.
    owns_schema = not no_workers or settings.bus_url.startswith("memory")
    runtime = _runtime(settings, migrates=owns_schema)
    if not no_workers:
        runtime.start_workers()
    limits = ServerLimits.from_settings(settings)
    threads = server_threads(settings.mailbox_wait_slots)  # waiting Receives get their own
    app = import_only_app(runtime) if import_only else runtime.wsgi_app()
    server = make_server(app, settings.host, settings.port, tls, threads=threads, limits=limits)
    freeze_startup_heap()  # the ingest tail: full collections walked the start-up objects
    if import_only:
        click.echo(f"govhub serving {server.url}/health, /ready, /metrics only (import-only)")
    else:
        click.echo(f"govhub serving on {server.url}/soap (WSDL: {server.url}/soap?wsdl)")
    _run_until_stopped(server.start().stop, runtime.close)


@click.command()
@settings_options
@click.option(
    "--metrics-port",
    type=int,
    help="Serve Prometheus metrics at http://HOST:PORT/metrics (0: a free port). [default: none]",
)
def worker(log_level: str, metrics_port: int | None, **options: Any) -> None:
    """Run delivery workers and the relay only (distributed setup: amqp:// bus, shared database)."""
    from hub.observability.metrics_server import serve_metrics
    from hub.startup.heap import freeze_startup_heap

    logs.configure(log_level)
    settings = build_settings(**options)
    if settings.bus_url.startswith("memory"):
        click.echo(
            "warning: memory:// is in-process; a separate worker sees no messages "
            "(it still delivers through the relay). Use --bus-url amqp://...",
            err=True,
        )
    runtime = _runtime(settings, migrates=False)  # `govhub db upgrade` migrates
    freeze_startup_heap()  # full collections walked the start-up objects: 0.6 s pauses
    runtime.start_workers()
    stops = [runtime.close]
    if metrics_port is not None:
        engine, codes = runtime.store.engine, runtime.departments.codes
        metrics = serve_metrics(settings.host, metrics_port, engine, codes)
        click.echo(f"govhub worker metrics on {metrics.url}")
        stops.insert(0, metrics.stop)
    click.echo("govhub worker running")
    _run_until_stopped(*stops)


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@settings_options
def validate(files: tuple[Path, ...], as_json: bool, log_level: str, **options: Any) -> None:
    """Say whether the hub would take each FILE, as it would answer it: a Submit envelope, a
    canonical record, or a department's own document (XML or JSON) that department may push.
    Checked against the departments, routes and mappings the hub runs with: its files, and
    what its database adds when there is one. Exit 1 if any is INVALID, with every error."""
    from hub.validate import HubRules, validate_file

    logs.configure("WARNING" if log_level == "INFO" else log_level)
    rules = HubRules.from_settings(build_settings(**options))
    reports = [validate_file(path, rules) for path in files]
    if as_json:
        click.echo(json.dumps([{**r.__dict__, "valid": r.valid} for r in reports], indent=2))
    else:
        for report in reports:
            verdict = "valid" if report.valid else "INVALID"
            how = f": {report.accepted_as}" if report.valid else ""
            click.echo(f"{report.file}: {verdict} ({report.schema or 'no matching schema'}){how}")
            for error in report.errors:
                click.echo(f"  - {error}")
    sys.exit(0 if all(r.valid for r in reports) else 1)


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command()
@settings_options
def upgrade(log_level: str, **options: Any) -> None:
    """Create or migrate the hub's database to the newest schema (Alembic)."""
    from hub.security.encryption import KeyRing
    from hub.security.payloads import PayloadSealer
    from hub.store import Store

    logs.configure(log_level)
    settings = build_settings(**options)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # The key ring opens sealed bodies for a migration that reads them (0007 rehashes).
    sealer = PayloadSealer(KeyRing.parse(settings.encryption_keys))
    store = Store(settings.effective_database_url, sealer=sealer)
    store.upgrade()
    store.dispose()
    click.echo("database is up to date")


@click.command()
@settings_options
@click.option(
    "--once", is_flag=True, help="Run the scenario once and exit (0 if every leg arrived)."
)
@click.option(
    "--port",
    type=int,
    help="Hub port; mock departments use the next three (0: any free ones). [default: 8700]",
)
@click.option("--keep-data", is_flag=True, help="Keep earlier demo data instead of starting fresh.")
def demo(once: bool, port: int | None, keep_data: bool, log_level: str, **options: Any) -> None:
    """Start the hub and three mock departments and show a record entered once reaching everyone."""
    from hub.demo import run_demo

    logs.configure("WARNING" if log_level == "INFO" else log_level)
    settings = build_settings(port=port, **options)
    try:
        code = run_demo(settings, once=once, fresh=not keep_data, echo=click.echo)
    except HubError as error:  # a port in use: one line, before anything started
        raise click.ClickException(str(error)) from error
    sys.exit(code)


def _runtime(settings: Settings, *, migrates: bool) -> Any:
    """The hub's runtime, once its database (and schema, unless it ``migrates``) and bus
    answer: a process started before them waits (hub/startup/waiting.py)."""
    from hub.runtime import HubRuntime
    from hub.startup.waiting import startup_needs, wait_for_needs
    from hub.store.engine import make_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    try:
        needs = startup_needs(settings, engine, migrates=migrates)
        wait_for_needs(needs, give_up_after=settings.startup_wait_seconds)
        return HubRuntime(settings, migrate=migrates)
    except HubError as error:
        raise click.ClickException(str(error)) from error
    finally:
        engine.dispose()


def _run_until_stopped(*cleanups: Callable[[], None]) -> None:
    wait_for_stop_signal()
    for cleanup in cleanups:
        cleanup()
