"""The operators' SOAP API at /admin (WSDL at /admin?wsdl): the same operations as the CLI.

ListMessages, ShowMessage, Replay, Trace, Prune, and the configuration operations of
hub/api/config_service.py (departments and routes). Errors are SOAP faults with the hub's codes
(Client.NotFound for an unknown id, Client.Error for a filter that cannot mean anything).
Identity numbers are masked unless ``reveal`` is true, which needs the ``reveal`` permission
and a ``reason`` and writes a ``reveal`` audit entry per message shown (hub/operations/reveal.py).
Every call passes ``AdminGuard``
(hub/security/admins.py): a WS-Security UsernameToken of an admin account holding the
operation's permission (read: list, show, trace; operate: replay, prune), or the fault
Client.NotAuthenticated / Client.NotAuthorized, audited as a refusal. Until an admin
account exists (``govhub admins add``) every call is refused (docs/security.md).
"""

from __future__ import annotations

import logging
from collections.abc import Container
from datetime import timedelta
from typing import Any

from lxml import etree
from spyne import Boolean, ComplexModel, DateTime, Float, Integer, Unicode, rpc
from spyne.service import Service

from hub.api.config_service import configuration_service
from hub.api.soap_protocol import HubApplication, HubSoap11, fault_from, or_fault, unbounded
from hub.config import Settings
from hub.configuration.admin import ConfigurationAdmin
from hub.errors import ClientError
from hub.identity import mask_in_text
from hub.operations.prune import prune
from hub.operations.queries import list_messages
from hub.operations.replay import ReplayRequest, replay
from hub.operations.reveal import reason_for_reveal, record_reveal
from hub.operations.show import show_message
from hub.operations.trace import trace
from hub.operations.views import (
    AttemptView,
    LegDetail,
    LegView,
    MessageDetail,
    MessageFilter,
    MessageSummary,
    ReplayReport,
    TraceAnswer,
)
from hub.security import audit
from hub.security.admins import REVEAL, AdminGuard
from hub.security.audit import AuditLog
from hub.security.reply_signing import ReplySigner
from hub.security.wsse import WSSE
from hub.store import Store
from hub.untrusted import shown

ADMIN_NAMESPACE = "urn:govhub:admin:1"
log = logging.getLogger(__name__)


class _Model(ComplexModel):  # type: ignore[misc]
    __namespace__ = ADMIN_NAMESPACE


class Leg(_Model):
    _type_info = [  # noqa: RUF012 (spyne reads this class attribute)
        ("deliveryId", Integer),
        ("department", Unicode),
        ("state", Unicode),
        ("attempts", Integer),
        ("lastError", Unicode),
        ("deliveredAt", DateTime),
        ("nextAttemptAt", DateTime),
        ("outboundMapping", Unicode),
        ("pinnedMapping", Unicode),
        ("replays", Integer),
        ("idempotencyKey", Unicode),
    ]


class Message(_Model):
    _type_info = [  # noqa: RUF012
        ("messageId", Unicode),
        ("messageType", Unicode),
        ("sender", Unicode),
        ("state", Unicode),
        ("receivedAt", DateTime),
        ("correlationId", Unicode),
        ("prunedAt", DateTime),
        ("legs", unbounded(Leg)),
    ]


class Attempt(_Model):
    _type_info = [  # noqa: RUF012
        ("number", Integer),
        ("startedAt", DateTime),
        ("durationMs", Integer),
        ("outcome", Unicode),
        ("errorClass", Unicode),
        ("errorMessage", Unicode),
        ("responseExcerpt", Unicode),
        ("payloadSha256", Unicode),
        ("outboundMapping", Unicode),
    ]


class LegHistory(_Model):
    _type_info = [  # noqa: RUF012
        ("leg", Leg),
        ("attempts", unbounded(Attempt)),
        ("payload", Unicode),
    ]


class MessageHistory(_Model):
    _type_info = [  # noqa: RUF012
        ("message", Message),
        ("purpose", Unicode),
        ("sentAt", DateTime),
        ("originalContentType", Unicode),
        ("originalSha256", Unicode),
        ("canonicalSha256", Unicode),
        ("original", Unicode),
        ("canonical", Unicode),
        ("legs", unbounded(LegHistory)),
    ]


class LegReplay(_Model):
    _type_info = [  # noqa: RUF012
        ("messageId", Unicode),
        ("department", Unicode),
        ("result", Unicode),
        ("note", Unicode),
    ]


class ReplayResult(_Model):
    _type_info = [  # noqa: RUF012
        ("dryRun", Boolean),
        ("replayed", Integer),
        ("legs", unbounded(LegReplay)),
        ("notFound", unbounded(Unicode)),
    ]


class TraceResult(_Model):
    _type_info = [  # noqa: RUF012
        ("message", Message),
        ("everyone", Boolean),
        ("verdict", Unicode),
    ]


