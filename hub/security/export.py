"""Signed audit exports: a zip with ``audit.jsonl``, ``manifest.json`` and ``manifest.sig``.

The manifest names the entries (first and last seq, the last hash, the chain head), the
SHA-256 of ``audit.jsonl`` and the Ed25519 public key; ``manifest.sig`` is the raw Ed25519
signature of ``manifest.json``'s bytes. Anyone can check an archive without govhub:

    unzip export.zip && sha256sum audit.jsonl      # equals manifest.json "jsonl_sha256"
    openssl pkeyutl -verify -pubin -inkey audit-public.pem -rawin \\
        -in manifest.json -sigfile manifest.sig
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection

from hub.errors import ConfigurationError, ExportInvalid
from hub.security import audit

FORMAT = "govhub-audit-export/1"


@dataclass(frozen=True)
class ExportManifest:
    entries: int
    first_seq: int | None
    last_seq: int | None
    last_hash: str | None
    head_seq: int
    head_hash: str
    public_key: str  # base64 of the raw 32-byte Ed25519 key


def new_signing_key(path: Path) -> Ed25519PublicKey:
    """Write a new Ed25519 private key (PEM, mode 0600) and return its public half."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key.public_key()


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the audit signing key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} is not an Ed25519 private key")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def export(connection: Connection, path: Path, signing_key: Ed25519PrivateKey) -> ExportManifest:
    """Write every live entry and a signed manifest; read in the caller's transaction (a
    snapshot)."""
    head_seq, head_hash = audit.head(connection)
    after = audit.archived_through(connection).seq
    return write_archive(
        path, audit.entries(connection, after=after), signing_key, head_seq, head_hash
    )


def write_archive(
    path: Path,
    stream: Iterable[audit.AuditEntry],
    signing_key: Ed25519PrivateKey,
    head_seq: int,
    head_hash: str,
) -> ExportManifest:
    """Write ``stream`` into a signed archive at ``path`` as it is read (a segment of millions
    of entries is never held in memory); ``head_*``: the chain head it was read under."""
    digest, count = hashlib.sha256(), 0
    first: audit.AuditEntry | None = None
    last: audit.AuditEntry | None = None
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("audit.jsonl", "w", force_zip64=True) as jsonl:
            for entry in stream:
                line = (json.dumps(entry.as_json(), ensure_ascii=False) + "\n").encode("utf-8")
                jsonl.write(line)
                digest.update(line)
                first, last, count = first or entry, entry, count + 1
        manifest = _manifest(count, first, last, head_seq, head_hash, signing_key.public_key())
        manifest_bytes = json.dumps(_manifest_json(manifest, digest.hexdigest()), indent=2)
        archive.writestr("manifest.json", manifest_bytes.encode("utf-8"))
        archive.writestr("manifest.sig", signing_key.sign(manifest_bytes.encode("utf-8")))
    return manifest


def verify_export(path: Path, public_key: Ed25519PublicKey | None = None) -> ExportManifest:
    """Check signature, file hash and the chain inside; raise ExportInvalid naming what fails.

    Without ``public_key`` the archive's own key is used: that proves integrity only; pass the
    key you trust to prove who signed it.
    """
    return _verified(path, public_key)[0]


def export_anchors(path: Path, public_key: Ed25519PublicKey) -> dict[int, audit.Anchor]:
    """Every entry's hash in an export signed by ``public_key`` (the key the caller trusts,
    never the archive's own: whoever rewrote the chain can sign a forged export with his)."""
    _, stream = _verified(path, public_key)
    source = f"the signed export {path.name}"
    return {entry.seq: audit.Anchor(entry.hash, source) for entry in stream}


