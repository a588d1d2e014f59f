"""Transfer bundles: marriages waiting for a network behind a one-way gateway, carried by one
`govhub bundle export` (internet side) and one `govhub bundle import --receipt` (intranet
side, its own database), and the receipt imported back; each a process, timed from its start
(Python and the hub's start included). The baseline, in the same run, is single Submit calls
of the same records to the internet-side `govhub serve` on the same embedded database.
--quick: 300 messages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select

from bench import messages
from bench.load import closed_loop
from bench.processes import Fleet
from bench.setups import embedded
from bench.stats import ratio
from hub.polling import wait_for
from hub.resources import DEFAULTS_ROOT
from hub.security.export import new_signing_key, public_pem
from hub.store.models import DeliveryRow

INTERNET, INTRANET = "internet", "intranet"
# Outside, the departments of the intranet are reached as one, through the gateway.
_GATEWAY_DEPARTMENT = """
[INTRANET]
name = "The intranet (behind the one-way gateway)"
adapter = "bundle"
endpoint = "bundle:intranet"
options = { network = "intranet" }
"""


def run(options: Any) -> dict[str, Any]:
    count = 300 if options.quick else 5000
    work: Path = options.work / "bundle"
    work.mkdir(parents=True, exist_ok=True)
    outside = _side(work, INTERNET, INTRANET, _GATEWAY_DEPARTMENT)
    inside = _side(work, INTRANET, INTERNET, "")
    with Fleet(options.work / "logs" / "bundle") as fleet, embedded(work) as env:
        outside_env = {**env, **outside}
        _, url = fleet.hub("bundle", outside_env)
        singles = [messages.submit(0, serial) for serial in range(count)]
        baseline = closed_loop(url, singles, concurrency=options.concurrency, seconds=3600)
        if not wait_for(lambda: _waiting(outside_env) >= baseline.ok, 600):
            raise RuntimeError(f"legs did not reach waiting: {_waiting(outside_env)}")
        bundle, receipt = work / "to-intranet.bundle", work / "receipt.bundle"
        carried, base = baseline.ok, baseline.per_second
        export = ["export", "--to", INTRANET, str(bundle)]
        exporting = _timed(export, outside_env, f"{carried} message(s)")
        inside_env = {**env, "GOVHUB_DATA_DIR": str(work / "intranet-data"), **inside}
        into = ["import", str(bundle), "--receipt", str(receipt)]
        importing = _timed(into, inside_env, f"{carried} accepted")
        settling = _timed(["import", str(receipt)], outside_env, f"{carried} delivered")
    return {
        "name": "bundle",
        "what": f"{carried} messages carried by one bundle and settled by its receipt, "
        "against single Submits",
        "rows": [
            {"how": "single Submits (baseline)", "records": carried,
             "per_second": round(base, 1), "ratio": 1.0, "failed": baseline.failed},
            {"how": "govhub bundle export", "records": carried,
             "per_second": round(carried / exporting, 1), "ratio": ratio(carried / exporting, base),
             "bytes": bundle.stat().st_size},
            {"how": "govhub bundle import --receipt (other hub)", "records": carried,
             "per_second": round(carried / importing, 1),
             "ratio": ratio(carried / importing, base)},
            {"how": "govhub bundle import RECEIPT (legs settled)", "records": carried,
             "per_second": round(carried / settling, 1), "ratio": ratio(carried / settling, base)},
        ],
    }  # fmt: skip


def _side(work: Path, network: str, trusts: str, more: str) -> dict[str, str]:
    """The settings of one side: its departments (the shipped ones and ``more``), its key,
    the other side's key. Inside, the shipped routes send the marriages on to social security
    and tax (queued: no worker runs there)."""
    key = work / f"{network}.key"
    if not key.exists():
        (work / f"{network}.pem").write_bytes(public_pem(new_signing_key(key)))
    departments = work / f"{network}-departments.toml"
    shipped = (DEFAULTS_ROOT / "departments.toml").read_text(encoding="utf-8")
    departments.write_text(shipped + more, encoding="utf-8")
    routes = work / f"{network}-routes.toml"
    shipped = (DEFAULTS_ROOT / "routes.toml").read_text(encoding="utf-8")
    if more:  # outside, marriages go to the gateway only: nothing waits for a mock's answer
        shipped = shipped.replace(
            'receivers = ["SOCIAL_SECURITY", "TAX"]', 'receivers = ["INTRANET"]', 1
        )
    routes.write_text(shipped, encoding="utf-8")
    peers = work / f"{network}-peers.toml"
    peers.write_text(f'[peers.{trusts}]\npublic_key_file = "{trusts}.pem"\n', encoding="utf-8")
    return {
        "GOVHUB_DEPARTMENTS_FILE": str(departments),
        "GOVHUB_ROUTES_FILE": str(routes),
        "GOVHUB_BUNDLE_NETWORK": network,
        "GOVHUB_BUNDLE_PEERS_FILE": str(peers),
        "GOVHUB_AUDIT_SIGNING_KEY_FILE": str(key),
    }


def _waiting(env: dict[str, str]) -> int:
    engine = create_engine(f"sqlite:///{Path(env['GOVHUB_DATA_DIR']).resolve() / 'hub.db'}")
    try:
        with engine.connect() as connection:
            query = select(func.count()).where(DeliveryRow.state == "waiting")
            return int(connection.execute(query).scalar() or 0)
    finally:
        engine.dispose()


def _timed(args: list[str], env: dict[str, str], says: str) -> float:
    """Seconds the command took; it must succeed and say ``says`` (all was carried)."""
    command = [sys.executable, "-m", "hub", "bundle", *args, "--log-level", "WARNING"]
    started = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or says not in done.stdout:
        raise RuntimeError(f"bundle {args[0]} failed: {done.stdout[-300:]} {done.stderr[-300:]}")
    return seconds
