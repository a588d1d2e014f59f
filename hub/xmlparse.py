"""The one hardened XML parser. Nothing else in govhub parses untrusted bytes.

Refused: any DOCTYPE (so no DTD, no entity expansion, no XXE), network access,
XInclude, bodies over the size limit, text that does not decode in its declared encoding
or whose declarations (HTTP charset, XML declaration) disagree (hub/declared_encoding.py),
and an element with more than ``MAX_ATTRIBUTES`` attributes (a Submit with 200,000
attributes on its envelope was once stored). lxml's own limits stay on (``huge_tree`` off):
nesting deeper than 256 levels, and very large text nodes, are refused by libxml2 itself.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from lxml import etree

from hub.declared_encoding import reading_encoding
from hub.errors import BodyTooLarge, MalformedXML

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Far above any real element's (a signed SOAP envelope's busiest element has a handful).
MAX_ATTRIBUTES = 100


class _RefuseExternal(etree.Resolver):
    """libxml2 still reads an external DTD subset with load_dtd off; refuse every fetch."""

    def resolve(self, system_url: str, public_id: str, context: object) -> None:  # type: ignore[override]
        raise MalformedXML("external entities and DTDs are not accepted")


def _new_parser(encoding: str | None = None) -> etree.XMLParser:
    parser = etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    parser.resolvers.add(_RefuseExternal())
    return parser


_per_thread = threading.local()


def _thread_parser(encoding: str | None = None) -> etree.XMLParser:
    """lxml parsers are not thread-safe, but one per thread is reused from document to document;
    one more for each encoding a charset told it to read in."""
    if encoding is not None:
        return _thread_parser_for(encoding.lower())
    parser: etree.XMLParser | None = getattr(_per_thread, "parser", None)
    if parser is None:
        parser = _per_thread.parser = _new_parser()
    return parser


def _thread_parser_for(encoding: str) -> etree.XMLParser:
    parsers: dict[str, etree.XMLParser] = _per_thread.__dict__.setdefault("by_encoding", {})
    if encoding not in parsers:
        parsers[encoding] = _new_parser(encoding)
    return parsers[encoding]


def _attribute_past_limit() -> etree.XPath:
    """The first attribute numbered MAX_ATTRIBUTES + 1 on any element: a walk in C (lxml
    locks a shared XPath, hence one per thread)."""
    found: etree.XPath | None = getattr(_per_thread, "attribute_past_limit", None)
    if found is None:
        found = _per_thread.attribute_past_limit = etree.XPath(f"(//@*[{MAX_ATTRIBUTES + 1}])[1]")
    return found


def _check_attribute_counts(data: bytes, root: etree._Element) -> None:
    # Every attribute has its "=": with no more of them in the whole document than the limit,
    # no element can be over it, and the everyday message is not walked at all.
    if data.count(b"=") <= MAX_ATTRIBUTES:
        return
    found: Any = _attribute_past_limit()(root)
    if found:
        element = found[0].getparent()
        raise MalformedXML(
            f"an element has more than {MAX_ATTRIBUTES} attributes",
            detail=f"element {etree.QName(element).localname}, line {element.sourceline}",
        )


def parse(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, charset: str | None = None
) -> etree._Element:
    """Parse untrusted bytes into an element, or raise a ClientError saying why. ``charset``:
    the one the HTTP Content-Type names, if any."""
    if len(data) > max_bytes:
        raise BodyTooLarge(f"body is {len(data)} bytes, over the limit of {max_bytes} bytes")
    if not data or data.isspace():  # what `not data.strip()` says, without copying data
        raise MalformedXML("body is empty")
    parser = _thread_parser(reading_encoding(data, charset))
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedXML(f"not well-formed XML: {exc.msg}", detail=f"line {exc.lineno}") from exc
    except MalformedXML:
        raise
    except (ValueError, LookupError) as exc:
        raise MalformedXML(f"cannot decode XML: {exc}") from exc
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise MalformedXML("DOCTYPE declarations are not accepted")
    _check_attribute_counts(data, root)
    return root


_SOAP_BODIES = frozenset(
    {
        "{http://schemas.xmlsoap.org/soap/envelope/}Body",
        "{http://www.w3.org/2003/05/soap-envelope}Body",
    }
)
_PATH_STEP = re.compile(r"(?:[^:/\[]+:)?([^:/\[]+)(?:\[(\d+)\])?$")


def named_path(element: etree._Element) -> str:
    """Where ``element`` is, by element names from the SOAP Body down (the whole document's
    otherwise), e.g. ``Submit/message/MarriageRegistered/partyA/identityNumber``; a position
    only where a name repeats among siblings. Never lxml's ``*[4]/*[1]``, which a department's
    developer cannot read."""
    steps: list[str] = []
    current: etree._Element | None = element
    while current is not None and current.tag not in _SOAP_BODIES:
        steps.append(_step(current))
        current = current.getparent()
    return "/".join(reversed(steps))


def _step(element: etree._Element) -> str:
    name = etree.QName(element).localname
    parent = element.getparent()
    if parent is None:
        return name
    same = [sibling for sibling in parent if sibling.tag == element.tag]
    return name if len(same) == 1 else f"{name}[{same.index(element) + 1}]"


def element_at(root: etree._Element, path: str) -> etree._Element | None:
    """The element an lxml path (``/c:A/c:b[2]`` or ``/*/*[4]``, from a schema error about
    ``root``) names in ``root``'s own tree; None when the path does not lead to one."""
    steps = path.strip("/").split("/")
    current = root
    for step in steps[1:]:
        match = _PATH_STEP.match(step)
        if match is None:
            return None
        name, position = match.group(1), int(match.group(2) or 1)
        children = [
            child
            for child in current
            if isinstance(child.tag, str) and name in ("*", etree.QName(child).localname)
        ]
        if len(children) < position:
            return None
        current = children[position - 1]
    return current