def stream_entries(path: Path, public_key: Ed25519PublicKey) -> Iterator[audit.AuditEntry]:
    """The entries of an archive signed by ``public_key``, one at a time (a segment of a
    million entries is never held whole): the signature and the file's hash are checked in a
    first pass, ExportInvalid if either fails; the chain is the caller's to walk."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest_bytes, signature = archive.read("manifest.json"), archive.read("manifest.sig")
            try:
                public_key.verify(signature, manifest_bytes)
            except InvalidSignature as exc:
                raise ExportInvalid(f"{path}: the manifest's signature does not verify") from exc
            digest = hashlib.sha256()
            with archive.open("audit.jsonl") as jsonl:
                for chunk in iter(lambda: jsonl.read(1 << 20), b""):
                    digest.update(chunk)
            if digest.hexdigest() != json.loads(manifest_bytes)["jsonl_sha256"]:
                raise ExportInvalid(f"{path}: audit.jsonl does not match the signed manifest")
            with archive.open("audit.jsonl") as jsonl:
                for line in jsonl:
                    yield _entry(json.loads(line))
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise ExportInvalid(f"{path} is not a govhub audit export: {exc}") from exc


def manifest_of(path: Path) -> dict[str, Any]:
    """The manifest as written (unverified: for what the writer itself just wrote)."""
    return dict(json.loads(_read_archive(path)[1]))


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the audit public key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"{path} is not an Ed25519 public key")
    return key


def _verified(
    path: Path, public_key: Ed25519PublicKey | None
) -> tuple[ExportManifest, list[audit.AuditEntry]]:
    jsonl, manifest_bytes, signature = _read_archive(path)
    raw = json.loads(manifest_bytes)
    key = public_key or Ed25519PublicKey.from_public_bytes(base64.b64decode(raw["public_key"]))
    try:
        key.verify(signature, manifest_bytes)
    except InvalidSignature as exc:
        raise ExportInvalid(f"{path}: the manifest's signature does not verify") from exc
    if hashlib.sha256(jsonl).hexdigest() != raw["jsonl_sha256"]:
        raise ExportInvalid(f"{path}: audit.jsonl does not match the signed manifest")
    stream = [_entry(json.loads(line)) for line in jsonl.decode("utf-8").splitlines()]
    _check_entries(path, stream, raw)
    return _from_json(raw), stream


def _manifest(
    count: int,
    first: audit.AuditEntry | None,
    last: audit.AuditEntry | None,
    head_seq: int,
    head_hash: str,
    public_key: Ed25519PublicKey,
) -> ExportManifest:
    raw_key = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return ExportManifest(
        entries=count,
        first_seq=first.seq if first else None,
        last_seq=last.seq if last else None,
        last_hash=last.hash if last else None,
        head_seq=head_seq,
        head_hash=head_hash,
        public_key=base64.b64encode(raw_key).decode("ascii"),
    )


def _manifest_json(manifest: ExportManifest, jsonl_sha256: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "exported_at": datetime.now(UTC).isoformat(),
        "jsonl_sha256": jsonl_sha256,
        **manifest.__dict__,
    }


def _from_json(raw: dict[str, Any]) -> ExportManifest:
    names = ExportManifest.__dataclass_fields__
    return ExportManifest(**{name: raw[name] for name in names})


def _read_archive(path: Path) -> tuple[bytes, bytes, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            return tuple(  # type: ignore[return-value]
                archive.read(name) for name in ("audit.jsonl", "manifest.json", "manifest.sig")
            )
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise ExportInvalid(f"{path} is not a govhub audit export: {exc}") from exc


def _check_entries(path: Path, stream: list[audit.AuditEntry], raw: dict[str, Any]) -> None:
    """The chain inside holds, from its first entry (an archive or an export made after one
    starts past entry 1: the link to what came before is checked by a full verify)."""
    start = audit.Start(stream[0].seq - 1, stream[0].prev_hash) if stream else audit.ORIGIN
    report = audit.check_chain(stream, raw["head_seq"], raw["head_hash"], start=start)
    if not report.ok:
        raise ExportInvalid(f"{path}: {report.reason}")


def _entry(raw: dict[str, Any]) -> audit.AuditEntry:
    return audit.AuditEntry(
        seq=raw["seq"],
        at=datetime.fromisoformat(raw["at"]),
        actor=raw["actor"],
        action=raw["action"],
        subject=raw["subject"],
        details=raw["details_text"],
        prev_hash=raw["prev_hash"],
        hash=raw["hash"],
    )
