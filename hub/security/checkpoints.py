"""Signed checkpoints of the audit chain's head, kept outside the database.

The chain shows an edit in the middle, but not that its last entries were deleted and the
head rolled back to match (what is left still holds). A checkpoint does: the head's seq and
hash and the time, signed with the audit export key (Ed25519), so whoever can write the
database but not read the key cannot forge one. ``govhub audit verify`` checks that the log
still reaches every kept checkpoint with its hash.

One file per checkpoint, ``checkpoint-<seq, 12 digits>.json``, written atomically (temporary
file, fsync, rename); the newest ``keep`` are kept:

    {"at": "...", "format": "govhub-audit-checkpoint/1", "hash": "...", "seq": 120,
     "signature": "<base64 Ed25519 signature of the other fields as sorted, compact JSON>"}

Anyone can check one without govhub:

    jq -jcS 'del(.signature)' checkpoint-000000000120.json > body
    jq -r .signature checkpoint-000000000120.json | base64 -d > sig
    openssl pkeyutl -verify -pubin -inkey audit-public.pem -rawin -in body -sigfile sig
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Engine

from hub.errors import AuditChainBroken, CheckpointInvalid
from hub.security import audit

FORMAT = "govhub-audit-checkpoint/1"
_FILE_NAME = re.compile(r"^checkpoint-(\d{12})\.json$")


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: datetime

    @property
    def label(self) -> str:
        """How reports name it: "checkpoint 120 of 2026-12-06 04:00:00 UTC"."""
        return f"checkpoint {self.seq} of {self.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"

    def signed_fields(self) -> dict[str, Any]:
        at = audit.timestamp_text(self.at)
        return {"format": FORMAT, "seq": self.seq, "hash": self.hash, "at": at}


def file_name(seq: int) -> str:
    return f"checkpoint-{seq:012d}.json"


def kept_seqs(directory: Path) -> list[int]:
    """The seqs of the checkpoint files in ``directory``, oldest first (none: [])."""
    if not directory.is_dir():
        return []
    names = (_FILE_NAME.match(path.name) for path in directory.iterdir())
    return sorted(int(match.group(1)) for match in names if match)


def write_checkpoint(directory: Path, checkpoint: Checkpoint, key: Ed25519PrivateKey) -> Path:
    fields = checkpoint.signed_fields()
    signature = base64.b64encode(key.sign(_canonical(fields))).decode("ascii")
    document = json.dumps({**fields, "signature": signature}, indent=2, sort_keys=True)
    path = directory / file_name(checkpoint.seq)
    _write_atomically(path, document.encode("utf-8") + b"\n")
    return path


def read_checkpoint(path: Path, public_key: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint in ``path`` if ``public_key`` signed it; else CheckpointInvalid."""
    try:
        fields = json.loads(path.read_bytes())
        signature = base64.b64decode(fields.pop("signature"), validate=True)
        checkpoint = Checkpoint(
            int(fields["seq"]), str(fields["hash"]), datetime.fromisoformat(fields["at"])
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise CheckpointInvalid(f"{path} is not a govhub audit checkpoint: {exc!r}") from exc
    try:
        public_key.verify(signature, _canonical(fields))
    except InvalidSignature as exc:
        raise CheckpointInvalid(
            f"{path}: its signature does not verify with the trusted public key "
            "(forged, or signed with another key)"
        ) from exc
    if fields.get("format") != FORMAT or path.name != file_name(checkpoint.seq):
        raise CheckpointInvalid(f"{path}: not a {FORMAT} file of its own seq")
    return checkpoint


def load_checkpoints(directory: Path, public_key: Ed25519PublicKey) -> list[Checkpoint]:
    """Every kept checkpoint, oldest first; one that fails its signature fails them all."""
    return [read_checkpoint(directory / file_name(seq), public_key) for seq in kept_seqs(directory)]


def checkpoint_anchors(checkpoints: Iterable[Checkpoint]) -> dict[int, audit.Anchor]:
    return {c.seq: audit.Anchor(c.hash, c.label) for c in checkpoints}


def take_checkpoint(
    engine: Engine,
    directory: Path,
    key: Ed25519PrivateKey,
    *,
    keep: int,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Path | None:
    """Checkpoint the head now (None: the log is empty or already checkpointed there).

    The newest kept seq is read before the head: a checkpoint another process writes meanwhile
    is of a head no later than the one read here, so a head behind it means entries were
    deleted, never a race.
    """
    seqs = kept_seqs(directory)
    with engine.connect() as connection:
        seq, digest = audit.head(connection)
    latest = seqs[-1] if seqs else 0
    if seq < latest:
        raise AuditChainBroken(
            f"the audit head {seq} is behind checkpoint {latest}: entries were deleted and "
            "the head rolled back",
            seq=seq + 1,
        )
    if seq == 0 or seq == latest:
        return None
    path = write_checkpoint(directory, Checkpoint(seq, digest, clock()), key)
    _drop_oldest(directory, keep)
    return path


def _drop_oldest(directory: Path, keep: int) -> None:
    seqs = kept_seqs(directory)
    for seq in seqs[: max(0, len(seqs) - max(1, keep))]:
        (directory / file_name(seq)).unlink(missing_ok=True)


def _canonical(fields: Mapping[str, Any]) -> bytes:
    """The signed bytes: sorted, compact JSON (what ``jq -jcS`` prints)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _write_atomically(path: Path, data: bytes) -> None:
    """A reader sees the old file or the whole new one, also after a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
