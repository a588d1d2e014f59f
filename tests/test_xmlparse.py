"""The one hardened parser refuses hostile documents and reads legacy encodings."""

from __future__ import annotations

import pytest

from hub import xmlparse
from hub.errors import BodyTooLarge, MalformedXML

HOSTILE = {
    "an internal entity (billion laughs)": (
        b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>'
    ),
    "an external file entity (XXE)": (
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]><x>&e;</x>'
    ),
    "an external DTD": b'<!DOCTYPE x SYSTEM "file:///etc/hostname"><x/>',
    "a network DTD": b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd"><x/>',
    "10,000 levels of nesting": b"<a>" * 10_000 + b"</a>" * 10_000,
    "bytes that are not GB18030 in a GB18030 document": (
        b'<?xml version="1.0" encoding="GB18030"?><a>\xff\xfe\x80</a>'
    ),
    "an unknown encoding": b'<?xml version="1.0" encoding="X-NOPE"?><a/>',
    "nothing at all": b"  ",
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_or_broken_documents_are_refused_as_malformed(case: str) -> None:
    with pytest.raises(MalformedXML):
        xmlparse.parse(HOSTILE[case])


def test_a_body_over_the_limit_is_refused_before_parsing() -> None:
    with pytest.raises(BodyTooLarge):
        xmlparse.parse(b"<a>" + b"x" * 2_000 + b"</a>", max_bytes=1_000)


def test_a_gb18030_document_is_decoded_as_declared() -> None:
    data = '<?xml version="1.0" encoding="GB18030"?><a>张伟</a>'.encode("gb18030")

    assert xmlparse.parse(data).text == "张伟"


def test_an_xinclude_is_left_unexpanded() -> None:
    root = xmlparse.parse(
        b'<x xmlns:xi="http://www.w3.org/2001/XInclude">'
        b'<xi:include href="/etc/hostname" parse="text"/></x>'
    )

    assert root[0].tag == "{http://www.w3.org/2001/XInclude}include"
    assert not (root.text or "").strip()
