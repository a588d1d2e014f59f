"""What a department system adds to a native push so the hub can authenticate it (used by the
mock departments; any department may copy it): a WS-Security UsernameToken in a SOAP
envelope, or the ``Authorization: GovHub-HMAC-SHA256`` header for any other body."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime

from lxml import etree

from hub import xmlparse
from hub.security.native_auth import SCHEME, hmac_signature, string_to_sign
from hub.security.wsse import PASSWORD_DIGEST, WSSE, WSU, password_digest

_BASE64 = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)


def authorization_header(
    username: str,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    *,
    now: datetime | None = None,
    nonce: str | None = None,
) -> str:
    """The Authorization value for one request; ``path`` as the hub sees it (no host)."""
    timestamp = _timestamp(now)
    nonce = nonce or base64.urlsafe_b64encode(os.urandom(18)).decode("ascii")
    signature = hmac_signature(secret, string_to_sign(method, path, timestamp, nonce, body))
    return (
        f"{SCHEME} Credential={username}, Timestamp={timestamp}, "
        f"Nonce={nonce}, Signature={signature}"
    )


def with_username_token(
    envelope: bytes, username: str, secret: str, *, now: datetime | None = None
) -> bytes:
    """The envelope (SOAP 1.1 or 1.2) with a PasswordDigest UsernameToken, in its own
    encoding (a GB18030 envelope stays GB18030)."""
    root = xmlparse.parse(envelope)
    encoding = root.getroottree().docinfo.encoding or "UTF-8"
    soap = etree.QName(root).namespace
    header = root.find(f"{{{soap}}}Header")
    if header is None:
        header = etree.Element(f"{{{soap}}}Header")
        root.insert(0, header)
    header.append(username_token(username, secret, now=now))
    data = etree.tostring(root, xml_declaration=True, encoding=encoding)
    assert isinstance(data, bytes)  # an encoding other than "unicode" gives bytes
    return data


def username_token(username: str, secret: str, *, now: datetime | None = None) -> etree._Element:
    """A wsse:Security header holding a PasswordDigest UsernameToken."""
    nonce, created = os.urandom(16), _timestamp(now)
    security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    token = etree.SubElement(security, f"{{{WSSE}}}UsernameToken")
    etree.SubElement(token, f"{{{WSSE}}}Username").text = username
    password = etree.SubElement(token, f"{{{WSSE}}}Password", Type=PASSWORD_DIGEST)
    password.text = password_digest(nonce, created, secret)
    encoded = etree.SubElement(token, f"{{{WSSE}}}Nonce", EncodingType=_BASE64)
    encoded.text = base64.b64encode(nonce).decode("ascii")
    etree.SubElement(token, f"{{{WSU}}}Created").text = created
    return security


def _timestamp(now: datetime | None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
