"""The messages list, paged by keyset: each page starts after the last row of the one before
(its received time and id), so page 1,000 costs what page 1 does. The filter's meaning is the
operations layer's (hub/operations/queries.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hub.errors import ClientError
from hub.operations.queries import check_filter, page_ids, summaries
from hub.operations.views import MessageFilter, MessageSummary
from hub.store import Store

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    messages: list[MessageSummary]
    next_cursor: str | None  # "<received_at ISO>|<message id>" of the last row, if more follow


def page(store: Store, wanted: MessageFilter, cursor: str | None) -> Page:
    check_filter(wanted)
    start = _parsed(cursor) if cursor else None
    with Session(store.engine) as session:
        ids = page_ids(session, wanted, store.identities, start, wanted.limit + 1)
        found = summaries(session, ids[: wanted.limit])
    more = len(ids) > wanted.limit and found
    return Page(found, _cursor(found[-1]) if more else None)


def _cursor(last: MessageSummary) -> str:
    return f"{last.received_at.isoformat()}|{last.message_id}"


def _parsed(cursor: str) -> tuple[datetime, str]:
    at, _, message_id = cursor.partition("|")
    try:
        return datetime.fromisoformat(at), message_id
    except ValueError:
        raise ClientError("the page link is damaged; start from the first page") from None
