"""Who this hub is on the transfer side, and whom it believes.

``bundle_network`` names the network this hub serves: bundles addressed to another are
refused, and bundles it writes say they come from it. ``bundle_peers_file`` (TOML) names each
network whose bundles it imports, with the public key of that network's hub:

    [peers.internet]
    public_key_file = "/etc/govhub/peers/internet-hub.pem"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.config import Settings
from hub.errors import ConfigurationError
from hub.security.export import load_public_key, load_signing_key


@dataclass(frozen=True)
class BundleIdentity:
    network: str
    peers: dict[str, Ed25519PublicKey]


def identity(settings: Settings) -> BundleIdentity:
    """This hub's network and its peers' keys; ConfigurationError says what is missing."""
    if not settings.bundle_network:
        raise ConfigurationError(
            "set GOVHUB_BUNDLE_NETWORK: the name of the network this hub serves"
        )
    return BundleIdentity(settings.bundle_network, _peers(settings.bundle_peers_file))


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The hub's Ed25519 key, the one that signs its audit exports."""
    if not settings.audit_signing_key_file:
        raise ConfigurationError(
            "bundles are signed with the hub's key: set GOVHUB_AUDIT_SIGNING_KEY_FILE "
            "(`govhub audit keygen` makes one)"
        )
    return load_signing_key(Path(settings.audit_signing_key_file))


def _peers(file: str) -> dict[str, Ed25519PublicKey]:
    if not file:
        return {}
    path = Path(file)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read the bundle peers file {path}: {exc}") from exc
    peers = raw.get("peers", {})
    if not isinstance(peers, dict):
        raise ConfigurationError(f"{path}: [peers.NETWORK] tables expected")
    keys = {}
    for network, table in peers.items():
        key_file = table.get("public_key_file") if isinstance(table, dict) else None
        if not isinstance(key_file, str):
            raise ConfigurationError(f"{path} [peers.{network}]: public_key_file is required")
        keys[network] = load_public_key((path.parent / key_file).resolve())
    return keys
