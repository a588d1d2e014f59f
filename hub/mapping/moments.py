"""Canonical dates and times in the one form every mapping translates.

The canonical schema's ``xs:date`` and ``xs:dateTime`` accept more than a department's format
can hold: a date with a zone (JAXB's ``2026-05-20+08:00``), a dateTime without one or with
nanoseconds, ``24:00:00``, years past 9999. Ingress rewrites each such value, once, before
the record is stored, so a record that gets a receipt also reaches every receiver:

    date       the calendar day as written; its zone is dropped   2026-05-20+08:00 -> 2026-05-20
    dateTime   without a zone: the hub's zone (+08:00) is added;  2026-05-20T09:30:00 ->
               24:00:00 is the next day's midnight;               2026-05-20T09:30:00+08:00
               fractions beyond microseconds are cut
A year before 0001 or after 9999 (valid XSD, no department can hold it), or a moment so near
either end that moving it to another zone leaves the calendar, is refused at the door with
``Client.SchemaInvalid`` naming the element.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from typing import Any

import xmlschema
from lxml import etree

from hub.errors import SchemaInvalid
from hub.mapping.formats import DEFAULT_TIMEZONE, parse_timezone
from hub.resources import CANONICAL_SCHEMA, XSD_ROOT

_DATE = re.compile(r"(-?\d{4,})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?", re.ASCII)
_DATETIME = re.compile(
    r"(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?",
    re.ASCII,
)
# Already in the form every converter reads: left untouched (the common case, no parsing).
_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_PLAIN_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T(?!24)\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})", re.ASCII
)
# A moment this close to the end of Python's calendar overflows when a mapping moves it into
# another zone (offsets reach 14 hours each way).
_ZONE_MARGIN = timedelta(hours=28)
_MAX_DEPTH = 16


@cache
def moment_paths() -> dict[str, tuple[tuple[tuple[str, ...], bool], ...]]:
    """Per canonical record (its root's Clark name): the path (its steps' Clark names) of
    each element the canonical schema types as a date (True) or a dateTime (False)."""
    paths = {}
    # 1.0 and every later canonical version (xsd/canonical/<version>/, hub/versions)
    for file in (XSD_ROOT / CANONICAL_SCHEMA, *sorted(XSD_ROOT.glob("canonical/*/*.xsd"))):
        schema = xmlschema.XMLSchema10(str(file))
        paths.update({e.name: tuple(_typed_leaves(e, ())) for e in schema.elements.values()})
    return paths


def _typed_leaves(element: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], bool]]:
    if len(path) > _MAX_DEPTH:  # a recursive type: records are never this deep
        return
    for child in element.iterchildren():
        where = (*path, child.name)
        if not child.type.is_simple():
            yield from _typed_leaves(child, where)
            continue
        primitive = getattr(child.type, "primitive_type", None)
        kind = getattr(primitive, "local_name", None)
        if kind in ("date", "dateTime"):
            yield where, kind == "date"


def normalise_moments(record: etree._Element) -> None:
    """Rewrite, in place, every date and dateTime of a schema-valid canonical record."""
    tree = _moment_trees().get(record.tag)
    if tree is not None:
        _normalise_below(record, tree)


# Per record type, its moment paths as a tree: tag -> is_date (a leaf) or the next level.
# One pass over each level's children finds every path through it (an lxml tag filter per
# path costs more than reading each child's tag once).
_Tree = dict[str, "bool | _Tree"]


_built: dict[str, _Tree] | None = None
_building = threading.Lock()


def _moment_trees() -> dict[str, _Tree]:
    """Built once per process (reading the schemas takes a fifth of a second): the request
    threads that arrive first wait for the one building them instead of each building."""
    global _built
    if _built is None:
        with _building:
            if _built is None:
                _built = _built_trees()
    return _built


def _built_trees() -> dict[str, _Tree]:
    trees: dict[str, _Tree] = {}
    for root, paths in moment_paths().items():
        tree = trees.setdefault(root, {})
        for steps, is_date in paths:
            level = tree
            for tag in steps[:-1]:
                below = level.setdefault(tag, {})
                assert isinstance(below, dict)  # a tag is either a leaf or a level
                level = below
            level[steps[-1]] = is_date
    return trees


def _normalise_below(element: etree._Element, tree: _Tree) -> None:
    for child in element:
        entry = tree.get(child.tag)  # a comment's tag is a function: never in the tree
        if isinstance(entry, dict):
            _normalise_below(child, entry)
        elif entry is not None:
            _normalise(child, is_date=entry)


def _normalise(element: etree._Element, *, is_date: bool) -> None:
    text = element.text or ""
    if is_date:
        if not _PLAIN_DATE.fullmatch(text):
            element.text = _normal_date(text, element)
    elif not _PLAIN_DATETIME.fullmatch(text) or not _year_fits(text[:4]):
        element.text = _normal_datetime(text, element)


def _normal_date(text: str, element: etree._Element) -> str:
    match = _DATE.fullmatch(text)
    if match is None:  # the schema let it through, so this is not a date at all
        raise _refused(element, text, "is not an xs:date")
    year, month, day = _year(match.group(1), element, text), match.group(2), match.group(3)
    return date(year, int(month), int(day)).isoformat()


def _normal_datetime(text: str, element: etree._Element) -> str:
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise _refused(element, text, "is not an xs:dateTime")
    year = _year(match.group(1), element, text)
    month, day, hour, minute, second = (int(match.group(n)) for n in range(2, 7))
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    zone: tzinfo = parse_timezone(match.group(8) or DEFAULT_TIMEZONE)
    midnight_after = hour == 24  # XSD's end of the day: the next day's 00:00:00
    moment = datetime(year, month, day, 0 if midnight_after else hour, minute, second, micro, zone)
    try:
        if midnight_after:
            moment += timedelta(days=1)
        _within_calendar = (moment - _ZONE_MARGIN, moment + _ZONE_MARGIN)  # or OverflowError
    except OverflowError as exc:
        raise _refused(element, text, "is too close to the end of the calendar") from exc
    return moment.isoformat()


def _year_fits(digits: str) -> bool:
    return "0001" <= digits <= "9998"  # 9999's last day overflows in another zone


def _year(text: str, element: etree._Element, value: str) -> int:
    if text.startswith("-") or len(text) > 4 or text == "0000":
        raise _refused(element, value, "has a year outside 0001-9999")
    return int(text)


def _refused(element: etree._Element, value: str, why: str) -> SchemaInvalid:
    name = etree.QName(element).localname
    path = "/" + "/".join(
        etree.QName(e).localname for e in reversed([element, *element.iterancestors()])
    )
    return SchemaInvalid(
        f"{name} {value!r} {why}: no department can be given it", path=path, detail=path
    )
