"""The demo's county office (hub/node/demo.py) is registered while the hub runs; the marriage
the scenario registers right after must be routed to it. Registering it waits until this
hub uses the new route, not only until the configuration watcher is woken (on a loaded
machine the watcher's check came after the marriage: CI once saw the marriage go to
SOCIAL_SECURITY and TAX only, and the node had nothing to pull)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import Settings
from hub.node.demo import CODE, register_county_office
from hub.runtime import HubRuntime


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[HubRuntime]:
    runtime = HubRuntime(Settings(data_dir=tmp_path))
    yield runtime
    runtime.close()


def test_the_county_office_receives_marriages_as_soon_as_it_is_registered(
    runtime: HubRuntime, tmp_path: Path
) -> None:
    # A watcher that has not got round to its check yet: waking it does nothing now.
    runtime.config.wake = lambda: None  # type: ignore[method-assign]
    assert CODE not in runtime.routes.route("MarriageRegistered").receivers
    register_county_office(runtime, tmp_path / "county-tax" / "package")
    assert CODE in runtime.routes.route("MarriageRegistered").receivers
    assert CODE in runtime.departments
