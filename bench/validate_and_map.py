"""Validate-and-map throughput against raw lxml parse-and-validate, measured in one run.

    python bench/validate_and_map.py [--seconds 3] [--json results.json]

For every canonical example and every outbound mapping that takes it, the hub's path is:
parse with the hardened parser, validate against the canonical XSD, check identity numbers,
translate (validate source, map, validate target). The baseline is lxml alone: parse the
same bytes and validate them against the same canonical XSD. The figure that matters is the
ratio; absolute numbers move with the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from hub import xmlparse
from hub.identity import verify
from hub.mapping import MappingRegistry
from hub.resources import CANONICAL_NAMESPACE, CANONICAL_SCHEMA, XSD_ROOT
from hub.schemas import SchemaRegistry

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "canonical"
IDENTITY_TAG = f"{{{CANONICAL_NAMESPACE}}}identityNumber"


def rate(work: Callable[[], None], seconds: float) -> float:
    """Calls per second of ``work`` over about ``seconds`` (after a short warm-up)."""
    for _ in range(200):
        work()
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            work()
        calls += 100
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    schemas = SchemaRegistry()
    registry = MappingRegistry(schemas=schemas)
    canonical_schema = etree.XMLSchema(etree.parse(str(XSD_ROOT / CANONICAL_SCHEMA)))
    rows = []
    for example in sorted(EXAMPLES.glob("*.xml")):
        data = example.read_bytes()
        for mapping in registry.all():
            if mapping.direction != "outbound" or mapping.message_type != example.stem:
                continue

            def baseline(data: bytes = data) -> None:
                canonical_schema.assertValid(etree.fromstring(data))

            def hub_path(data: bytes = data, mapping: object = mapping) -> None:
                element = xmlparse.parse(data)
                schemas.validate_xml(element, CANONICAL_SCHEMA)
                for number in element.iter(IDENTITY_TAG):
                    verify(number.text or "")
                mapping.translate(element)  # type: ignore[attr-defined]

            raw, hub = rate(baseline, args.seconds), rate(hub_path, args.seconds)
            rows.append(
                {
                    "message": example.stem,
                    "mapping": mapping.name,
                    "bytes": len(data),
                    "raw_per_second": round(raw),
                    "hub_per_second": round(hub),
                    "ratio": round(hub / raw, 3),
                }
            )
    print(f"{'mapping':<52} {'bytes':>6} {'raw/s':>9} {'hub/s':>9} {'ratio':>6}")
    for row in rows:
        print(
            f"{row['mapping']:<52} {row['bytes']:>6} {row['raw_per_second']:>9} "
            f"{row['hub_per_second']:>9} {row['ratio']:>6}"
        )
    if args.json:
        machine = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "processor": platform.processor(),
            "system": platform.platform(),
        }
        args.json.write_text(json.dumps({"machine": machine, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
