"""What an operator reads about bundles: the ones this hub wrote and the ones it imported,
newest first (`govhub bundle list`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hub.store import Store

from .tables import bundle_exports, bundle_imports


@dataclass(frozen=True)
class LedgerRow:
    direction: str  # "export" or "import"
    bundle_id: str
    kind: str
    network: str  # the network it went to, or came from
    sequence: int
    at: str
    summary: dict[str, Any]


def recent(store: Store, limit: int) -> list[LedgerRow]:
    with store.engine.connect() as connection:
        exports = connection.execute(
            select(bundle_exports).order_by(bundle_exports.c.made_at.desc()).limit(limit)
        ).all()
        imports = connection.execute(
            select(bundle_imports).order_by(bundle_imports.c.imported_at.desc()).limit(limit)
        ).all()
    rows = [
        LedgerRow(
            "export", r.bundle_id, r.kind, r.network, r.sequence, r.made_at.isoformat(),
            {"entries": r.entries},
        )
        for r in exports
    ] + [
        LedgerRow(
            "import", r.bundle_id, r.kind, r.from_network, r.sequence, r.imported_at.isoformat(),
            _summary(r.outcome),
        )
        for r in imports
    ]  # fmt: skip
    return sorted(rows, key=lambda row: row.at, reverse=True)[:limit]


def _summary(outcome: str) -> dict[str, Any]:
    """The counts and the missing numbers; not the receipt's list of legs."""
    raw = json.loads(outcome)
    return {name: value for name, value in raw.items() if name not in ("receipt", "for_bundle")}