class PruneResult(_Model):
    _type_info = [  # noqa: RUF012
        ("dryRun", Boolean),
        ("bodiesPruned", Integer),
        ("messagesDeleted", Integer),
    ]


class ListFilter(_Model):
    _type_info = [  # noqa: RUF012
        ("state", Unicode),
        ("department", Unicode),
        ("messageType", Unicode),
        ("since", DateTime),
        ("until", DateTime),
        ("identityNumber", Unicode),
        ("limit", Integer),
    ]


def build_admin_application(
    store: Store,
    departments: Container[str],
    settings: Settings,
    signer: ReplySigner | None = None,
    guard: AdminGuard | None = None,
    configuration: ConfigurationAdmin | None = None,
) -> HubApplication:
    class AdminService(Service):  # type: ignore[misc]
        @rpc(ListFilter, Boolean, Unicode, _returns=unbounded(Message))  # type: ignore[untyped-decorator]
        def ListMessages(
            ctx: Any, filter: Any, reveal: bool | None, reason: str | None
        ) -> list[Message]:
            why = revealing(ctx, reveal, reason, "ListMessages")
            found = or_fault(lambda: list_messages(store, _filter(filter)))
            revealed(ctx, why, [m.message_id for m in found], "ListMessages")
            return [_message(m, why is not None) for m in found]

        @rpc(Unicode(min_occurs=1), Boolean, Unicode, _returns=MessageHistory)  # type: ignore[untyped-decorator]
        def ShowMessage(
            ctx: Any, messageId: str, reveal: bool | None, reason: str | None
        ) -> MessageHistory:
            why = revealing(ctx, reveal, reason, "ShowMessage")
            shown = messageId or ""
            detail = or_fault(lambda: show_message(store, shown, reveal=why is not None))
            revealed(ctx, why, [detail.summary.message_id], "ShowMessage")
            return _history(detail, why is not None)

        @rpc(  # type: ignore[untyped-decorator]
            unbounded(Unicode),
            ListFilter,
            Unicode,
            Unicode,
            Boolean,
            Boolean,
            _returns=ReplayResult,
        )
        def Replay(
            ctx: Any,
            messageIds: list[str] | None,
            filter: Any,
            reason: str | None,
            actor: str | None,
            dryRun: bool | None,
            pinMapping: bool | None,
        ) -> ReplayResult:
            request = ReplayRequest(
                actor=_actor(ctx, actor),
                reason=reason or "",
                message_ids=tuple(messageIds or ()),
                wanted=_filter(filter),
                dry_run=bool(dryRun),
                pin_mapping=bool(pinMapping),
                batch_size=settings.replay_batch_size,
                batch_interval_seconds=settings.replay_batch_interval_seconds,
            )
            report = or_fault(lambda: replay(store, departments, request))
            return ReplayResult(
                dryRun=report.dry_run,
                replayed=report.replayed,
                legs=[
                    LegReplay(**_camel(vars_of(o), drop=("delivery_id",))) for o in report.outcomes
                ],
                notFound=list(report.not_found),
            )

        @rpc(Unicode(min_occurs=1), Boolean, Unicode, _returns=unbounded(TraceResult))  # type: ignore[untyped-decorator]
        def Trace(ctx: Any, key: str, reveal: bool | None, reason: str | None) -> list[TraceResult]:
            why = revealing(ctx, reveal, reason, "Trace")
            answers = or_fault(lambda: trace(store, key or ""))
            revealed(ctx, why, [a.message.message_id for a in answers], f"Trace {key}")
            return [
                TraceResult(
                    message=_message(a.message, why is not None),
                    everyone=a.everyone,
                    verdict=a.verdict,
                )
                for a in answers
            ]

        @rpc(Float, Boolean, Unicode, Unicode, _returns=PruneResult)  # type: ignore[untyped-decorator]
        def Prune(
            ctx: Any,
            olderThanDays: float | None,
            dryRun: bool | None,
            reason: str | None,
            actor: str | None,
        ) -> PruneResult:
            days = settings.body_retention_days if olderThanDays is None else olderThanDays
            report = or_fault(
                lambda: prune(
                    store,
                    bodies_older_than=timedelta(days=days),
                    batch_size=settings.prune_batch_size,
                    dry_run=bool(dryRun),
                    actor=_actor(ctx, actor),
                    reason=reason or "prune over the admin API",
                )
            )
            return PruneResult(
                dryRun=report.dry_run,
                bodiesPruned=report.bodies_pruned,
                messagesDeleted=report.messages_deleted,
            )

    audit_log = AuditLog(store.engine)

    def revealing(ctx: Any, reveal: bool | None, reason: str | None, operation: str) -> str | None:
        """The reason, when the caller asks to reveal and may (the ``reveal`` permission);
        a fault otherwise, the refusal audited. None: nothing is revealed."""
        if not reveal:
            return None
        try:
            why = reason_for_reveal(reason)
            if guard is not None:
                who = str(ctx.udc.get("actor", "")) if isinstance(ctx.udc, dict) else ""
                guard.require(who, REVEAL, f"{operation} with reveal=true")
        except ClientError as error:
            _record_refusal(audit_log, ctx.in_document, operation, error)
            raise fault_from(error) from error
        return why

    def revealed(ctx: Any, why: str | None, message_ids: list[str], via: str) -> None:
        if why is not None:
            actor = _actor(ctx, None)
            record_reveal(store, actor=actor, message_ids=message_ids, reason=why, via=via)

    def check_admin(ctx: Any) -> bool:
        """Authenticate and authorise the call; False: spyne deserializes it as usual."""
        if guard is None:
            return False
        body = ctx.in_body_doc
        operation = etree.QName(body).localname if body is not None else ""
        try:
            ctx.udc["actor"] = guard.check(ctx.in_document, operation)
        except ClientError as error:
            _record_refusal(audit_log, ctx.in_document, operation, error)
            raise
        return False

    services: list[Any] = [AdminService]
    if configuration is not None:
        services.append(configuration_service(configuration, _actor))
    return HubApplication(
        services,
        tns=ADMIN_NAMESPACE,
        name="GovHubAdmin",
        in_protocol=HubSoap11(max_bytes=settings.max_body_bytes, check=check_admin),
        out_protocol=HubSoap11(max_bytes=settings.max_body_bytes, signer=signer),
    )


