"""A bundle on disk: a zip anyone can list, sealed as a whole.

    manifest.json   format, bundle_id, kind, from, to, sequence, made_at, the signer's public
                    key, and {entry name: SHA-256} for every other member
    manifest.sig    Ed25519 signature of manifest.json's bytes (checkable with openssl, as an
                    audit export's)
    messages/NNNNNN.json or receipt.json   the entries
    zip comment     "govhub-bundle-seal:" + base64 of the Ed25519 signature of every byte of
                    the file before the comment: a flipped byte anywhere, or a cut, shows.

Reading checks, in this order: the seal is where it must be (else truncated, or no bundle),
the manifest, the sending network's key is known, the seal and the manifest signature verify
with that key, every entry's hash. Any failure refuses the whole file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.errors import BundleInvalid, BundleUnknownSigner

FORMAT = "govhub-bundle/1"
MANIFEST, MANIFEST_SIGNATURE = "manifest.json", "manifest.sig"
_SEAL_PREFIX = b"govhub-bundle-seal:"
_SEAL_LENGTH = len(_SEAL_PREFIX) + 88  # base64 of a 64-byte signature
# A bundle is read into memory whole; media carry far less than this in one file.
MAX_BUNDLE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Manifest:
    bundle_id: str
    kind: str  # "messages" or "receipt"
    sender_network: str  # the manifest's "from"
    network: str  # the manifest's "to"
    sequence: int
    made_at: str
    signer: str  # base64 of the raw Ed25519 public key
    entries: Mapping[str, str]  # entry name -> SHA-256 (hex)


@dataclass(frozen=True)
class OpenedBundle:
    manifest: Manifest
    entries: Mapping[str, bytes]


def key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def write_bundle(
    path: Path, heading: Mapping[str, Any], entries: Mapping[str, bytes], key: Ed25519PrivateKey
) -> Manifest:
    """Write entries under a signed manifest (``heading``: bundle_id, kind, from, to,
    sequence, made_at), seal the file, and put it in place atomically."""
    manifest = {
        "format": FORMAT,
        **heading,
        "signer": key_text(key.public_key()),
        "entries": {name: hashlib.sha256(data).hexdigest() for name, data in entries.items()},
    }
    manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest_bytes)
        archive.writestr(MANIFEST_SIGNATURE, key.sign(manifest_bytes))
        for name, data in entries.items():
            archive.writestr(name, data)
        archive.comment = b"\0" * _SEAL_LENGTH  # the seal's place: its length is signed
    unsealed = buffer.getvalue()[:-_SEAL_LENGTH]
    seal = _SEAL_PREFIX + base64.b64encode(key.sign(unsealed))
    _write_atomically(path, unsealed + seal)
    return _manifest(manifest)


def read_bundle(path: Path, trusted: Mapping[str, Ed25519PublicKey]) -> OpenedBundle:
    """The verified bundle; ``trusted`` maps a network to the public key of its hub. The
    seal is checked before a byte of the zip is parsed: altered input never reaches zipfile."""
    data, name = _read(path), path.name
    unsealed, seal = data[:-_SEAL_LENGTH], data[-_SEAL_LENGTH:]
    if len(data) <= _SEAL_LENGTH or not seal.startswith(_SEAL_PREFIX):
        raise BundleInvalid(
            f"{name} is truncated or not a govhub bundle: its seal is missing from the end"
        )
    try:
        signature = base64.b64decode(seal[len(_SEAL_PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise BundleInvalid(f"{name} is damaged: its seal is not base64") from exc
    signer = next((n for n, k in trusted.items() if _verifies(k, signature, unsealed)), None)
    if signer is None:
        raise _why_unsealed(name, data, trusted)
    try:
        members = _members(data)
        manifest = _manifest(json.loads(members[MANIFEST]))
        trusted[signer].verify(members[MANIFEST_SIGNATURE], members[MANIFEST])
    except (InvalidSignature, KeyError, ValueError, TypeError) as exc:
        raise BundleInvalid(f"{name}: its manifest is not valid: {exc}") from exc
    if manifest.sender_network != signer:
        raise BundleUnknownSigner(
            f"{name} says it comes from {manifest.sender_network!r} but is signed by the hub "
            f"of {signer!r}"
        )
    entries = {n: members.get(n, b"") for n in manifest.entries}
    _check_members(name, manifest, members, entries)
    return OpenedBundle(manifest, entries)


def _verifies(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _why_unsealed(
    name: str, data: bytes, trusted: Mapping[str, Ed25519PublicKey]
) -> BundleInvalid | BundleUnknownSigner:
    """No configured key verifies the seal: say whose the file claims to be, if it can tell."""
    try:
        manifest = _manifest(json.loads(_members(data)[MANIFEST]))
    except Exception:  # untrusted bytes that failed their seal: only the refusal is named
        manifest = None
    if manifest is not None and manifest.sender_network not in trusted:
        known = ", ".join(sorted(trusted)) or "none"
        return BundleUnknownSigner(
            f"{name} comes from network {manifest.sender_network!r}, whose hub's public key "
            f"is not configured here (bundle_peers_file; networks known: {known})"
        )
    if manifest is not None:
        configured = key_text(trusted[manifest.sender_network])
        if configured != manifest.signer:
            return BundleUnknownSigner(
                f"{name} is signed with key {_fingerprint(manifest.signer)}, not with the "
                f"configured key {_fingerprint(configured)} of {manifest.sender_network}'s hub"
            )
    return BundleInvalid(
        f"{name} does not verify with any configured hub's key: it was altered or damaged "
        "after it was signed (one changed byte is enough)"
    )


def _check_members(
    name: str, manifest: Manifest, members: Mapping[str, bytes], entries: Mapping[str, bytes]
) -> None:
    extra = set(members) - set(manifest.entries) - {MANIFEST, MANIFEST_SIGNATURE}
    if extra:
        raise BundleInvalid(f"{name} holds members its manifest does not name: {sorted(extra)}")
    for entry, expected in manifest.entries.items():
        if entry not in members or hashlib.sha256(entries[entry]).hexdigest() != expected:
            raise BundleInvalid(f"{name}: entry {entry} does not match its SHA-256 in the manifest")


def _fingerprint(key: str) -> str:
    return "SHA256:" + hashlib.sha256(key.encode("ascii")).hexdigest()[:16]


def _manifest(raw: Mapping[str, Any]) -> Manifest:
    if raw.get("format") != FORMAT:
        raise ValueError(f"format {raw.get('format')!r} is not {FORMAT}")
    return Manifest(
        bundle_id=str(raw["bundle_id"]),
        kind=str(raw["kind"]),
        sender_network=str(raw["from"]),
        network=str(raw["to"]),
        sequence=int(raw["sequence"]),
        made_at=str(raw["made_at"]),
        signer=str(raw["signer"]),
        entries={str(k): str(v) for k, v in dict(raw["entries"]).items()},
    )


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            raise BundleInvalid(f"{path.name} is larger than {MAX_BUNDLE_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise BundleInvalid(f"cannot read {path}: {exc.strerror or exc}") from exc


def _write_atomically(path: Path, data: bytes) -> None:
    """Temp name, fsync, rename: a bundle on the medium is whole or absent."""
    temporary = path.with_name(f".{path.name}.partial")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
