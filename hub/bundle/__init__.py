"""One-way transfer bundles: networks joined only by a one-way gateway or removable media.

A department on the far side is registered with ``adapter = "bundle"`` and
``options = { network = "NAME" }``. Its legs are not pushed: the delivery workers leave them
``waiting`` (as a mailbox's wait), and ``govhub bundle export --to NAME FILE`` writes every
message that waits for that network into one signed file. The hub on the other side imports
it with ``govhub bundle import FILE``: each message is checked, routed and delivered there as
if its sender had submitted it there (same sender, same idempotency key), and ``--receipt``
writes a receipt bundle for the way back, whose import marks the legs here delivered.

Contract:
  - A bundle is a zip (``manifest.json``, ``manifest.sig``, ``messages/NNNNNN.json`` or
    ``receipt.json``) sealed as a whole: the zip comment holds an Ed25519 signature of every
    byte before it, made with the hub's key (``audit_signing_key_file``). One flipped byte,
    a truncated file, an unknown key, a bundle for another network: refused as a whole,
    nothing written (``hub.errors.BundleRefused`` and its subclasses).
  - The manifest carries the bundle id, kind, sending and receiving network, a sequence
    number per (network, kind), and the SHA-256 of every entry.
  - The importing hub keeps a ledger of imported bundle ids: a bundle imported again is a
    duplicate, however long after. A sequence number that skips one is imported with a
    warning naming the missing numbers.
  - Import is idempotent per message: a message whose (sender, idempotency key) this hub
    holds already is a repeat, and is acknowledged again in the receipt.

    format.py     writing and reading a sealed bundle (no database)
    tables.py     export ledger, exported legs, import ledger
    peers.py      this hub's network name and the public keys of the hubs it imports from
    parking.py    the delivery workers' side: a bundle leg waits
    exporting.py  what waits for a network -> a bundle
    importing.py  a bundle -> messages in normal delivery, or a receipt -> legs delivered
    arriving.py   a bundle's messages checked as Submits and stored (repeats, refusals)
    receipts.py   the receipt bundle: written after an import, settling legs when imported
    ledger.py     the bundles written and imported, for `govhub bundle list`
    import_only.py  the web front of ``govhub serve --import-only`` (probes, nothing else)
"""

from __future__ import annotations

from hub.departments import DepartmentConfig, DepartmentDirectory

BUNDLE_ADAPTER = "bundle"


def network_of(config: DepartmentConfig) -> str | None:
    """The network a bundle department is reached through; None for any other department."""
    if config.adapter != BUNDLE_ADAPTER:
        return None
    network = config.options.get("network")
    return network if isinstance(network, str) and network else None


def departments_behind(departments: DepartmentDirectory, network: str) -> list[str]:
    """The codes of the departments reached through ``network``."""
    return sorted(config.code for config in departments if network_of(config) == network)


__all__ = ["BUNDLE_ADAPTER", "departments_behind", "network_of"]
