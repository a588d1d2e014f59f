"""The bus against memory:// and RabbitMQ: one queue per department, acks, clean stops."""

from __future__ import annotations

import logging
import threading
from typing import Any

import kombu
import pytest
from backends import drain, wait_for

from hub.bus import (
    DeliveryTask,
    Publisher,
    QueueConsumer,
    delete_queues,
    delivery_queue,
    in_process,
)
from hub.errors import HubError

_kombu: Any = kombu  # kombu's calls are untyped


def test_a_published_delivery_reaches_the_consumer_of_its_department_queue(
    bus_url: str, queue_prefix: str
) -> None:
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    publisher.publish("TAX", 7, "key-7")
    publisher.close()
    assert drain(bus_url, "TAX", queue_prefix, 1) == [DeliveryTask(7, "TAX", "key-7")]


def test_each_department_has_its_own_durable_queue(bus_url: str, queue_prefix: str) -> None:
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    publisher.publish("TAX", 1, "k1")
    publisher.publish("SOCIAL_SECURITY", 2, "k2")
    publisher.close()
    assert [t.delivery_id for t in drain(bus_url, "SOCIAL_SECURITY", queue_prefix, 1)] == [2]
    assert [t.delivery_id for t in drain(bus_url, "TAX", queue_prefix, 1)] == [1]
    queue = delivery_queue("TAX")
    assert (queue.name, queue.durable) == ("govhub.deliver.TAX", True)


def test_a_messages_deliveries_published_together_each_reach_their_department_queue(
    bus_url: str, queue_prefix: str
) -> None:
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    tasks = [DeliveryTask(3, "TAX", "k3"), DeliveryTask(4, "SOCIAL_SECURITY", "k4")]
    assert publisher.publish_all_quietly(tasks)
    publisher.close()
    assert drain(bus_url, "TAX", queue_prefix, 1) == [tasks[0]]
    assert drain(bus_url, "SOCIAL_SECURITY", queue_prefix, 1) == [tasks[1]]


def test_the_publisher_counts_the_tasks_waiting_in_a_department_queue(
    bus_url: str, queue_prefix: str
) -> None:
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    try:
        assert publisher.waiting("TAX") == 0  # declared on first sight, empty
        for delivery_id in (1, 2, 3):
            publisher.publish("TAX", delivery_id, "k")
        assert publisher.waiting("TAX") == 3
        assert publisher.queue("TAX") is publisher.queue("TAX")  # built once, reused
    finally:
        publisher.close()
    assert len(drain(bus_url, "TAX", queue_prefix, 3)) == 3


def test_a_queue_deleted_behind_a_new_publisher_is_declared_again(
    bus_url: str, queue_prefix: str
) -> None:
    first = Publisher(bus_url, queue_prefix=queue_prefix)
    first.publish("TAX", 1, "k")
    first.close()
    delete_queues(bus_url, ["TAX"], queue_prefix)
    second = Publisher(bus_url, queue_prefix=queue_prefix)
    second.publish("TAX", 2, "k")
    second.close()
    assert [t.delivery_id for t in drain(bus_url, "TAX", queue_prefix, 1)] == [2]


