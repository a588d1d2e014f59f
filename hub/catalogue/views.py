"""The catalogue as people and scripts read it: plain dicts for --json, lines for a terminal."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from hub.catalogue.services import Allowed, Catalogue, Service


def catalogue_view(catalogue: Catalogue, allowed: Allowed | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "generation": catalogue.generation,
        "services": [service_view(service) for service in catalogue.services],
    }
    if allowed is not None:
        view["allowed"] = asdict(allowed)
    return view


def service_view(service: Service) -> dict[str, Any]:
    return {
        "message_type": service.message_type,
        "schema": service.schema,
        "namespace": service.namespace,
        "senders": list(service.senders),
        "versions": list(service.versions),
        "receivers": [
            {
                "department": r.department,
                "condition": r.condition or None,
                "version": r.version,
                "lossy": list(r.lossy) or None,
            }
            for r in service.receivers
        ],
        "resource": asdict(service.resource),
    }


def catalogue_lines(catalogue: Catalogue, allowed: Allowed | None) -> list[str]:
    lines = []
    for service in catalogue.services:
        meta = service.resource
        receivers = [
            (f"{r.department} (when {r.condition})" if r.condition else r.department)
            + (f" [{r.version}]" if len(service.versions) > 1 else "")
            + (" LOSSY: " + "; ".join(r.lossy) if r.lossy else "")
            for r in service.receivers
        ]
        lines += [
            f"{service.message_type}  {meta.name}  [{meta.identifier}]",
            f"  schema     {service.schema}",
            f"  versions   {', '.join(service.versions)}",
            f"  senders    {', '.join(service.senders) or '(the hub itself)'}",
            f"  receivers  {', '.join(receivers) or '(none: the hub keeps it)'}",
            f"  provider   {meta.provider}; {meta.category}; {meta.format}, {meta.update_cycle}",
            f"  sharing    {meta.sharing} ({meta.sharing_label}); "
            f"open {meta.open} ({meta.open_label})",
        ]
    if allowed is not None:
        lines += [
            f"{allowed.department} may",
            f"  send     {', '.join(allowed.sends) or '(nothing)'}",
            f"  receive  {', '.join(allowed.receives) or '(nothing)'}",
            f"  read     {', '.join(allowed.reads) or '(nothing)'}",
        ]
        if allowed.fetches:
            lines.append(f"  fetch    {', '.join(allowed.fetches)} (Receive from its mailbox)")
    return lines
