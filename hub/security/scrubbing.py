"""Credentials never stored: a request's original bytes lose the text of every wsse:Password
in its soap:Header (where the checks read wsse:Security).

    without_passwords(original, envelope)  ->  the bytes to store

A UsernameToken's Password (PasswordText: the secret itself; PasswordDigest: a value to guess
the secret from offline) is emptied; everything else stays byte for byte as received, in its
own encoding (GB18030 pushes included): the element's text is cut out of the bytes. Only when
that cut cannot be proven complete against the parsed tree (a CDATA section, a comment or a
child inside the Password, a non-ASCII-compatible encoding such as UTF-16, a Password element
of another namespace) is the tree written again, in the document's encoding, with the
Passwords emptied. Nonce, Created and certificates (BinarySecurityToken) are not secret.

Cheap on the hot path: bytes without the word "Password" (in ASCII or UTF-16) are returned
as they are, unparsed; otherwise only the header's elements and the bytes up to the last
"Password" are searched.
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
_HEADER = "{*}Header"  # SOAP 1.1 or 1.2: where the checks read wsse:Security
_MARKER = b"Password"  # in every ASCII-compatible encoding (UTF-8, GB18030, ...)
_UTF16_MARKER = "Password".encode("utf-16-le")[:-1]  # in UTF-16 of either byte order
# <p:Password ...>text</p:Password>, the same prefix on both tags; text only (no "<").
_ELEMENT = re.compile(
    rb"(<(?P<prefix>[A-Za-z_][\w.-]*:)?Password(?:\s[^<>]*)?(?<!/)>)[^<]*(</(?P=prefix)Password\s*>)"
)


def may_hold_password(original: bytes) -> bool:
    """False: the bytes certainly hold no Password element (no parse needed)."""
    if _MARKER in original:
        return True
    wide = original[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in original[:4]
    return wide and _UTF16_MARKER in original


def without_passwords(original: bytes, envelope: etree._Element | None = None) -> bytes:
    """``original`` with every wsse:Password of its soap:Header emptied. ``envelope``: the tree
    already parsed from exactly these bytes, if the caller has it; otherwise they are parsed
    here (bytes that are not a SOAP envelope, such as JSON, hold no credential and come back
    as they are)."""
    if not may_hold_password(original):
        return original
    if envelope is None:
        try:
            envelope = xmlparse.parse(original, max_bytes=len(original))
        except ClientError:
            return original
    header = envelope.find(_HEADER)
    passwords = 0 if header is None else sum(1 for _ in header.iter(_PASSWORD))
    if header is None or passwords == 0:
        return original
    # Only the bytes up to the last "Password" can hold one: a large body is not searched.
    last = original.rfind(b"Password")
    end = 0 if last < 0 else original.find(b">", last) + 1 or len(original)
    cut, count = _ELEMENT.subn(rb"\1\3", original[:end])
    if count == passwords == _named_password(header):
        return cut + original[end:]
    return _rewritten(envelope, declared=original.lstrip()[:5] == b"<?xml")


def _named_password(scope: etree._Element) -> int:
    """Elements named Password in any namespace (or none): what the byte pattern also finds."""
    return sum(1 for _ in scope.iter("{*}Password", "Password"))


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
