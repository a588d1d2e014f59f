"""``adapter = "mailbox"``: a department without a server. The hub pushes nothing to it; its
deliveries are translated as usual and wait in its mailbox (hub/mailbox) until it fetches
them with Receive on /soap and acknowledges them with Ack."""

from __future__ import annotations

from adapters.base import Adapter, DeliveryResult, OutboundDelivery
from hub.errors import ConfigurationError
from hub.mailbox import MAILBOX_ADAPTER


class MailboxAdapter(Adapter):
    name = MAILBOX_ADAPTER

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        # The delivery workers park mailbox deliveries before any adapter is asked.
        raise ConfigurationError(
            f"{delivery.department} has a mailbox: its deliveries wait to be received, "
            "they are never pushed"
        )
