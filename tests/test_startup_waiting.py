"""`govhub worker` and `govhub serve --no-workers` started before their database wait for it,
one log line per attempt; they do not migrate: they wait, saying so, until `govhub db upgrade`
has run. Real processes, a real PostgreSQL made unreachable by cutting the way to it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from backends import amqp_url, fresh_postgresql_database
from queue_cleanup import session_queue_prefix
from tcp_cut import database_through_cut

from hub.polling import wait_for

pytestmark = pytest.mark.slow

COMMANDS = {  # the command, and the line it prints once it runs
    "worker": (["worker"], "govhub worker running"),
    "api": (["serve", "--no-workers", "--port", "0"], "govhub serving on"),
}


@pytest.mark.parametrize("role", sorted(COMMANDS))
def test_a_process_started_before_its_database_waits_for_it_and_its_schema(
    tmp_path: Path, role: str
) -> None:
    log = tmp_path / "process.log"
    command, running = COMMANDS[role]
    with (
        fresh_postgresql_database() as database_url,
        database_through_cut(database_url) as (
            through_cut,
            cut,
        ),
    ):
        cut.cut()  # PostgreSQL is "down" when the process starts
        env = {
            **os.environ,
            "GOVHUB_DATA_DIR": str(tmp_path / "hub"),
            "GOVHUB_DATABASE_URL": through_cut,
            "GOVHUB_BUS_URL": amqp_url(),
            "GOVHUB_QUEUE_PREFIX": session_queue_prefix(f"startup-{role}"),
        }
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "hub", *command], env=env, stdout=out, stderr=out
            )
        try:
            assert wait_for(lambda: _lines(log, "waiting for the database:") >= 2, seconds=60)
            assert process.poll() is None, log.read_text()

            cut.mend()  # PostgreSQL is back, but nobody migrated it
            assert not _lines(log, running)
            assert wait_for(lambda: _lines(log, "waiting for the database schema:"), seconds=60)
            assert process.poll() is None, log.read_text()
            assert "run `govhub db upgrade`" in log.read_text()

            subprocess.run(
                [sys.executable, "-m", "hub", "db", "upgrade"],
                env={**env, "GOVHUB_DATABASE_URL": database_url},
                check=True,
                capture_output=True,
            )
            assert wait_for(lambda: _lines(log, running), seconds=90), log.read_text()
            assert process.poll() is None, log.read_text()
        finally:
            process.terminate()
            process.wait(timeout=30)
    text = log.read_text()
    assert "Traceback" not in text, text
    assert "secret" not in text and "govhub:govhub@" not in text  # the password is not shown
    assert "Running upgrade" not in text  # it did not migrate on its own


def _lines(log: Path, start: str) -> int:
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(1 for line in text.splitlines() if start in line)
