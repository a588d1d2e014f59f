"""Handing a message to the department's system: into a folder or by POST to a local URL.

A folder hand-over is two steps the journal can tell apart after a crash: ``stage`` writes
the document under a dot-name and syncs it; ``commit`` renames it to its final name (atomic
on one file system), so the system never reads half a file. A URL hand-over has one step;
after a crash in it the POST is made again with the same ``Idempotency-Key``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests

from hub.errors import HandoverFailed, HandoverRefused

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# 4xx answers that say "not now" rather than "never": the message comes back.
_TRY_AGAIN = (408, 409, 425, 429)
REASON_CHARS = 200


@dataclass(frozen=True)
class Delivery:
    """One received message as the node hands it over."""

    idempotency_key: str
    message_id: str
    message_type: str
    document: bytes


def file_name(delivery: Delivery) -> str:
    """The idempotency key names the file, so the same message always has the same name."""
    extension = ".xml" if delivery.document.lstrip()[:1] == b"<" else ".json"
    return _UNSAFE.sub("_", delivery.idempotency_key) + extension


class Handover(Protocol):
    def target(self, delivery: Delivery) -> str:
        """Where the delivery goes (a file name or the URL), for the journal."""

    def stage(self, delivery: Delivery) -> None:
        """Everything short of the system seeing the message."""

    def commit(self, delivery: Delivery) -> None:
        """The system has it; raises HandoverFailed if it does not. Called again for a
        message the journal says was staged (a crash between the two): it finishes."""


class FolderHandover:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder

    def target(self, delivery: Delivery) -> str:
        return file_name(delivery)

    def _temporary(self, name: str) -> Path:
        return self.folder / f".{name}.part"

    def stage(self, delivery: Delivery) -> None:
        try:
            with self._temporary(file_name(delivery)).open("wb") as part:
                part.write(delivery.document)
                part.flush()
                os.fsync(part.fileno())
        except OSError as error:
            raise HandoverFailed(f"cannot write into {self.folder}: {error.strerror}") from error

    def commit(self, delivery: Delivery) -> None:
        target = file_name(delivery)
        temporary = self._temporary(target)
        if not temporary.exists():  # renamed before the crash: the system has it
            return
        try:
            temporary.replace(self.folder / target)
            directory = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(directory)  # the rename itself survives a power loss
            finally:
                os.close(directory)
        except OSError as error:
            raise HandoverFailed(f"cannot rename in {self.folder}: {error.strerror}") from error


class UrlHandover:
    """POSTs the document; any 2xx is taken; a 4xx (but 408, 409, 425, 429) is
    HandoverRefused (the node Nacks it, the leg fails); anything else HandoverFailed
    (it comes back). The system should treat a repeated ``Idempotency-Key`` as the same
    message."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout

    def target(self, delivery: Delivery) -> str:
        return self.url

    def stage(self, delivery: Delivery) -> None:
        return None

    def commit(self, delivery: Delivery) -> None:
        xml = delivery.document.lstrip()[:1] == b"<"
        headers = {
            "Content-Type": "application/xml" if xml else "application/json",
            "Idempotency-Key": delivery.idempotency_key,
            "X-Govhub-Message-Id": delivery.message_id,
            "X-Govhub-Message-Type": delivery.message_type,
        }
        try:
            answer = requests.post(
                self.url, data=delivery.document, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as error:
            raise HandoverFailed(f"{self.url} cannot be reached: {type(error).__name__}") from error
        if 400 <= answer.status_code < 500 and answer.status_code not in _TRY_AGAIN:
            said = " ".join(answer.text.split())[:REASON_CHARS]
            raise HandoverRefused(
                f"{self.url} refused it: HTTP {answer.status_code}" + (f": {said}" if said else "")
            )
        if not answer.ok:
            raise HandoverFailed(f"{self.url} answered HTTP {answer.status_code}")