def test_publishing_from_many_threads_delivers_every_message(
    bus_url: str, queue_prefix: str
) -> None:
    publisher = Publisher(bus_url, queue_prefix=queue_prefix, pool_size=3)

    def publish_ten(first: int) -> None:
        for delivery_id in range(first, first + 10):
            publisher.publish("TAX", delivery_id, "k")

    threads = [threading.Thread(target=publish_ten, args=(n * 10,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    publisher.close()
    got = drain(bus_url, "TAX", queue_prefix, 60)
    assert sorted(t.delivery_id for t in got) == list(range(60))


def test_many_deliveries_published_in_one_call_are_all_confirmed_and_delivered(
    bus_url: str, queue_prefix: str
) -> None:
    # The broker's acks for the first come back while the last are still being sent.
    publisher = Publisher(bus_url, queue_prefix=queue_prefix, pool_size=1)
    tasks = [DeliveryTask(n, "TAX" if n % 2 else "SOCIAL_SECURITY", f"k{n}") for n in range(300)]
    assert publisher.publish_all_quietly(tasks[:150])
    assert publisher.publish_all_quietly(tasks[150:])  # the same channel, counting on
    publisher.close()
    got = drain(bus_url, "TAX", queue_prefix, 150) + drain(
        bus_url, "SOCIAL_SECURITY", queue_prefix, 150
    )
    assert sorted(t.delivery_id for t in got) == list(range(300))


def test_deliveries_published_by_many_request_threads_at_once_are_each_confirmed_once(
    bus_url: str, queue_prefix: str
) -> None:
    # Concurrent callers' tasks go out together, with one wait for the confirms.
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    start = threading.Barrier(12)
    answers: list[bool] = []

    def publish_a_message(first: int) -> None:
        tasks = [DeliveryTask(first, "TAX", "k"), DeliveryTask(first + 1, "SOCIAL_SECURITY", "k")]
        start.wait()
        answers.append(publisher.publish_all_quietly(tasks))

    threads = [threading.Thread(target=publish_a_message, args=(n * 2,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    publisher.close()
    assert answers == [True] * 12
    got = drain(bus_url, "TAX", queue_prefix, 12) + drain(
        bus_url, "SOCIAL_SECURITY", queue_prefix, 12
    )
    assert sorted(t.delivery_id for t in got) == list(range(24))


def test_concurrent_publishes_the_broker_never_got_are_each_handed_to_the_relay_once() -> None:
    handed: list[int] = []
    publisher = Publisher("amqp://guest:guest@127.0.0.1:1//", on_unpublished=handed.extend)
    start = threading.Barrier(4)
    answers: list[bool] = []

    def publish_a_message(delivery_id: int) -> None:
        start.wait()
        answers.append(publisher.publish_quietly("TAX", delivery_id, "k"))

    threads = [threading.Thread(target=publish_a_message, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [False] * 4
    assert sorted(handed) == [0, 1, 2, 3]


def test_a_handler_that_raises_does_not_stop_the_queue(bus_url: str, queue_prefix: str) -> None:
    handled: list[int] = []

    def handler(task: DeliveryTask) -> None:
        handled.append(task.delivery_id)
        if task.delivery_id == 1:
            raise RuntimeError("poison for 110105199003071234")

    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    stop = threading.Event()
    consumer = QueueConsumer(bus_url, "TAX", handler, queue_prefix=queue_prefix, poll_seconds=0.1)
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    try:
        for delivery_id in (1, 2):
            publisher.publish("TAX", delivery_id, "k")
        assert wait_for(lambda: handled == [1, 2])
    finally:
        stop.set()
        thread.join(10)
        publisher.close()
    assert not thread.is_alive()


def test_a_message_that_is_not_a_delivery_task_is_dropped_and_does_not_block_the_queue(
    bus_url: str, queue_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    if in_process(bus_url):
        pytest.skip("the in-process bus carries DeliveryTask objects: nothing else can be put")
    handled: list[int] = []
    queue = delivery_queue("TAX", queue_prefix)
    with _kombu.Connection(bus_url) as connection:
        producer = connection.Producer()
        producer.publish(
            b"{ says it is JSON, is not",
            exchange=queue.exchange,
            routing_key=queue.routing_key,
            declare=[queue],
            content_type="application/json",
            content_encoding="utf-8",
        )
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    stop = threading.Event()
    consumer = QueueConsumer(
        bus_url,
        "TAX",
        lambda task: handled.append(task.delivery_id),
        queue_prefix=queue_prefix,
        poll_seconds=0.1,
    )
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    try:
        publisher.publish("TAX", 3, "k")
        assert wait_for(lambda: handled == [3])
    finally:
        stop.set()
        thread.join(10)
        publisher.close()
    assert "dropped an undecodable message" in caplog.text
    assert "bus lost" not in caplog.text  # dropped, not mistaken for a broken connection


def test_publishing_to_an_unreachable_broker_raises_a_hub_error() -> None:
    publisher = Publisher("amqp://guest:guest@127.0.0.1:1//")
    with pytest.raises(HubError, match="cannot publish delivery 5"):
        publisher.publish("TAX", 5, "k")
    assert publisher.publish_quietly("TAX", 5, "k") is False


def test_a_consumer_sleeps_until_a_task_comes_and_wakes_to_stop(
    bus_url: str, queue_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Consumers do not poll: one that would look at ``stop`` only hourly still takes a task
    as it is put, and stops as soon as it is interrupted (on RabbitMQ its wait on the socket
    is ended), quietly."""
    prefix = queue_prefix
    handled: list[int] = []
    consumer = QueueConsumer(
        bus_url,
        "TAX",
        lambda t: handled.append(t.delivery_id),
        queue_prefix=prefix,
        poll_seconds=3600,
    )
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    publisher = Publisher(bus_url, queue_prefix=prefix)
    try:
        assert consumer.ready.wait(5)
        publisher.publish("TAX", 7, "k")
        assert wait_for(lambda: handled == [7])
        assert publisher.waiting("TAX") == 0
    finally:
        stop.set()
        consumer.interrupt()
        thread.join(10)
        publisher.close()
    assert not thread.is_alive()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
