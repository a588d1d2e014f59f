"""A plain SOAP answer as bytes: the envelope spyne writes, made once, around the operation's
own XML text. Building a tree per answer and serializing it was most of a Submit's reply cost;
the bytes are the same (tests/test_soap_submit_response.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from lxml import etree

# The element whose place in the envelope the operation's XML takes.
_MARK = "ReplyGoesHere"
# What lxml refuses to write as text (it raises ValueError); the same refusal here.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class ReplyEnvelope:
    """The bytes before and after a Body's content, as ``etree.tostring`` writes the envelope
    spyne's Soap11/Soap12 builds (its namespace map, cleaned of what the answer does not use),
    and ``prefix``: the one that map gives the operation's namespace."""

    def __init__(self, prefix: str, before: bytes, after: bytes, encoding: str) -> None:
        self.prefix = prefix
        self._before = before
        self._after = after
        self._encoding = encoding

    def around(self, content: str) -> bytes:
        return self._before + content.encode(self._encoding) + self._after


def reply_envelope(
    soap_env: str,
    nsmap: Mapping[str, str],
    namespace: str,
    encoding: str,
    xml_declaration: bool,
) -> ReplyEnvelope | None:
    """The envelope of answers in ``namespace``; None if the map does not give that namespace a
    prefix of its own (spyne would declare it on the answer's element: no template then)."""
    envelope = etree.Element(f"{{{soap_env}}}Envelope", nsmap=dict(nsmap))
    body = etree.SubElement(envelope, f"{{{soap_env}}}Body")
    mark = etree.SubElement(body, f"{{{namespace}}}{_MARK}")
    etree.cleanup_namespaces(envelope)
    written = etree.tostring(envelope, encoding=encoding, xml_declaration=xml_declaration)
    assert isinstance(written, bytes)  # an encoding was named
    if mark.prefix is None:
        return None
    before, found, after = written.partition(f"<{mark.prefix}:{_MARK}/>".encode(encoding))
    return ReplyEnvelope(mark.prefix, before, after, encoding) if found else None


def xml_text(value: str) -> str:
    """``value`` escaped as libxml2 writes an element's text."""
    if _NOT_XML.search(value):
        raise ValueError("All strings must be XML compatible: no NULL bytes or control characters")
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


__all__ = ["ReplyEnvelope", "reply_envelope", "xml_text"]
