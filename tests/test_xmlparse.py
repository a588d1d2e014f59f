"""The one hardened parser refuses hostile documents and reads legacy encodings."""

from __future__ import annotations

import re

import pytest
from backends import EXAMPLES
from lxml import etree

from hub import xmlparse
from hub.errors import BodyTooLarge, MalformedXML, SchemaInvalid
from hub.resources import CANONICAL_SCHEMA
from hub.schemas import SchemaRegistry

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


def _marriage_in_default_namespaces(**texts: str) -> etree._Element:
    """The example marriage inside a Submit, every element in a default namespace (as many
    Java stacks write it), so lxml's own paths are all ``*[n]``."""
    record = (EXAMPLES / "canonical" / "MarriageRegistered.xml").read_text("utf-8")
    record = record.split("?>", 1)[1].replace("xmlns:c=", "xmlns=").replace("c:", "")
    for name, value in texts.items():
        record = re.sub(rf"<{name}>[^<]*<", f"<{name}>{value}<", record, count=1)
    envelope = (
        '<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body>'
        f'<Submit xmlns="urn:govhub:hub:1"><message>{record}</message></Submit>'
        "</Body></Envelope>"
    )
    return etree.fromstring(envelope.encode())


def test_a_schema_error_in_default_namespaces_names_the_field_not_its_position() -> None:
    envelope = _marriage_in_default_namespaces(sex="7")
    record = next(envelope.iter("{urn:govhub:canonical:1}MarriageRegistered"))

    with pytest.raises(SchemaInvalid) as refused:
        SchemaRegistry().validate_xml(record, CANONICAL_SCHEMA)

    assert refused.value.path == "Submit/message/MarriageRegistered/partyA/sex"


def test_an_element_is_named_with_its_position_only_where_its_name_repeats() -> None:
    envelope = _marriage_in_default_namespaces()
    numbers = list(envelope.iter("{urn:govhub:canonical:1}identityNumber"))
    root = etree.fromstring(b"<a><b/><b><c/></b></a>")

    assert [xmlparse.named_path(n) for n in numbers] == [
        "Submit/message/MarriageRegistered/partyA/identityNumber",
        "Submit/message/MarriageRegistered/partyB/identityNumber",
    ]
    assert xmlparse.named_path(root[1][0]) == "a/b[2]/c"
