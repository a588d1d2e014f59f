"""Publisher confirms for several messages at once: publish them all, then wait once.

py-amqp's confirm mode (``confirm_publish``) waits for the broker's ack after each
``basic_publish``: a message's two deliveries cost two round trips. Here the messages go out
back to back and one wait collects the acks. RabbitMQ numbers a confirm-mode channel's
publishes 1, 2, 3…; an ack (or nack) names one number, or with ``multiple`` every number up
to it. So each channel's count of publishes is kept here, started when confirm mode is
selected (py-amqp's own ``_confirm_selected`` flag, which it clears when a channel is opened
again). Everything published on such a channel must go through this module, or the count
would be wrong.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import amqp
from amqp import spec

from hub.errors import BusUnavailable

# A channel's publishes so far, since it entered confirm mode (forgotten with the channel).
_published: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_CONFIRMS = [spec.Basic.Ack, spec.Basic.Nack]
# A confirm that never comes must not hold a request thread for ever: the wait then fails
# like a lost connection, and the relay publishes what was not confirmed.
CONFIRM_TIMEOUT_SECONDS = 10.0


@dataclass(eq=False)
class Outgoing:
    """One message to publish: what, where, and whether the broker has confirmed it."""

    message: Any  # an amqp.Message
    exchange: str
    routing_key: str
    confirmed: bool = False

    @classmethod
    def persistent_json(cls, body: Any, exchange: str, routing_key: str) -> Outgoing:
        """``body`` as JSON, kept on disk by the broker (survives a RabbitMQ restart), as
        kombu's ``Producer.publish(serializer="json", delivery_mode=2)`` sends it."""
        message = amqp.Message(
            json.dumps(body).encode(),
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
        )
        return cls(message, exchange, routing_key)


def publish_confirmed(channel: Any, outgoing: Sequence[Outgoing]) -> None:
    """Publish every message not yet confirmed, then wait until the broker confirmed each
    (``confirmed`` set as its ack arrives, so a retry after a lost connection sends only the
    rest). Raises BusUnavailable when the broker refuses one (a nack); a lost connection, or
    no confirm within CONFIRM_TIMEOUT_SECONDS, raises the transport's error."""
    waiting: dict[int, Outgoing] = {}
    nacked: list[Outgoing] = []

    def on_ack(tag: int, multiple: bool) -> None:
        for done in _settled(waiting, tag, multiple):
            done.confirmed = True

    def on_nack(tag: int, multiple: bool) -> None:
        nacked.extend(_settled(waiting, tag, multiple))

    # Listening before the first send: py-amqp's basic_publish reads frames already waiting
    # (a blocked connection's notice), and with them the acks of this batch's first messages.
    channel.events["basic_ack"].add(on_ack)
    channel.events["basic_nack"].add(on_nack)
    try:
        _publish(channel, [item for item in outgoing if not item.confirmed], waiting)
        while waiting and not nacked:
            channel.wait(_CONFIRMS, timeout=CONFIRM_TIMEOUT_SECONDS)
    finally:
        channel.events["basic_ack"].discard(on_ack)
        channel.events["basic_nack"].discard(on_nack)
    if nacked:
        raise BusUnavailable(f"the broker refused {len(nacked)} published message(s)")


def _publish(channel: Any, outgoing: list[Outgoing], waiting: dict[int, Outgoing]) -> None:
    """Sends each message without waiting, into ``waiting`` by the number the broker gives
    it (before it is sent: its ack may be read while the next one is sent)."""
    if not channel._confirm_selected:  # a new channel, or one opened again: count anew
        channel.confirm_select()
        channel._confirm_selected = True
        _published[channel] = 0
    first = _published[channel] + 1
    for tag, item in enumerate(outgoing, start=first):
        _published[channel] = tag  # counted before sending: a send that fails may have gone
        waiting[tag] = item
        channel._basic_publish(item.message, exchange=item.exchange, routing_key=item.routing_key)


def _settled(waiting: dict[int, Outgoing], tag: int, multiple: bool) -> list[Outgoing]:
    """Takes out of ``waiting`` what an ack or nack of ``tag`` settles."""
    tags = [t for t in waiting if t <= tag] if multiple else [tag] if tag in waiting else []
    return [waiting.pop(t) for t in tags]
