"""Is a repeated idempotency key the same record? Decides between a duplicate and a conflict.

The canonical record is what counts, not its envelope. The stored canonical bytes are the
record element as lxml wrote it out of the request, with every namespace declared around it
(a SOAP client's prefixes, a WS-Security header's) and the client's indentation. So equal
SHA-256s (already stored, free to compare) mean the same record; unequal ones are looked at
again in a form without those accidents: whitespace between elements dropped (canonical
records have no mixed content), then C14N 2.0 with prefixes rewritten, so unused
declarations and prefix choices fall away. That runs only on a repeat whose hash differs:
the accept path pays nothing. A stored body that is gone (pruned) or cannot be opened
leaves the hash to decide: a possible false conflict, never a silently dropped record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from lxml import etree

from hub import xmlparse
from hub.errors import HubError


def same_record(
    stored_sha256: str, stored_canonical: Callable[[], bytes], canonical: bytes
) -> bool:
    """``stored_canonical`` opens the stored body (plain bytes, b"" when pruned); it is
    called only when the hashes differ."""
    if hashlib.sha256(canonical).hexdigest() == stored_sha256:
        return True
    try:
        stored = stored_canonical()
        return bool(stored) and record_form(stored) == record_form(canonical)
    except HubError:  # a missing key, or bytes that do not parse: the hash has decided
        return False


def record_form(canonical: bytes) -> bytes:
    """The record without its serialization's accidents (see the module's docstring)."""
    root = xmlparse.parse(canonical)
    for element in root.iter():
        if len(element) and _blank(element.text):
            element.text = None
        if _blank(element.tail):
            element.tail = None
    form: str = etree.canonicalize(root, rewrite_prefixes=True)
    return form.encode("utf-8")


def _blank(text: str | None) -> bool:
    return text is not None and not text.strip()
