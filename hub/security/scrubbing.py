"""Credentials never stored: a request's original bytes lose every wsse:Password's text.

    without_passwords(original, envelope)  ->  the bytes to store

A UsernameToken's Password (PasswordText: the secret itself; PasswordDigest: a value to guess
the secret from offline) is emptied; everything else stays byte for byte as received, in its
own encoding (GB18030 pushes included): the element's text is cut out of the bytes. Only when
that cut cannot be proven complete against the parsed tree (a CDATA section, a comment or a
child inside the Password, a non-ASCII-compatible encoding such as UTF-16, a Password element
of another namespace) is the tree written again, in the document's encoding, with the
Passwords emptied. Nonce, Created and certificates (BinarySecurityToken) are not secret.

Cheap on the hot path: bytes without the word "Password" (in ASCII or UTF-16) are returned
as they are, unparsed.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from lxml import etree

from hub import xmlparse
from hub.errors import ClientError

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_PASSWORD = f"{{{WSSE}}}Password"
# "Password" in ASCII-compatible encodings, and in UTF-16 of either byte order.
_MARKERS = (b"Password", "Password".encode("utf-16-le")[:-1])
# <p:Password ...>text</p:Password>, the same prefix on both tags; text only (no "<").
_ELEMENT = re.compile(
    rb"(<(?P<prefix>[A-Za-z_][\w.-]*:)?Password(?:\s[^<>]*)?(?<!/)>)[^<]*(</(?P=prefix)Password\s*>)"
)


def may_hold_password(original: bytes) -> bool:
    """False: the bytes certainly hold no Password element (no parse needed)."""
    return any(marker in original for marker in _MARKERS)


def without_passwords(original: bytes, envelope: etree._Element | None = None) -> bytes:
    """``original`` with every wsse:Password emptied. ``envelope``: the tree already parsed
    from exactly these bytes, if the caller has it; otherwise they are parsed here (bytes that
    are not XML, such as JSON, hold no wsse:Password and come back as they are)."""
    if not may_hold_password(original):
        return original
    if envelope is None:
        try:
            envelope = xmlparse.parse(original, max_bytes=len(original))
        except ClientError:
            return original
    passwords = sum(1 for _ in envelope.iter(_PASSWORD))
    if passwords == 0:
        return original
    cut, count = _ELEMENT.subn(rb"\1\3", original)
    if count == passwords == _named_password(envelope):
        return cut
    return _rewritten(envelope, declared=original.lstrip()[:5] == b"<?xml")


def _named_password(envelope: etree._Element) -> int:
    """Elements named Password in any namespace (or none): what the byte pattern also finds."""
    return sum(1 for element in envelope.iter("{*}Password", "Password"))


def _rewritten(envelope: etree._Element, *, declared: bool) -> bytes:
    """The tree written again in its own encoding, Passwords emptied (the rare path)."""
    docinfo: Any = envelope.getroottree().docinfo
    encoding = docinfo.encoding or "UTF-8"
    root = copy.deepcopy(envelope)
    for password in root.iter(_PASSWORD):
        for child in list(password):
            password.remove(child)
        password.text = None
    declared = declared or encoding.upper() not in ("UTF-8", "US-ASCII", "ASCII")
    data = etree.tostring(root, encoding=encoding, xml_declaration=declared)
    assert isinstance(data, bytes)  # an encoding other than "unicode" gives bytes
    return data
