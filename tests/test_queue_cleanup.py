"""The tests' RabbitMQ queues do not pile up run after run: a session's queues and exchanges
(every prefix under its mark) are deleted when it ends, and another session's never are."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import kombu
import pytest
from backends import amqp_url
from queue_cleanup import can_list, sweep

from hub.bus import Publisher, delivery_queue

pytestmark = pytest.mark.distributed

TESTS = Path(__file__).resolve().parent
# A whole session in a process of its own, loading the plugin as tests/conftest.py does.
INNER_SESSION = """
import os
from pathlib import Path

from backends import amqp_url
from queue_cleanup import session_queue_prefix

from hub.bus import Publisher


def test_publishes_to_a_queue_no_test_deletes() -> None:
    prefix = session_queue_prefix()
    publisher = Publisher(amqp_url(), queue_prefix=prefix)
    publisher.publish("SUPERVISION", 1, "k")
    publisher.close()
    Path(os.environ["PREFIX_FILE"]).write_text(prefix, encoding="utf-8")
"""


@pytest.fixture
def broker() -> str:
    if not can_list():
        reason = "listing queues needs rabbitmqctl, run as root"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return amqp_url()


@pytest.fixture
def other_session(broker: str) -> Iterator[str]:
    """A queue under another session's mark, as a run beside this one would have."""
    mark = f"govhub.test.{uuid.uuid4().hex[:8]}."
    Publisher(broker, queue_prefix=mark + "beside.").publish("TAX", 1, "k")
    yield mark + "beside.TAX"
    sweep(broker, mark)


def exists(url: str, queue: str) -> bool:
    with kombu.Connection(url) as connection:
        try:
            connection.default_channel.queue_declare(queue, passive=True)
        except connection.channel_errors:
            return False
        return True


def test_the_sweep_deletes_what_carries_the_mark_and_nothing_else(
    broker: str, other_session: str
) -> None:
    mark = f"govhub.test.{uuid.uuid4().hex[:8]}."
    publisher = Publisher(broker, queue_prefix=mark + "one.")
    for department in ("TAX", "SUPERVISION", "320000/TAX"):  # the last: the forwards' queue
        publisher.publish(department, 1, "k")
    publisher.close()

    swept = sweep(broker, mark)

    made = [delivery_queue(d, mark + "one.").name for d in ("TAX", "SUPERVISION", "320000/TAX")]
    assert sorted(swept) == sorted(made)
    assert not any(exists(broker, queue) for queue in made)
    assert exists(broker, other_session)


def test_a_session_that_ends_leaves_no_queue_behind_and_anothers_in_place(
    broker: str, other_session: str, tmp_path: Path
) -> None:
    (tmp_path / "test_inner.py").write_text(INNER_SESSION, encoding="utf-8")
    prefix_file = tmp_path / "prefix.txt"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)]),
        "PREFIX_FILE": str(prefix_file),
    }
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "queue_cleanup", "test_inner.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr

    prefix = prefix_file.read_text(encoding="utf-8")
    assert not exists(broker, prefix + "SUPERVISION")
    assert exists(broker, other_session)
