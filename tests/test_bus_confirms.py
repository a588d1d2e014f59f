"""Publisher confirms for a batch (hub/bus/confirms.py) against a channel whose broker acks
while the next message is still being sent: py-amqp's ``basic_publish`` reads the frames
already waiting (it advertises ``connection.blocked``), so an ack can be read before the
wait. Against RabbitMQ that happens only under load; here it happens every time."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from hub.bus.confirms import Outgoing, publish_confirmed
from hub.errors import BusUnavailable


class _EagerBroker:
    """A confirm-mode channel: each publish first delivers the ack (or nack) of the one
    before it, as a frame read during the send; ``wait`` delivers the rest, one per call."""

    def __init__(self, refuse: frozenset[int] = frozenset()) -> None:
        self._confirm_selected = False
        self.events: defaultdict[str, set[Any]] = defaultdict(set)
        self.sent: list[str] = []
        self.refuse = refuse
        self._unanswered: list[int] = []

    def confirm_select(self) -> None:
        self.sent.clear()

    def _basic_publish(self, message: Any, exchange: str, routing_key: str) -> None:
        if self._unanswered:
            self._answer()
        self.sent.append(routing_key)
        self._unanswered.append(len(self.sent))

    def wait(self, methods: Any, timeout: float | None = None) -> None:
        if not self._unanswered:
            raise TimeoutError("no confirm will come")
        self._answer()

    def _answer(self) -> None:
        tag = self._unanswered.pop(0)
        kind = "basic_nack" if tag in self.refuse else "basic_ack"
        for callback in list(self.events[kind]):
            callback(tag, False)


def _batch(count: int) -> list[Outgoing]:
    return [Outgoing.persistent_json({"n": n}, "govhub.deliver", f"q{n}") for n in range(count)]


def test_acks_read_while_the_batch_is_still_being_sent_count_as_confirmed() -> None:
    channel = _EagerBroker()
    first, second = _batch(2), _batch(3)
    publish_confirmed(channel, first)
    publish_confirmed(channel, second)  # numbered on from the first batch
    assert all(item.confirmed for item in first + second)
    assert channel.sent == ["q0", "q1", "q0", "q1", "q2"]


def test_a_refused_message_fails_the_batch_and_only_the_unconfirmed_are_sent_again() -> None:
    channel = _EagerBroker(refuse=frozenset({2}))
    batch = _batch(3)
    with pytest.raises(BusUnavailable, match="refused 1"):
        publish_confirmed(channel, batch)
    assert [item.confirmed for item in batch] == [True, False, False]
    channel.refuse = frozenset()
    publish_confirmed(channel, batch)
    assert all(item.confirmed for item in batch)
    assert channel.sent == ["q0", "q1", "q2", "q1", "q2"]
