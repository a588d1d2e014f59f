"""A bundle from another network, taken in as a whole or not at all.

Order: verify the file (hub/bundle/format.py) against the sending network's configured key;
refuse it if it is addressed to another network or its id is in the ledger; then, in ONE
transaction, the ledger row, every new message with its legs (or, for a receipt, every leg it
settles) and the audit entry. Deliveries are published after the commit (a lost publish is
the relay's, as for Submit). A receipt for the way back is written after the commit, from
the ledger, so it never names a message that is not stored."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.bus import Publisher
from hub.config import Settings
from hub.departments import DepartmentDirectory
from hub.errors import BundleDuplicate, BundleForAnotherNetwork, BundleInvalid, NotFound
from hub.ingress import IngressRules
from hub.security import audit
from hub.store import Store

from . import departments_behind, peers
from .arriving import Arrived, arrivals, store_arrivals
from .exporting import MESSAGES, RECEIPT
from .format import Manifest, OpenedBundle, read_bundle
from .receipts import RECEIPT_ENTRY, ReceiptContent, settle, write_receipt
from .tables import bundle_imports

log = logging.getLogger(__name__)
BUNDLE_IMPORTED = "bundle_imported"


@dataclass(frozen=True)
class ImportResult:
    bundle_id: str
    kind: str
    from_network: str
    sequence: int
    missing: tuple[int, ...]  # sequence numbers of that network's bundles never imported
    counts: dict[str, int]  # messages: accepted, repeats, refused; receipt: delivered, ...
    receipt: Path | None = None


class BundleImporter:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        rules: IngressRules,
        departments: DepartmentDirectory,
        publisher: Publisher,
    ) -> None:
        self.settings = settings
        self.store = store
        self.rules = rules
        self.departments = departments
        self.publisher = publisher

    def import_file(self, path: Path, receipt: Path | None = None) -> ImportResult:
        me = peers.identity(self.settings)
        opened = read_bundle(path, me.peers)
        manifest = opened.manifest
        if manifest.network != me.network:
            raise BundleForAnotherNetwork(
                f"{path.name} is addressed to network {manifest.network!r}; this hub serves "
                f"{me.network!r}"
            )
        if manifest.kind not in (MESSAGES, RECEIPT):
            raise BundleInvalid(f"{path.name} is of an unknown kind {manifest.kind!r}")
        self._refuse_duplicate(path, manifest.bundle_id)
        try:
            result, arrived = self._take(opened)
        except IntegrityError as exc:  # a second import of the same id raced this one
            raise BundleDuplicate(
                f"{path.name} ({manifest.bundle_id}) was imported already"
            ) from exc
        if arrived is not None and arrived.tasks:
            self.publisher.publish_all_quietly(arrived.tasks)
        if result.missing:
            log.warning(
                "bundle %s from %s is number %s; never imported before it: %s",
                manifest.bundle_id,
                manifest.sender_network,
                manifest.sequence,
                ", ".join(map(str, result.missing)),
            )
        if receipt is not None and manifest.kind == MESSAGES:
            self.write_receipt(manifest.bundle_id, receipt)
            return ImportResult(**{**result.__dict__, "receipt": receipt})
        return result

    def write_receipt(self, bundle_id: str, path: Path) -> int:
        """(Again) the receipt of an imported messages bundle, from the ledger."""
        with self.store.engine.connect() as connection:
            row = connection.execute(
                select(bundle_imports).where(
                    bundle_imports.c.bundle_id == bundle_id, bundle_imports.c.kind == MESSAGES
                )
            ).first()
        if row is None:
            raise NotFound(f"no messages bundle {bundle_id} was imported here")
        outcome = json.loads(row.outcome)
        content = ReceiptContent.from_json(json.dumps(outcome["receipt"]).encode("utf-8"))
        me = peers.identity(self.settings)
        key = peers.signing_key(self.settings)
        return write_receipt(
            self.store, content, own_network=me.network, to=row.from_network, path=path, key=key
        )

    def _refuse_duplicate(self, path: Path, bundle_id: str) -> None:
        with self.store.engine.connect() as connection:
            when = connection.execute(
                select(bundle_imports.c.imported_at).where(bundle_imports.c.bundle_id == bundle_id)
            ).scalar()
        if when is not None:
            raise BundleDuplicate(
                f"{path.name} ({bundle_id}) was imported already, on {when:%Y-%m-%d %H:%M} UTC; "
                "nothing was imported again"
            )

    def _take(self, opened: OpenedBundle) -> tuple[ImportResult, Arrived | None]:
        manifest, now = opened.manifest, self.store.clock()
        found = arrivals(self.rules, dict(opened.entries)) if manifest.kind == MESSAGES else []
        with self.store.engine.begin() as connection:
            connection.execute(  # first: the ledger row takes the write lock and the id
                insert(bundle_imports).values(
                    bundle_id=manifest.bundle_id,
                    kind=manifest.kind,
                    from_network=manifest.sender_network,
                    sequence=manifest.sequence,
                    imported_at=now,
                    outcome="{}",
                )
            )
            missing = _missing(connection, manifest)
            arrived: Arrived | None = None
            if manifest.kind == MESSAGES:
                arrived = store_arrivals(self.store, connection, found, self.settings.lease_seconds)
                counts = {
                    "accepted": len(arrived.accepted),
                    "repeats": len(arrived.repeats),
                    "refused": len(arrived.refused_legs),
                }
                receipt = ReceiptContent(
                    manifest.bundle_id, tuple(arrived.delivered_legs), arrived.refused_legs
                )
                outcome: dict[str, Any] = {**counts, "receipt": json.loads(receipt.to_json())}
            else:
                content = ReceiptContent.from_json(opened.entries.get(RECEIPT_ENTRY, b""))
                behind = departments_behind(self.departments, manifest.sender_network)
                settled = settle(connection, content, behind, bundle_id=manifest.bundle_id, now=now)
                counts = dict(settled.__dict__)
                outcome = {**counts, "for_bundle": content.for_bundle}
            outcome["missing"] = list(missing)
            connection.execute(
                update(bundle_imports)
                .where(bundle_imports.c.bundle_id == manifest.bundle_id)
                .values(outcome=json.dumps(outcome))
            )
            audit.append(
                connection,
                actor=f"network:{manifest.sender_network}",
                action=BUNDLE_IMPORTED,
                subject=manifest.bundle_id,
                at=now,
                details={
                    "kind": manifest.kind,
                    "sequence": manifest.sequence,
                    "missing": list(missing),
                    **counts,
                },
            )
        result = ImportResult(
            manifest.bundle_id,
            manifest.kind,
            manifest.sender_network,
            manifest.sequence,
            missing,
            counts,
        )
        return result, arrived


def _missing(connection: Connection, manifest: Manifest) -> tuple[int, ...]:
    """The numbers between the last bundle of its kind imported from its network and it."""
    network, kind, sequence = manifest.sender_network, manifest.kind, manifest.sequence
    last = connection.execute(
        select(func.max(bundle_imports.c.sequence)).where(
            bundle_imports.c.from_network == network,
            bundle_imports.c.kind == kind,
            bundle_imports.c.sequence < sequence,
        )
    ).scalar()
    first = 1 if last is None else int(last) + 1
    return tuple(range(first, sequence))
