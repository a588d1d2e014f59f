"""hub/security/scrubbing.py: what is stored of a request keeps no wsse:Password text, and is
otherwise the request as received (its bytes, or at least its document and encoding)."""

from __future__ import annotations

import pytest

from hub import xmlparse
from hub.security.scrubbing import without_passwords
from hub.security.wsse import WSSE

SECRET = "s3cret-Zq9"
ENVELOPE = f"""<?xml version="1.0" encoding="{{encoding}}"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="{WSSE}">
<s:Header><wsse:Security><wsse:UsernameToken><wsse:Username>TAX</wsse:Username>
<wsse:Password Type="#PasswordText">{{password}}</wsse:Password>
<wsse:Nonce>bm9uY2Vub25jZQ==</wsse:Nonce></wsse:UsernameToken></wsse:Security></s:Header>
<s:Body><record name="张伟"/></s:Body></s:Envelope>"""


def envelope(password: str = SECRET, encoding: str = "UTF-8") -> bytes:
    return ENVELOPE.format(encoding=encoding, password=password).encode(encoding)


def passwords(data: bytes) -> list[str]:
    return [p.text or "" for p in xmlparse.parse(data).iter(f"{{{WSSE}}}Password")]


@pytest.mark.parametrize("encoding", ["UTF-8", "GB18030"])
def test_only_the_password_text_is_cut_out_of_the_bytes(encoding: str) -> None:
    sent = envelope(encoding=encoding)
    assert without_passwords(sent) == sent.replace(SECRET.encode(), b"")


@pytest.mark.parametrize(
    "password", [f"<![CDATA[{SECRET}]]>", f"{SECRET[:3]}&#x{ord(SECRET[3]):x};{SECRET[4:]}"]
)
def test_a_password_in_cdata_or_with_character_references_is_removed_whole(password: str) -> None:
    stored = without_passwords(envelope(password))
    assert passwords(stored) == [""] and SECRET[4:].encode() not in stored
    assert "张伟" in stored.decode()


def test_a_utf16_envelope_is_written_again_in_utf16_without_the_password() -> None:
    stored = without_passwords(envelope(encoding="UTF-16"))
    assert passwords(stored) == [""]
    assert SECRET not in stored.decode("utf-16") and "张伟" in stored.decode("utf-16")


def test_a_digest_is_removed_too_and_a_password_of_another_namespace_is_kept() -> None:
    sent = envelope("ZGlnZXN0").replace(b"<record ", b"<Password>kept</Password><record ")
    stored = without_passwords(sent)
    assert passwords(stored) == [""] and b"ZGlnZXN0" not in stored
    assert b"<Password>kept</Password>" in stored


@pytest.mark.parametrize("body", [b'{"Password": "x"}', b"<a><Password>x</Password></a>", b""])
def test_bodies_without_a_wsse_password_are_returned_as_they_are(body: bytes) -> None:
    assert without_passwords(body) is body
