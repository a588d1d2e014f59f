"""`govhub db compact`: after pruning, the space comes back to the disk (SQLite: VACUUM;
PostgreSQL: VACUUM FULL when asked), and nothing that was kept is lost."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from datetime import timedelta
from pathlib import Path

from backends import FakeClock, new_message
from click.testing import CliRunner
from sqlalchemy import func, select

from hub.cli import main
from hub.operations.prune import prune
from hub.store import Store
from hub.store.compaction import compact, size_on_disk
from hub.store.models import MessageRow

BODY = os.urandom(16_000)  # incompressible, as stored


def fill_and_prune(store: Store, clock: FakeClock, count: int = 300) -> str:
    """``count`` old messages (no receivers: settled at once) pruned away, one recent kept."""
    for _ in range(count):
        store.save_accepted(dataclasses.replace(new_message(), original=BODY), (), 30)
    clock.advance(40 * 86400)
    kept = store.save_accepted(new_message(), (), 30).message_id
    report = prune(
        store, bodies_older_than=timedelta(days=30), metadata_older_than=timedelta(days=30)
    )
    assert report.messages_deleted == count
    return kept


def test_compact_returns_the_space_pruning_freed_and_keeps_what_was_kept(
    store: Store, clock: FakeClock
) -> None:
    kept = fill_and_prune(store, clock)
    freed_but_held = size_on_disk(store.engine)

    done = compact(store.engine, full=True)
    for _ in range(5):  # rows deleted a moment ago may still be someone's snapshot: wait it out
        if done.bytes_after < freed_but_held - 2_000_000:
            break
        time.sleep(1)
        done = compact(store.engine, full=True)

    assert done.bytes_after < freed_but_held - 2_000_000  # 300 bodies of 16 kB came back
    assert size_on_disk(store.engine) == done.bytes_after
    with store.engine.connect() as connection:
        ids = list(connection.scalars(select(MessageRow.id)))
    assert ids == [kept]


def test_db_compact_on_the_command_line_says_what_it_ran_and_the_sizes(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}", clock=clock)
    store.upgrade()
    fill_and_prune(store, clock)
    store.dispose()

    result = CliRunner().invoke(
        main, ["db", "compact", "--json"], env={"GOVHUB_DATA_DIR": str(tmp_path)}
    )

    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert (done["database"], done["how"]) == ("sqlite", "VACUUM")
    assert done["bytes_after"] < done["bytes_before"] - 2_000_000
    with Store(f"sqlite:///{tmp_path / 'hub.db'}").engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(MessageRow)) == 1
