"""The delivery workers' side of a bundle department: its claimed leg waits (state
``waiting``, no lease, no retry) until a bundle carries it and a receipt settles it. Nothing
is translated here: a bundle carries the canonical message, and the hub on the other side
routes and translates it for its own departments."""

from __future__ import annotations

from hub.departments import DepartmentDirectory
from hub.store import ClaimedDelivery, Store
from hub.store.moves import to_waiting

from . import network_of


def is_bundled(departments: DepartmentDirectory, department: str) -> bool:
    return department in departments and network_of(departments.get(department)) is not None


def park(store: Store, claimed: ClaimedDelivery) -> str:
    """The leg's state after: "waiting", or unchanged if the claim was lost meanwhile."""
    with store.engine.begin() as connection:
        return to_waiting(connection, claimed)