def _actor(ctx: Any, given: str | None) -> str:
    """The authenticated admin; without a guard (an application built for a test), whoever
    the caller says they are."""
    authenticated = ctx.udc.get("actor") if isinstance(ctx.udc, dict) else None
    if authenticated:
        return str(authenticated)
    return given or "admin-api"


def _record_refusal(audit_log: AuditLog, envelope: Any, operation: str, error: ClientError) -> None:
    claimed = None
    if isinstance(envelope, etree._Element):
        claimed = envelope.findtext(f".//{{{WSSE}}}UsernameToken/{{{WSSE}}}Username")
    try:
        audit_log.append(
            actor=shown((claimed or "").strip()) or "unknown",
            action=audit.REFUSED,
            subject=f"admin:{operation or 'unknown'}",
            details={"code": error.code, "reason": shown(error.message)},
        )
    except Exception:  # the refusal itself must still reach the caller
        log.exception("could not audit a refusal")


def _replay_result(report: ReplayReport) -> ReplayResult:
    legs = [LegReplay(**_camel(vars_of(o), drop=("delivery_id",))) for o in report.outcomes]
    return ReplayResult(
        dryRun=report.dry_run,
        replayed=report.replayed,
        legs=legs,
        notFound=list(report.not_found),
    )


def _trace_result(answer: TraceAnswer, reveal: bool) -> TraceResult:
    return TraceResult(
        message=_message(answer.message, reveal), everyone=answer.everyone, verdict=answer.verdict
    )


def _filter(given: Any) -> MessageFilter:
    if given is None:
        return MessageFilter()
    return MessageFilter(
        state=given.state,
        department=given.department,
        message_type=given.messageType,
        since=given.since,
        until=given.until,
        person=given.identityNumber,
        limit=given.limit or 50,
    )


def vars_of(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _camel(values: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    return {camel(k): v for k, v in values.items() if k not in drop}


def _leg(leg: LegView) -> Leg:
    return Leg(**_camel(vars_of(leg)))


def _message(message: MessageSummary, reveal: bool) -> Message:
    values = _camel(vars_of(message), drop=("legs",))
    if not reveal and message.correlation_id:
        values["correlationId"] = mask_in_text(message.correlation_id)
    return Message(legs=[_leg(leg) for leg in message.legs], **values)


def _attempt(attempt: AttemptView) -> Attempt:
    return Attempt(**_camel(vars_of(attempt)))


def _leg_history(detail: LegDetail) -> LegHistory:
    return LegHistory(
        leg=_leg(detail.leg),
        attempts=[_attempt(a) for a in detail.attempts],
        payload=detail.payload,
    )


def _history(detail: MessageDetail, reveal: bool) -> MessageHistory:
    return MessageHistory(
        message=_message(detail.summary, reveal),
        purpose=detail.purpose,
        sentAt=detail.sent_at,
        originalContentType=detail.original_content_type,
        originalSha256=detail.original_sha256,
        canonicalSha256=detail.canonical_sha256,
        original=detail.original,
        canonical=detail.canonical,
        legs=[_leg_history(leg) for leg in detail.legs],
    )


__all__ = ["ADMIN_NAMESPACE", "build_admin_application"]
