"""Readable tables and lines for the operator CLI (JSON comes from views.to_jsonable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.identity import mask_in_text
from hub.operations.views import (
    LegDetail,
    LegView,
    MessageDetail,
    MessageSummary,
    PruneReport,
    ReplayReport,
    TraceAnswer,
)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(
            str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)
        ).rstrip()
        for line in lines
    )


def leg_brief(leg: LegView) -> str:
    extra = f"({leg.attempts})" if leg.state != "delivered" and leg.attempts else ""
    return f"{leg.department}:{leg.state}{extra}"


def message_table(messages: Sequence[MessageSummary], *, reveal: bool = False) -> str:
    rows = [
        [
            when(m.received_at),
            m.message_id,
            m.message_type,
            m.sender,
            m.state + (" (pruned)" if m.pruned_at else ""),
            " ".join(leg_brief(leg) for leg in m.legs) or "-",
            _text(m.correlation_id or "-", reveal),
        ]
        for m in messages
    ]
    headers = ["RECEIVED (UTC)", "MESSAGE ID", "TYPE", "SENDER", "STATE", "LEGS", "CORRELATION"]
    return table(headers, rows)


def message_detail(detail: MessageDetail) -> str:
    m = detail.summary
    lines = [
        f"message {m.message_id}: {m.message_type} from {m.sender}, {m.state}",
        f"  received {when(m.received_at)} UTC, sent {when(detail.sent_at)} UTC",
        f"  correlation {m.correlation_id or '-'}, sender's key {detail.idempotency_key}",
        f"  purpose: {detail.purpose}",
        f"  inbound mapping {detail.inbound_mapping or '- (canonical SOAP API)'}",
        f"  original sha256 {detail.original_sha256}, canonical sha256 {detail.canonical_sha256}",
    ]
    if m.pruned_at:
        lines.append(f"  bodies pruned {when(m.pruned_at)} UTC (hashes and metadata kept)")
    for leg in detail.legs:
        lines += _leg_lines(leg)
    lines += _body("as received", detail.original_content_type, detail.original)
    lines += _body("canonical", "", detail.canonical)
    for leg in detail.legs:
        lines += _body(f"as delivered to {leg.leg.department}", "", leg.payload)
    return "\n".join(lines)


def _leg_lines(detail: LegDetail) -> list[str]:
    leg = detail.leg
    lines = [
        "",
        f"leg {leg.department}: {leg.state}, {leg.attempts} attempt(s), "
        f"delivery {leg.delivery_id}, key {leg.idempotency_key}",
        f"  mapping {leg.outbound_mapping or '-'}"
        + (f", pinned to {leg.pinned_mapping}" if leg.pinned_mapping else "")
        + (f", replayed {leg.replays} time(s)" if leg.replays else ""),
    ]
    if leg.state == "skipped":  # its route condition failed on this record
        lines.append(f"  not routed: {leg.last_error}")
    if leg.delivered_at:
        lines.append(f"  delivered {when(leg.delivered_at)} UTC")
    if leg.next_attempt_at:
        lines.append(f"  next attempt {when(leg.next_attempt_at)} UTC")
    for a in detail.attempts:
        error = f" {a.error_class}: {a.error_message}" if a.error_class else ""
        lines.append(f"  #{a.number} {when(a.started_at)} {a.duration_ms} ms {a.outcome}{error}")
        if a.response_excerpt:
            lines.append(f"     answer: {a.response_excerpt}")
    return lines


def _body(title: str, content_type: str, text: str | None) -> list[str]:
    kind = f" ({content_type})" if content_type else ""
    if text is None:
        return ["", f"--- {title}{kind}: (none: pruned or never translated)"]
    return ["", f"--- {title}{kind}", text.rstrip()]


def replay_lines(report: ReplayReport) -> str:
    head = "dry run: nothing changed" if report.dry_run else f"{report.replayed} leg(s) replayed"
    lines = [f"{o.message_id}  {o.result:8}  {o.note}" for o in report.outcomes]
    lines += [f"{i}  not found" for i in report.not_found]
    return "\n".join([*lines, head])


def trace_lines(answers: Sequence[TraceAnswer], *, reveal: bool = False) -> str:
    lines = []
    for a in answers:
        m = a.message
        lines.append(
            f"{m.message_id}  {m.message_type} from {m.sender} at {when(m.received_at)} UTC"
            f" (correlation {_text(m.correlation_id or '-', reveal)})"
        )
        lines.append(f"  did every department get it? {a.verdict}")
        lines += [f"  {leg_brief(leg)}" for leg in m.legs]
    return "\n".join(lines)


def prune_line(report: PruneReport) -> str:
    verb = "would prune" if report.dry_run else "pruned"
    deleted = "would delete" if report.dry_run else "deleted"
    return (
        f"{verb} the bodies of {report.bodies_pruned} message(s); "
        f"{deleted} {report.messages_deleted} message(s) past the metadata retention"
        + (
            f"; {'would delete' if report.dry_run else 'deleted'} {report.mailbox_rows_pruned}"
            " settled mailbox row(s)"
            if report.mailbox_rows_pruned
            else ""
        )
    )


def _text(value: str, reveal: bool) -> str:
    return value if reveal else mask_in_text(value)
