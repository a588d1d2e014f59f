"""3. Validate and map: canonical messages per second per core, against raw lxml.

For every canonical example and every outbound mapping that takes it, the hub's path is what
a delivery worker does: parse with the hardened parser, check identity numbers, translate
(validate the source against the canonical XSD, map, validate the target: XSD or JSON
Schema). The baseline is lxml alone: parse the same bytes and validate them against the same
canonical XSD. One thread, so the figures are per core; the two are measured alternately,
in short rounds, so a neighbour's load hits both alike. Each row also shows what each step of
the hub's path costs alone (``*_us``), to say where the time goes; the ratio is the whole path.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

from hub import xmlparse
from hub.identity import verify
from hub.mapping import Mapping, MappingRegistry
from hub.resources import CANONICAL_NAMESPACE, CANONICAL_SCHEMA, XSD_ROOT
from hub.schemas import SchemaRegistry

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "canonical"
IDENTITY_TAG = f"{{{CANONICAL_NAMESPACE}}}identityNumber"
ROUNDS = 5


def run(options: Any) -> dict[str, Any]:
    schemas = SchemaRegistry()
    registry = MappingRegistry(schemas=schemas)
    canonical = etree.XMLSchema(etree.parse(str(XSD_ROOT / CANONICAL_SCHEMA)))
    rows = []
    for example in sorted(EXAMPLES.glob("*.xml")):
        data = example.read_bytes()
        for mapping in registry.all():
            if mapping.direction == "outbound" and mapping.message_type == example.stem:
                rows.append(_measure(data, mapping, schemas, canonical, options.seconds / 4))
    ratios = [row["ratio"] for row in rows]
    return {
        "name": "validate_map",
        "what": "canonical messages/s per core: validate + map vs raw lxml parse + validate",
        "goal": "hub >= 0.3 of raw",
        "geometric_mean_ratio": round(math.prod(ratios) ** (1 / len(ratios)), 3),
        "rows": rows,
    }


def _measure(
    data: bytes,
    mapping: Mapping,
    schemas: SchemaRegistry,
    canonical: etree.XMLSchema,
    seconds: float,
) -> dict[str, Any]:
    def baseline() -> None:
        canonical.assertValid(etree.fromstring(data))

    def hub_path() -> None:
        element = xmlparse.parse(data)
        for number in element.iter(IDENTITY_TAG):
            verify(number.text or "")
        mapping.translate(element)

    raw = hub = 0.0
    for _ in range(ROUNDS):  # alternate, so drifting load hits both alike
        raw += rate(baseline, seconds / ROUNDS)
        hub += rate(hub_path, seconds / ROUNDS)
    return {
        "mapping": mapping.name,
        "bytes": len(data),
        "raw_per_second": round(raw / ROUNDS),
        "hub_per_second": round(hub / ROUNDS),
        "ratio": round(hub / raw, 3),
        "hub_us": round(ROUNDS / hub * 1e6, 1),
        **breakdown(data, mapping, schemas, seconds / 10),
    }


def breakdown(
    data: bytes, mapping: Mapping, schemas: SchemaRegistry, seconds: float
) -> dict[str, float]:
    """Microseconds per message of each step of the hub's path, timed one at a time.

    For reading only: the steps alone add up to a little less than the whole, which also
    pays for fresh trees and the objects lxml makes for them.
    """
    element = xmlparse.parse(data)
    target = mapping.apply(element)

    def identities() -> None:
        for number in element.iter(IDENTITY_TAG):
            verify(number.text or "")

    def target_check() -> None:
        if isinstance(target, dict):
            schemas.validate_json(target, mapping.target_schema)
        else:
            schemas.validate_xml(target, mapping.target_schema)

    steps: dict[str, Callable[[], object]] = {
        "parse_us": lambda: xmlparse.parse(data),
        "ids_us": identities,
        "source_xsd_us": lambda: schemas.validate_xml(element, mapping.source_schema),
        "map_us": lambda: mapping.apply(element),
        "target_us": target_check,
    }
    return {name: round(1e6 / rate(step, seconds), 1) for name, step in steps.items()}


def rate(work: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``work`` over about ``seconds`` (after a short warm-up)."""
    for _ in range(20):
        work()
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            work()
        calls += 20
    return calls / elapsed
