"""How many messages a mailbox may hold waiting (received or not) before the department's
further deliveries are held: ``GOVHUB_MAILBOX_QUOTA`` (10,000), or a department's own
``mailbox_quota`` in its options (``[TAX.options] mailbox_quota = 500``).

A held delivery is kept, in order, outside the mailbox (leg state ``held``); as the
department acknowledges and its mailbox drains below the quota, the held ones enter it
again, oldest first, in the same transaction as the Ack (hub/mailbox/store.py).
"""

from __future__ import annotations

from collections.abc import Callable

from hub.departments import DepartmentDirectory

QUOTA_OPTION = "mailbox_quota"
# The quota of a department: the hub-wide one, or its own.
QuotaOf = Callable[[str], int]


def quota_of(default: int, departments: DepartmentDirectory | None) -> QuotaOf:
    """Each department's quota, read from the directory at each call (packages change live)."""

    def of(department: str) -> int:
        if departments is None or department not in departments:
            return default
        own = departments.get(department).options.get(QUOTA_OPTION)  # checked when parsed
        return default if own is None else int(own)

    return of


__all__ = ["QUOTA_OPTION", "QuotaOf", "quota_of"]
