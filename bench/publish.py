"""Publishing accepted messages' deliveries to RabbitMQ: CPU per message when each request
thread waits for its own confirms (the baseline: ``Publisher.publish_all`` per caller), and
when concurrent callers' tasks go out together with one wait (``publish_all_quietly``), in
the same run. Many threads each publish a message's two deliveries in a loop, as the API's
request threads do after their commit. Not part of the runner; needs GOVHUB_TEST_AMQP_URL.

    python -m bench.publish --threads 16 --messages 300 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from hub.bus import DeliveryTask, Publisher, delete_queues

Publish = Callable[[Sequence[DeliveryTask]], object]
DEPARTMENTS = ("TAX", "SOCIAL_SECURITY")


def _cpu_ms_per_message(publish: Publish, threads: int, messages: int) -> tuple[float, float]:
    """(ms of this process's CPU per message, messages per second)."""

    def one_thread(first: int) -> None:
        for n in range(first, first + messages):
            publish([DeliveryTask(n, department, f"k{n}") for department in DEPARTMENTS])

    workers = [threading.Thread(target=one_thread, args=(t * messages,)) for t in range(threads)]
    cpu, wall = time.process_time(), time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    total = threads * messages
    return 1000 * cpu / total, total / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--messages", type=int, default=300, help="per thread and round")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    url = os.environ["GOVHUB_TEST_AMQP_URL"]
    prefix = f"govhub.bench.publish.{uuid.uuid4().hex[:8]}."
    publisher = Publisher(url, queue_prefix=prefix)
    ways: dict[str, Publish] = {
        "each waits for its own": publisher.publish_all,
        "published together": publisher.publish_all_quietly,
    }
    try:
        publisher.publish_all([DeliveryTask(0, department, "k") for department in DEPARTMENTS])
        print(f"{'':>24} {'cpu_ms_per_message':>19} {'per_second':>11} {'cpu_ratio':>10}")
        for _ in range(options.rounds):  # alternated: the shared cores drift between rounds
            base, base_rate = _cpu_ms_per_message(
                ways["each waits for its own"], options.threads, options.messages
            )
            grouped, rate = _cpu_ms_per_message(
                ways["published together"], options.threads, options.messages
            )
            print(f"{'each waits for its own':>24} {base:19.3f} {base_rate:11.0f} {1.0:10.3f}")
            print(f"{'published together':>24} {grouped:19.3f} {rate:11.0f} {base / grouped:10.3f}")
    finally:
        publisher.close()
        delete_queues(url, list(DEPARTMENTS), prefix)


if __name__ == "__main__":
    main()
