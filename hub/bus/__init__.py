"""The bus (kombu): one durable queue per department; it only distributes work.

A message says which delivery to attempt: {"delivery_id", "department", "idempotency_key"}.
The database stays the truth, so a lost or repeated bus message costs nothing but time: the
relay republishes what is not confirmed, and a claim refuses what someone else holds.

URLs: ``memory://`` (embedded: the in-process queues of hub/inprocess/queues.py, not kombu)
or ``amqp://user:password@host:5672/vhost``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import kombu
import kombu.pools
from kombu.exceptions import KombuError

from hub.bus.confirms import Outgoing, publish_confirmed
from hub.errors import BusUnavailable, HubError
from hub.identity import mask_in_text
from hub.inprocess.queues import LocalQueues
from hub.observability import outages
from hub.store.batching import Batcher

log = logging.getLogger(__name__)
# memory://: the process's in-process queues, by queue name (hub/inprocess/queues.py).
LOCAL_QUEUES: LocalQueues[DeliveryTask] = LocalQueues()
Unpublished = Callable[[Sequence[int]], None]

# kombu ships py.typed but leaves most calls untyped: this module is its one boundary.
_kombu: Any = kombu
Connection = Any
Queue = Any

QUEUE_PREFIX = "govhub.deliver."
EXCHANGE_NAME = "govhub.deliver"
DEFAULT_POOL_SIZE = 8
DEFAULT_PREFETCH = 2
DEFAULT_POLL_SECONDS = 0.5
RECONNECT_SECONDS = 1.0
# Publishing after a commit must not hang the caller for long: the relay covers failures.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.1, "interval_step": 0.4}
# RabbitMQ confirms each publish: "published" means the broker has it, not that it sat in a
# socket buffer that a closing connection may throw away. (memory:// does not go through
# kombu: hub/inprocess/queues.py; kombu's memory transport polled every queue.)
_TRANSPORT_OPTIONS = {"confirm_publish": True}


@dataclass(frozen=True)
class DeliveryTask:
    delivery_id: int
    department: str
    idempotency_key: str

    def to_body(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id,
            "department": self.department,
            "idempotency_key": self.idempotency_key,
        }

    @classmethod
    def from_body(cls, body: Any) -> DeliveryTask:
        try:
            return cls(
                int(body["delivery_id"]), str(body["department"]), str(body["idempotency_key"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise HubError(f"bus message is not a delivery task: {exc!r}") from exc


# Legs to another hub's department (``DIVISION/CODE``, hub/federation) share one queue: the
# forward's outcome, not the queue, holds a leg for a hub that is down (it retries later).
FORWARD_QUEUE = "hub-forwards"


def delivery_queue(department: str, prefix: str = QUEUE_PREFIX) -> Queue:
    name = prefix + (FORWARD_QUEUE if "/" in department else department)
    exchange = _kombu.Exchange(EXCHANGE_NAME, type="direct", durable=True)
    return _kombu.Queue(name, exchange, routing_key=name, durable=True)


def _declared(producer: Any, queue: Queue) -> bool:
    """Whether the producer's connection has declared the queue already: kombu's own check
    (``maybe_declare``) first copies and binds the queue and its exchange, each time."""
    return hash(queue) in producer.connection.declared_entities


def _bus_errors(connection: Connection) -> tuple[type[BaseException], ...]:
    return (KombuError, OSError, *connection.connection_errors, *connection.channel_errors)


def _unconfirmed(
    exc: BaseException, tasks: Sequence[DeliveryTask], outgoing: Sequence[Outgoing]
) -> BusUnavailable:
    """The failure, naming the tasks the broker did not confirm (the relay sends those)."""
    unconfirmed = [task for task, item in zip(tasks, outgoing, strict=True) if not item.confirmed]
    ids = ", ".join(str(task.delivery_id) for task in unconfirmed)
    return BusUnavailable(f"cannot publish delivery {ids} to the bus: {exc}", unconfirmed)


def in_process(url: str) -> bool:
    return url.startswith("memory://")


def _by_department(tasks: Sequence[DeliveryTask]) -> dict[str, list[DeliveryTask]]:
    grouped: dict[str, list[DeliveryTask]] = {}
    for task in tasks:
        grouped.setdefault(task.department, []).append(task)
    return grouped


def _connection(url: str) -> Connection:
    return _kombu.Connection(url, transport_options=dict(_TRANSPORT_OPTIONS))


def check_connection(url: str, timeout_seconds: float) -> None:
    """Returns once a connection to the bus opened (memory:// always can); raises
    BusUnavailable saying why not."""
    if url.startswith("memory://"):
        return
    connection = _kombu.Connection(url, connect_timeout=timeout_seconds)
    try:
        connection.connect()
    except _bus_errors(connection) as exc:
        raise BusUnavailable(f"cannot connect to the bus: {exc}") from exc
    finally:
        connection.release()


class Publisher:
    """Thread-safe: producers come from a pool, each on its own pooled connection.

    Each department's queue object is built once; it is declared once per pooled connection
    (kombu remembers what a connection declared and forgets it when the connection is lost).
    """

    def __init__(
        self,
        url: str,
        *,
        queue_prefix: str = QUEUE_PREFIX,
        pool_size: int = DEFAULT_POOL_SIZE,
        on_unpublished: Unpublished | None = None,
    ) -> None:
        self.url = url
        # Told the delivery ids of tasks known not to have been published (the store makes
        # them due for the relay at once, so they go as soon as the bus is back).
        self.on_unpublished = on_unpublished
        self._outage = outages.Outage("the bus", "what cannot be published goes to the relay")
        self.queue_prefix = queue_prefix
        self._local = in_process(url)
        self._connection = _connection(url)
        self._connections = self._connection.Pool(limit=pool_size)
        self._producers = _kombu.pools.ProducerPool(self._connections, limit=pool_size)
        self._queues: dict[str, Queue] = {}
        self._errors = _bus_errors(self._connection)
        # memory:// cannot lose its connection: kombu's retry wrapper would only cost time.
        self._retry = not url.startswith("memory://")
        # Concurrent callers' tasks go out together, with one wait for the broker's confirms
        # (each request thread waited for its own before). memory:// has no confirms to share.
        self._together: Batcher[Sequence[DeliveryTask], bool] = Batcher(
            self._publish_together, self._publish_quietly, name="bus-publish"
        )

    def publish(self, department: str, delivery_id: int, idempotency_key: str) -> None:
        """Returns once the broker confirmed the message (RabbitMQ publisher confirms).

        Raises BusUnavailable when the bus stays unreachable after a short retry.
        """
        self.publish_all([DeliveryTask(delivery_id, department, idempotency_key)])

    def publish_all(self, tasks: Sequence[DeliveryTask]) -> None:
        """``publish`` for every task, on one producer from the pool (taking a producer binds
        it anew, about a third of a publish's cost), with ONE wait for the broker's confirms
        (hub/bus/confirms.py). Raises BusUnavailable naming the tasks not confirmed; the
        relay publishes those."""
        if self._local:
            for department, grouped in _by_department(tasks).items():
                LOCAL_QUEUES[delivery_queue(department, self.queue_prefix).name].put_all(grouped)
            return
        outgoing = [self._outgoing(task) for task in tasks]
        try:
            with self._producers.acquire(block=True) as producer:
                queues = {self.queue(department) for department in _by_department(tasks)}
                send = self._send_on
                if self._retry:  # a lost connection: connect again, send what is unconfirmed
                    send = producer.connection.ensure(producer, send, **PUBLISH_RETRY_POLICY)
                send(producer, queues, outgoing)
        except self._errors as exc:  # taking the producer connects it
            raise _unconfirmed(exc, tasks, outgoing) from exc
        except BusUnavailable as exc:  # the broker refused one
            raise _unconfirmed(exc, tasks, outgoing) from exc
        self._outage.answered()

    def _outgoing(self, task: DeliveryTask) -> Outgoing:
        queue = self.queue(task.department)
        return Outgoing.persistent_json(task.to_body(), queue.exchange.name, queue.routing_key)

    def _send_on(self, producer: Any, queues: set[Queue], outgoing: Sequence[Outgoing]) -> None:
        for queue in queues:
            if not _declared(producer, queue):
                producer.maybe_declare(queue)
        publish_confirmed(producer.channel, outgoing)

    def queue(self, department: str) -> Queue:
        """The department's queue, unbound, built once (a race builds an equal one)."""
        queue = self._queues.get(department)
        if queue is None:
            queue = self._queues.setdefault(
                department, delivery_queue(department, self.queue_prefix)
            )
        return queue

    def waiting(self, department: str) -> int | None:
        """How many tasks sit in the department's queue (declared if missing), not counting
        those consumers hold unacknowledged; None when the bus cannot say."""
        if self._local:
            return len(LOCAL_QUEUES[self.queue(department).name])
        queue = self.queue(department)
        try:
            with self._connections.acquire(block=True) as connection:
                channel = connection.default_channel
                _, count, _ = queue(channel).queue_declare()
                return int(count)
        except self._errors as exc:
            self._outage.failed(exc)  # one line for the outage, not one per pass
            return None

    def publish_quietly(self, department: str, delivery_id: int, idempotency_key: str) -> bool:
        """Publish, or log and return False: the relay republishes when the lease ends."""
        return self.publish_all_quietly([DeliveryTask(delivery_id, department, idempotency_key)])

    def publish_all_quietly(self, tasks: Sequence[DeliveryTask]) -> bool:
        """``publish_all``, or log and return False: the relay publishes what is missing.
        Tasks that other threads publish at the same moment go out with these, with one wait
        for the broker's confirms (each caller still returns only once its own are confirmed)."""
        if self._local or not tasks:
            return self._publish_quietly(tasks)
        return self._together.submit(tasks)

    def _publish_together(self, groups: Sequence[Sequence[DeliveryTask]]) -> list[bool]:
        unpublished = self._unpublished([task for tasks in groups for task in tasks])
        return [not any(task.delivery_id in unpublished for task in tasks) for tasks in groups]

    def _publish_quietly(self, tasks: Sequence[DeliveryTask]) -> bool:
        return not self._unpublished(tasks)

    def _unpublished(self, tasks: Sequence[DeliveryTask]) -> set[int]:
        """Publishes; the delivery ids of the tasks that could not be (logged once per
        outage, and told to ``on_unpublished``)."""
        try:
            self.publish_all(tasks)
        except BusUnavailable as error:
            self._outage.failed(error)
            unpublished = [task.delivery_id for task in error.unpublished]
            if self.on_unpublished is not None:
                self.on_unpublished(unpublished)
            return set(unpublished)
        return set()

    def close(self) -> None:
        self._producers.force_close_all()
        self._connections.force_close_all()
        self._connection.release()


Handler = Callable[[DeliveryTask], None]


class QueueConsumer:
    """Consumes one department's queue in the calling thread until ``stop`` is set.

    Each message is acked after its handler returns or raises: the database, not the bus,
    remembers unfinished work, so a poison message never blocks the queue.
    """

    def __init__(
        self,
        url: str,
        department: str,
        handler: Handler,
        *,
        queue_prefix: str = QUEUE_PREFIX,
        prefetch: int = DEFAULT_PREFETCH,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> None:
        self.url = url
        self.department = department
        self.handler = handler
        self.queue = delivery_queue(department, queue_prefix)
        self.prefetch = prefetch
        self.poll_seconds = poll_seconds
        self.ready = threading.Event()  # set once the queue is declared and consumed
        # An idle consumer waits long on the broker's socket; ``interrupt`` ends that wait by
        # shutting the socket down, but never under a task being handled (it finishes, acked).
        self._connection: Connection | None = None
        self._handling = False
        self._interrupted = False
        self._turn = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        if in_process(self.url):
            self._take_local(stop)
            return
        while not stop.is_set():
            connection = self._connection = _connection(self.url)
            try:
                self._consume(connection, stop)
            except _bus_errors(connection) as exc:
                if stop.is_set():  # our own interrupt ended the wait
                    return
                log.warning("bus lost for %s (%s); reconnecting", self.queue.name, exc)
                stop.wait(RECONNECT_SECONDS)
            except Exception:  # never let one surprise end this department's consumer
                log.exception("consumer of %s failed; starting again", self.queue.name)
                stop.wait(RECONNECT_SECONDS)
            finally:
                connection.release()

    def _consume(self, connection: Connection, stop: threading.Event) -> None:
        with connection.Consumer(
            [self.queue],
            callbacks=[self._on_message],
            accept=["json"],
            prefetch_count=self.prefetch,
            on_decode_error=self._on_undecodable,
        ):
            self.ready.set()
            while not stop.is_set():
                try:
                    connection.drain_events(timeout=self.poll_seconds)
                except TimeoutError:
                    continue

    def interrupt(self) -> None:
        """Wake the consumer now (it would see ``stop`` at its next wake-up): the in-process
        queue's condition, or the broker connection's socket when no task is being handled
        (one being handled finishes and is acked; the loop then sees ``stop``)."""
        if in_process(self.url):
            LOCAL_QUEUES[self.queue.name].interrupt()
            return
        with self._turn:
            self._interrupted = True
            if not self._handling:
                _shut_down(self._connection)

    def _take_local(self, stop: threading.Event) -> None:
        """memory://: sleep until a task is put (hub/inprocess/queues.py), no polling."""
        queue = LOCAL_QUEUES[self.queue.name]
        self.ready.set()
        while not stop.is_set():
            task = queue.take(self.poll_seconds)
            if task is not None:
                self._handle(task)

    def _on_undecodable(self, message: Any, exc: Exception) -> None:
        """Not a delivery task at all (wrong content type, not JSON): drop it, or it would
        come back forever and block the queue; the database holds the real work."""
        log.error("dropped an undecodable message on %s: %s", self.queue.name, exc)
        message.ack()

    def _on_message(self, body: Any, message: Any) -> None:
        with self._turn:
            if self._interrupted:  # stopping: left unacked, the broker gives it to another
                return
            self._handling = True
        try:
            self._handle(DeliveryTask.from_body(body))
        except HubError as exc:  # not a delivery task
            log.error("handling %s failed: %s", self.queue.name, mask_in_text(repr(exc)))
        finally:
            message.ack()
            with self._turn:
                self._handling = False

    def _handle(self, task: DeliveryTask) -> None:
        try:
            self.handler(task)
        except Exception as exc:  # the relay brings it back; never stop the queue for one
            if outages.is_database_outage(exc):
                outages.DATABASE.failed(exc)
            else:
                log.error("handling %s failed: %s", self.queue.name, mask_in_text(repr(exc)))


def _shut_down(connection: Connection | None) -> None:
    """End a blocking read on ``connection`` from another thread: shutting the socket down
    (not closing it) makes the reader's recv return at once; the reader then closes it."""
    if connection is None or not connection.connected:  # .connection would connect it
        return
    sock = getattr(getattr(connection.connection, "transport", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def delete_queues(url: str, departments: list[str], queue_prefix: str = QUEUE_PREFIX) -> None:
    """Remove the departments' queues (tests and tear-down of a test deployment)."""
    if in_process(url):
        for department in departments:
            LOCAL_QUEUES.clear(queue_prefix + department)
        return
    with _connection(url) as connection:
        channel = connection.default_channel
        for department in departments:
            delivery_queue(department, queue_prefix)(channel).delete()
