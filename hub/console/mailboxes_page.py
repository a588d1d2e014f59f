"""The mailboxes page: each department on a pull mailbox (hub/mailbox), what waits in it to be
received, what is received and not yet acknowledged, what is held beyond its quota, and the
quota; a full mailbox is marked, its held legs one click away."""

from __future__ import annotations

from dataclasses import dataclass

from hub.console.http import Answer, Request
from hub.console.pages import Context, chrome
from hub.console.render import render
from hub.mailbox import MAILBOX_ADAPTER
from hub.mailbox.quota import quota_of
from hub.mailbox.store import mailbox_counts


@dataclass(frozen=True)
class MailboxRow:
    department: str
    name: str
    ready: int
    leased: int
    held: int
    quota: int

    @property
    def full(self) -> bool:
        return self.held > 0 or self.ready + self.leased >= self.quota


def mailboxes(context: Context, request: Request) -> Answer:
    app = context.app
    directory = app.configuration().current().departments  # as registered now
    with app.store.engine.connect() as connection:
        counts = mailbox_counts(connection)
    quota = quota_of(app.settings.mailbox_quota, directory)
    rows = [
        MailboxRow(
            d.code,
            d.name,
            counts.get(d.code, {}).get("ready", 0),
            counts.get(d.code, {}).get("leased", 0),
            counts.get(d.code, {}).get("held", 0),
            quota(d.code),
        )
        for d in directory
        if d.adapter == MAILBOX_ADAPTER
    ]
    return Answer("200 OK", render("mailboxes.html", rows=rows, **chrome(context)))
