"""Pre-built SOAP Submit envelopes of chosen sizes, so the load generator only sends bytes.

A real large SOAP request is large because of what rides with the record (signatures,
scanned documents), not because of the record: the padding is a base64 attachment in a
SOAP header the hub does not interpret, so the record stays valid and the whole envelope
is still parsed, hashed and stored.
"""

from __future__ import annotations

import base64
import functools
import os
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, overload

from hub.identity import make_number
from hub.store import NewMessage

# The realistic mix: 2 kB 30%, 10 kB 60%, 100 kB 9%, 1 MB 1%.
SIZE_MIX = ((2_000, 0.30), (10_000, 0.60), (100_000, 0.09), (1_000_000, 0.01))
# libxml2 refuses a single text node over 10 MB (huge_tree off): split the padding.
_CHUNK = 1_000_000

HUSBAND = make_number("11010519900307", "131")
WIFE = make_number("11010819920815", "242")

_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:h="urn:govhub:hub:1" xmlns:c="urn:govhub:canonical:1">'
    "<soapenv:Header>{attachment}</soapenv:Header>"
    "<soapenv:Body><h:Submit><h:header>"
    "<h:messageId>{message_id}</h:messageId>"
    "<h:sender>MARRIAGE_REGISTRY</h:sender>"
    "<h:messageType>MarriageRegistered</h:messageType>"
    "<h:schemaVersion>1.0</h:schemaVersion>"
    "<h:idempotencyKey>{key}</h:idempotencyKey>"
    "<h:purpose>marriage registration, Marriage Registration Regulations art. 7</h:purpose>"
    "<h:sentAt>{sent_at}</h:sentAt>"
    "</h:header><h:message><c:MarriageRegistered>"
    "<c:registrationNumber>J110105-{serial}</c:registrationNumber>"
    "<c:registeredOn>2026-05-20</c:registeredOn>"
    "<c:registrationOffice>110105</c:registrationOffice>"
    "<c:partyA><c:identityNumber>{husband}</c:identityNumber><c:name>张伟</c:name>"
    "<c:sex>1</c:sex><c:birthDate>1990-03-07</c:birthDate></c:partyA>"
    "<c:partyB><c:identityNumber>{wife}</c:identityNumber><c:name>王芳</c:name>"
    "<c:sex>2</c:sex><c:birthDate>1992-08-15</c:birthDate></c:partyB>"
    "<c:maritalStatus>20</c:maritalStatus>"
    "</c:MarriageRegistered></h:message></h:Submit></soapenv:Body></soapenv:Envelope>"
)


def submit(size: int, serial: int = 0) -> bytes:
    """One Submit envelope of about ``size`` bytes, with a fresh message id and key."""
    message_id = str(uuid.uuid4())
    fields = {
        "message_id": message_id,
        "key": message_id,
        "sent_at": datetime.now(UTC).isoformat(),
        "serial": f"{serial:08d}",
        "husband": HUSBAND,
        "wife": WIFE,
    }
    bare = len(_ENVELOPE.format(attachment="", **fields).encode())
    return _ENVELOPE.format(attachment=_attachment(size - bare), **fields).encode()


@functools.lru_cache(maxsize=16)
def _attachment(room: int) -> str:
    """The same padding for every message of one size: building it is the client's cost."""
    if room < 120:
        return ""
    text = base64.b64encode(os.urandom(room)).decode()[: room - 100]
    parts = "".join(f"<a:Part>{text[i : i + _CHUNK]}</a:Part>" for i in range(0, len(text), _CHUNK))
    return f'<a:Attachment xmlns:a="urn:govhub:bench:attachment">{parts}</a:Attachment>'


def mixed(count: int, seed: int = 6) -> list[bytes]:
    """``count`` envelopes drawn from SIZE_MIX (seeded, so every run sends the same mix)."""
    chooser = random.Random(seed)
    sizes = chooser.choices([s for s, _ in SIZE_MIX], weights=[w for _, w in SIZE_MIX], k=count)
    return [submit(size, n) for n, size in enumerate(sizes)]


class LazyMix(Sequence[bytes]):
    """Like ``mixed``, but each envelope is built when it is asked for: a soak sends tens of
    thousands (about 25 kB each on average), which would otherwise all sit in the client."""

    def __init__(self, count: int, seed: int = 6) -> None:
        chooser = random.Random(seed)
        weights = [w for _, w in SIZE_MIX]
        self._sizes = chooser.choices([s for s, _ in SIZE_MIX], weights=weights, k=count)

    def __len__(self) -> int:
        return len(self._sizes)

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):
            return [self[n] for n in range(*index.indices(len(self)))]
        return submit(self._sizes[index], index)


def mean_size(bodies: list[bytes]) -> int:
    return sum(map(len, bodies)) // max(1, len(bodies))


def message_id(body: bytes) -> str:
    """The message id inside a Submit envelope built here."""
    start = body.index(b"<h:messageId>") + len(b"<h:messageId>")
    return body[start : start + 36].decode()


def stored_message(canonical: bytes, numbers: tuple[str, ...] | None = None) -> NewMessage:
    """A checked message as ingress hands it to the store (``numbers``: its identity
    numbers, as ingress found them; None: the store reads them from the record)."""
    message_id = str(uuid.uuid4())
    return NewMessage(
        message_id=message_id,
        idempotency_key=message_id,
        sent_at=datetime.now(UTC),
        original=canonical,
        canonical=canonical,
        identity_numbers=numbers,
        **_STORED_FIELDS,
    )


# What every benchmark message has in common (a marriage from the registry, as 1.0).
_STORED_FIELDS: dict[str, Any] = {
    "message_type": "MarriageRegistered",
    "sender": "MARRIAGE_REGISTRY",
    "correlation_id": None,
    "purpose": "benchmark",
    "schema_version": "1.0",
    "original_content_type": "text/xml",
    "inbound_mapping": None,
}
