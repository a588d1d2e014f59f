"""The `govhub` command line.

``main`` is the one entry point (``govhub = "hub.cli:main"``, ``python -m hub``). Each module
here holds the commands of one area and defines them on their own; only this file puts them
together, so no module imports another's commands (or this package's ``main``):

    options.py        what every command shares: settings options, --json, --actor, the store
    service.py        serve, worker, validate, db upgrade, demo
    storage.py        db compact
    operations.py     messages list|show, trace, replay, prune
    security.py       audit, credentials, admins, payloads, identities
    configuration.py  departments, routes
    retries.py        retries pause|resume|list
    supervision.py    calendar, supervision
    catalogue.py      catalogue
    queries.py        queries list|show
    batch.py          batch template|check
    rules.py          rules register|set|show|history|diff
    node.py           node run|status (the exchange node)
    versions.py       versions [--check FILE] (canonical model versions)
    federation.py     federation check
    bundle.py         bundle export|import|receipt|list (one-way transfer bundles)
    tracker.py        tracker, exemptions grant (the citizen's data tracker)
    (mock_departments/cli.py: mock-departments)
"""

from __future__ import annotations

import click

from hub.cli import (
    batch,
    bundle,
    catalogue,
    configuration,
    federation,
    node,
    operations,
    queries,
    retries,
    rules,
    security,
    service,
    storage,
    supervision,
    tracker,
    versions,
)
from mock_departments.cli import mock_departments_cli


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """govhub: enter a citizen's record once; the hub validates, translates and delivers it
    to every department that needs it."""


service.db.add_command(storage.compact_command)

for name, command in {
    "serve": service.serve,
    "worker": service.worker,
    "validate": service.validate,
    "db": service.db,
    "demo": service.demo,
    **operations.COMMANDS,
    "audit": security.audit_cli,
    "credentials": security.credentials_cli,
    "admins": security.admins_cli,
    "payloads": security.payloads_cli,
    "identities": security.identities_cli,
    "departments": configuration.departments_cli,
    "routes": configuration.routes_cli,
    "retries": retries.retries_cli,
    "calendar": supervision.calendar_cli,
    "supervision": supervision.supervision_cli,
    "catalogue": catalogue.catalogue_cli,
    "queries": queries.queries_cli,
    "batch": batch.batch_cli,
    "rules": rules.rules_cli,
    "node": node.node_cli,
    "versions": versions.versions_cli,
    "federation": federation.federation_cli,
    "bundle": bundle.bundle_cli,
    "tracker": tracker.tracker_command,
    "exemptions": tracker.exemptions_cli,
    "mock-departments": mock_departments_cli,
}.items():
    main.add_command(command, name=name)
