"""The node's loop: settle what the journal left half done, pull the mailbox into the
system, send the outbox to the hub; again, until stopped. Each step is journaled before the
next, which is what makes a SIGKILL at any point harmless (see the package docstring)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.errors import HandoverFailed, HandoverRefused, HubUnreachable
from hub.identity import mask_in_text
from hub.node.handover import Handover
from hub.node.hub_client import HubClient, LeaseGone, Received, SubmitRefused
from hub.node.journal import InboxEntry, Journal
from hub.node.outbox import Outbox

log = logging.getLogger("govhub.node")


@dataclass(frozen=True)
class NodeSettings:
    purpose: str  # the legal basis every Submit from the outbox states
    max_messages: int = 10
    wait_seconds: int = 20  # Receive's long poll when the outbox is empty
    pause_seconds: float = 1.0  # after the hub could not be reached, or refused a call


class Node:
    def __init__(
        self,
        hub: HubClient,
        journal: Journal,
        handover: Handover,
        outbox: Outbox,
        settings: NodeSettings,
    ) -> None:
        self.hub = hub
        self.journal = journal
        self.handover = handover
        self.outbox = outbox
        self.settings = settings

    def run(self, stop: Callable[[], bool] = lambda: False) -> None:
        """Until ``stop()``; HubRefusedNode (credentials, no mailbox) ends it."""
        while not stop():
            try:
                self.cycle()
            except HubUnreachable as error:
                log.warning("hub not reached: %s", error)
                self.journal.missed(str(error))
                time.sleep(self.settings.pause_seconds)

    def cycle(self) -> None:
        self.acknowledge_handed()
        wait = 0 if self.outbox.count() else self.settings.wait_seconds
        received = self.hub.receive(self.settings.max_messages, wait)
        self.journal.reached()
        handed = [(m.delivery.idempotency_key, m.lease_token) for m in received if self.take(m)]
        self._ack_all(handed)
        self.send_outbox()

    def acknowledge_handed(self) -> None:
        """Handed over before a crash, not yet acknowledged: Ack with the lease we had."""
        for entry in self.journal.inbox_in_state("handed"):
            if entry.lease_token:
                self._ack(entry.idempotency_key, entry.lease_token)

    def take(self, message: Received) -> bool:
        """Hands the message over unless the journal says it was; True: the system has it
        (acknowledge it), False: it does not (it comes back)."""
        delivery = message.delivery
        key = delivery.idempotency_key
        known = self.journal.inbox_entry(key)
        if known is not None:
            self.journal.renew_lease(key, message.lease_token)
        # refused before: an operator replayed it once the system was mended; hand it again.
        if known is None or known.state in ("staged", "refused"):
            try:
                self._hand_over(message, staged=known is not None)
            except HandoverRefused as refused:
                self._give_back(message, str(refused))
                return False
            except HandoverFailed as error:
                log.warning("message %s not handed over: %s", delivery.message_id, error)
                return False  # not acknowledged: it comes back when its lease runs out
        return True  # handed now or before: acknowledge, once

    def _hand_over(self, message: Received, *, staged: bool) -> None:
        delivery = message.delivery
        if not staged:
            self.handover.stage(delivery)
            target = self.handover.target(delivery)
            self.journal.stage(
                InboxEntry(
                    delivery.idempotency_key,
                    delivery.message_id,
                    delivery.message_type,
                    target,
                    message.lease_token,
                    "staged",
                )
            )
        self.handover.commit(delivery)
        self.journal.handed(delivery.idempotency_key)
        log.info("handed over %s (%s)", delivery.message_id, delivery.message_type)

    def _give_back(self, message: Received, reason: str) -> None:
        """Nack without retry: the hub fails the leg with the system's reason (an operator
        may replay it once the system is mended)."""
        key = message.delivery.idempotency_key
        reason = mask_in_text(reason)  # the system's answer may quote the document
        log.warning("message %s refused by the system: %s", message.delivery.message_id, reason)
        try:
            self.hub.nack(message.lease_token, reason)
        except LeaseGone as gone:  # the lease ran out: it comes back, and is refused again
            log.info("lease of %s gone (%s); the hub sends it again", key, gone)
            return
        self.journal.refused(key)

    def _ack_all(self, handed: list[tuple[str, str]]) -> None:
        """One Ack for a Receive's messages; if a lease among them is gone (all or none),
        each on its own."""
        if not handed:
            return
        try:
            self.hub.ack(*(token for _, token in handed))
        except LeaseGone:
            for key, token in handed:
                self._ack(key, token)
            return
        for key, _ in handed:
            self.journal.acked(key)

    def _ack(self, key: str, lease_token: str) -> None:
        try:
            self.hub.ack(lease_token)
        except LeaseGone as gone:
            log.info("lease of %s gone (%s); the hub sends it again", key, gone)
            if str(gone) == "Client.AlreadyAcknowledged":
                self.journal.acked(key)
            else:  # not tried again until the message comes back with a new lease
                self.journal.renew_lease(key, "")
            return
        self.journal.acked(key)

    def send_outbox(self) -> None:
        for file in self.outbox.waiting():
            key = file.idempotency_key
            if self.journal.outbox_state(key) is None:
                sent_at = datetime.now(UTC).isoformat(timespec="seconds")
                try:
                    receipt = self.hub.submit(file.content, key, self.settings.purpose, sent_at)
                except SubmitRefused as refused:
                    reason = mask_in_text(str(refused))  # no identity number in clear
                    log.warning("hub refused %s: %s", file.path.name, reason)
                    self.journal.sent(
                        key, file.path.name, message_id="", duplicate=False, reason=reason
                    )
                    self.outbox.move_refused(file, reason)
                    continue
                self.journal.sent(
                    key, file.path.name, message_id=receipt.message_id, duplicate=receipt.duplicate
                )
                log.info("sent %s as %s", file.path.name, receipt.message_id)
            if self.journal.outbox_state(key) == "refused":  # a crash before its move
                self.outbox.move_refused(file, self.journal.outbox_reason(key))
            else:
                self.outbox.move_sent(file)
