"""Receive, Ack and Nack on /soap: a department without a server fetches its deliveries
(hub/mailbox). Beside Submit and GetStatus in the same spyne application (soap_service.py)
and typed in the WSDL from xsd/hub/soap-api.xsd."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spyne import Boolean, ByteArray, ComplexModel, DateTime, Integer, Unicode, rpc
from spyne.service import Service

from hub.api.parked_connections import parked
from hub.api.soap_faults import fault_from
from hub.config import Settings
from hub.departments import DepartmentDirectory
from hub.errors import HubError, NoMailbox, SchemaInvalid
from hub.ingress import Ingress
from hub.mailbox import MAILBOX_ADAPTER
from hub.mailbox.access import mailbox_owner
from hub.mailbox.quota import quota_of
from hub.mailbox.store import MailboxMessage, MailboxStore
from hub.mailbox.waiting import WaitSlots
from hub.resources import HEADER_NAMESPACE
from hub.security.wsse import WsseVerifier, claimed_sender
from hub.store import Store

MAX_MESSAGES = 100
MAX_WAIT_SECONDS = 30


class ReceivedMessageModel(ComplexModel):  # type: ignore[misc]
    __namespace__ = HEADER_NAMESPACE
    __type_name__ = "ReceivedMessage"
    _type_info = [  # noqa: RUF012 (spyne reads this class attribute)
        ("messageId", Unicode),
        ("messageType", Unicode),
        ("idempotencyKey", Unicode),
        ("document", ByteArray),
        ("encoding", Unicode),
        ("leaseToken", Unicode),
        ("leaseUntil", DateTime),
    ]


# Writes a refused request into the audit log: (who, what, why); Ingress.record_refusal.
RefusalLog = Callable[[str, str, HubError], None]


@dataclass(frozen=True)
class MailboxApi:
    """What the three operations need: the mailboxes, who has one, who is asking, and
    where refusals are audited."""

    mailboxes: MailboxStore
    departments: DepartmentDirectory
    verifier: WsseVerifier | None
    slots: WaitSlots
    record_refusal: RefusalLog | None = None

    def owner(self, ctx: Any, operation: str) -> str:
        try:
            department = mailbox_owner(self.verifier, ctx.in_document)
        except HubError as error:
            self.refused(claimed_sender(ctx.in_document), operation, error)
            raise fault_from(error, path="Header/Security") from error
        if department not in self.departments or (
            self.departments.get(department).adapter != MAILBOX_ADAPTER
        ):
            refusal = NoMailbox(
                f"department {department} has no mailbox: the hub delivers to it by push "
                f'(its adapter is not "{MAILBOX_ADAPTER}")'
            )
            self.refused(department, operation, refusal)
            raise fault_from(refusal, path=operation)
        return department

    def refused(self, asker: str, operation: str, error: HubError) -> None:
        if self.record_refusal is not None:
            self.record_refusal(asker, operation, error)


def mailbox_api(
    settings: Settings, store: Store, departments: DepartmentDirectory, ingress: Ingress
) -> MailboxApi:
    quotas = quota_of(settings.mailbox_quota, departments)
    mailboxes = MailboxStore(store, settings.mailbox_lease_seconds, quotas)
    slots = WaitSlots(settings.mailbox_wait_slots, mail_in=mailboxes.with_mail)
    return MailboxApi(mailboxes, departments, ingress.verifier, slots, ingress.record_refusal)


def mailbox_service(api: MailboxApi) -> type[Service]:
    class MailboxService(Service):  # type: ignore[misc]
        @rpc(  # type: ignore[untyped-decorator]
            Integer(min_occurs=1),
            Integer(min_occurs=1),
            _returns=ReceivedMessageModel.customize(max_occurs="unbounded"),
        )
        def Receive(ctx: Any, maxMessages: int, waitSeconds: int) -> list[ReceivedMessageModel]:
            department = api.owner(ctx, "Receive")
            limit = _bounded("Receive/maxMessages", maxMessages, 1, MAX_MESSAGES)
            wait = _bounded("Receive/waitSeconds", waitSeconds, 0, MAX_WAIT_SECONDS)
            try:
                found = api.slots.first(
                    department,
                    lambda: api.mailboxes.receive(department, limit),
                    wait,
                    while_waiting=parked(getattr(ctx.transport, "req_env", None)),
                )
            except HubError as error:
                raise fault_from(error) from error
            return [_received(message) for message in found]

        @rpc(  # type: ignore[untyped-decorator]
            Unicode(min_occurs=1, max_occurs="unbounded"), _returns=Integer
        )
        def Ack(ctx: Any, leaseToken: list[str]) -> int:
            department = api.owner(ctx, "Ack")
            try:
                return api.mailboxes.ack(department, [token.strip() for token in leaseToken])
            except HubError as error:
                api.refused(department, "Ack", error)
                raise fault_from(error, path="Ack/leaseToken") from error

        @rpc(  # type: ignore[untyped-decorator]
            Unicode(min_occurs=1), Unicode(min_occurs=1), Boolean(min_occurs=1), _returns=Unicode
        )
        def Nack(ctx: Any, leaseToken: str, reason: str, retry: bool) -> str:
            department = api.owner(ctx, "Nack")
            try:
                return api.mailboxes.nack(
                    department, (leaseToken or "").strip(), reason or "", bool(retry)
                )
            except HubError as error:
                api.refused(department, "Nack", error)
                raise fault_from(error, path="Nack/leaseToken") from error

    return MailboxService


def _bounded(path: str, value: int | None, low: int, high: int) -> int:
    if value is None or not low <= value <= high:
        refusal = SchemaInvalid(f"{path.rsplit('/', 1)[-1]} must be from {low} to {high}")
        raise fault_from(refusal, path=path)
    return int(value)


def _received(message: MailboxMessage) -> ReceivedMessageModel:
    return ReceivedMessageModel(
        messageId=message.message_id,
        messageType=message.message_type,
        idempotencyKey=message.idempotency_key,
        document=[message.document],
        encoding=message.encoding,
        leaseToken=message.lease_token,
        leaseUntil=message.lease_until,
    )


__all__ = ["MailboxApi", "ReceivedMessageModel", "mailbox_api", "mailbox_service"]
