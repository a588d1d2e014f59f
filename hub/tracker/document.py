"""The DataUsage document GetDataUsage answers (xsd/hub/data-usage.xsd): one page of the
citizen's view, written with lxml in the order the schema declares."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from hub.resources import HEADER_NAMESPACE
from hub.tracker.trail import Leg, TrailEntry, TrailPage

_H = f"{{{HEADER_NAMESPACE}}}"


def data_usage_element(page: TrailPage) -> etree._Element:
    usage = etree.Element(f"{_H}DataUsage", nsmap={"h": HEADER_NAMESPACE})
    _text(usage, "identityNumber", page.subject)
    _text(usage, "total", str(page.total))
    _text(usage, "page", str(page.page))
    _text(usage, "pageSize", str(page.page_size))
    for entry in page.entries:
        _entry(etree.SubElement(usage, f"{_H}entry"), entry)
    return usage


def usage_response(page: TrailPage) -> etree._Element:
    response = etree.Element(f"{_H}GetDataUsageResponse", nsmap={"h": HEADER_NAMESPACE})
    response.append(data_usage_element(page))
    return response


def _entry(element: etree._Element, entry: TrailEntry) -> None:
    _text(element, "kind", entry.kind)
    _text(element, "at", _moment(entry.at))
    _text(element, "reference", entry.reference)
    _text(element, "actor", entry.actor)
    _text(element, "what", entry.what)
    _text(element, "purpose", entry.purpose)
    for name in entry.fields:
        _text(element, "field", name)
    for leg in entry.legs:
        _leg(etree.SubElement(element, f"{_H}reached"), leg)
    _text(element, "pruned", "true" if entry.pruned else "false")


def _leg(element: etree._Element, leg: Leg) -> None:
    _text(element, "department", leg.department)
    _text(element, "state", leg.state)
    if leg.at is not None:
        _text(element, "at", _moment(leg.at))
    _text(element, "attempts", str(leg.attempts))


def _text(parent: etree._Element, name: str, value: str) -> None:
    etree.SubElement(parent, f"{_H}{name}").text = value


def _moment(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")
