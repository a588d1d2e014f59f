"""The one-pass source reader and the copied skeleton give what the plain paths give."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from hub.mapping import MappingRegistry
from hub.mapping.builders import XmlBuilder
from hub.mapping.paths import parse_xml_path, xml_reader
from hub.mapping.sourcereader import XmlSourceReader

NS = {"c": "urn:x"}
PATHS = ["c:a/c:b", "c:a/@id", "c:a/c:c", "@top", "c:d", "c:a/c:b/@k", "c:e/c:f"]
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "canonical"

DOCUMENTS = [
    '<c:r xmlns:c="urn:x" top="t"><c:a id="1"><c:b k="v">x</c:b><c:c>y</c:c></c:a><c:d/></c:r>',
    # the first c:a lacks what the second has: XPath takes the second, so must the reader
    '<c:r xmlns:c="urn:x"><c:a/><c:a id="2"><c:b>z</c:b></c:a><c:e/><c:e><c:f>w</c:f></c:e></c:r>',
    # mixed content, comments and CDATA: string value of all descendant text
    '<c:r xmlns:c="urn:x"><c:a><c:b>p<!-- n -->q<c:i>r</c:i></c:b>'
    "<c:c><![CDATA[s]]>t</c:c></c:a></c:r>",
    '<c:r xmlns:c="urn:x" top=""><c:a id=""><c:b></c:b></c:a><!-- c --><c:d>  </c:d></c:r>',
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_source_reader_reads_what_each_fields_xpath_reads(document: str) -> None:
    root = etree.fromstring(document)
    paths = [parse_xml_path(text, NS) for text in PATHS]
    readers = [xml_reader(path, NS) for path in paths]
    reader = XmlSourceReader([*paths, None], [*readers, None])
    assert reader.read(root) == [read(root) for read in readers] + [None]


def test_copied_skeleton_equals_a_document_built_element_by_element() -> None:
    paths = [parse_xml_path(text, NS) for text in ["c:a/@id", "c:a/c:b", "@top", "c:d/c:e"]]
    builder = XmlBuilder("{urn:x}r", NS, paths)
    values = ["1", "two", "3", "四"]
    first, second = builder.build(values), builder.build(values)
    assert etree.tostring(first) == etree.tostring(builder._build_lazily(values))
    assert first is not second  # each delivery gets its own tree
    assert etree.tostring(builder.build(["1", None, "3", None])) == etree.tostring(
        builder._build_lazily(["1", None, "3", None])
    )


def test_shipped_mappings_translate_the_examples_as_field_by_field_reads_do() -> None:
    for mapping in MappingRegistry().all():
        example = EXAMPLES / f"{mapping.message_type}.xml"
        if mapping.direction != "outbound" or not example.exists():
            continue
        root = etree.fromstring(example.read_bytes())
        slow = [field.value(root) for field in mapping.fields()]
        assert mapping._source_reader is not None
        raws = mapping._source_reader.read(root)
        assert [f.value_of(raw) for f, raw in zip(mapping.fields(), raws, strict=True)] == slow
