"""The outbox folder: files the department's system drops for the hub.

A file counts once it has its final name: the system should write it under a dot-name (or
``*.part``/``*.tmp``) and rename it, as the node does in the inbox. Sent files move to
``sent/``, refused ones to ``refused/`` with ``<name>.reason.txt`` beside them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

SENT = "sent"
REFUSED = "refused"
_UNFINISHED = (".part", ".tmp")


@dataclass(frozen=True)
class OutboxFile:
    path: Path
    content: bytes

    @property
    def idempotency_key(self) -> str:
        """Stable for this name and content: sent again, the hub answers ``duplicate``."""
        digest = hashlib.sha256(self.path.name.encode() + b"\0" + self.content).hexdigest()
        return f"node-{digest[:40]}"


class Outbox:
    def __init__(self, folder: Path) -> None:
        for sub in (SENT, REFUSED):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        self.folder = folder

    def waiting(self) -> list[OutboxFile]:
        """Finished files, by name (a system that numbers its files has them sent in order)."""
        files = [
            p
            for p in self.folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and not p.name.endswith(_UNFINISHED)
        ]
        files.sort(key=lambda p: p.name)
        found = []
        for path in files:
            try:
                found.append(OutboxFile(path, path.read_bytes()))
            except FileNotFoundError:  # the system took it back meanwhile
                continue
        return found

    def count(self) -> int:
        return sum(1 for p in self.folder.iterdir() if p.is_file() and not p.name.startswith("."))

    def move_sent(self, file: OutboxFile) -> None:
        file.path.replace(self.folder / SENT / file.path.name)

    def move_refused(self, file: OutboxFile, reason: str) -> None:
        (self.folder / REFUSED / f"{file.path.name}.reason.txt").write_text(
            reason + "\n", encoding="utf-8"
        )
        file.path.replace(self.folder / REFUSED / file.path.name)
