"""The tracker page (the ``tracker`` permission): a person's data trail, as `govhub tracker`
shows it, newest first, exempted accesses marked with their reason. The identity number is
sent by a POST form (never in a URL); each look is audited with the account's name."""

from __future__ import annotations

from hub.console.http import Answer, Request
from hub.console.pages import Context, chrome
from hub.console.render import render
from hub.identity import mask
from hub.operations.timeparse import parse_time
from hub.tracker.service import build_tracker

ROWS = 500  # beyond: `govhub tracker --json` or --pdf


def tracker(context: Context, request: Request) -> Answer:
    person = request.form.get("person", "").strip() if request.method == "POST" else ""
    since = request.form.get("since", "").strip() if request.method == "POST" else ""
    entries = None
    if person:
        store = context.app.store
        entries = build_tracker(context.app.settings, store).for_operator(
            context.session.username,
            person,
            since=parse_time(since, store.clock()) if since else None,
            via="console",
        )
    body = render(
        "tracker.html",
        entries=None if entries is None else entries[:ROWS],
        total=0 if entries is None else len(entries),
        subject=mask(person) if person else "",
        since=since,
        **chrome(context),
    )
    return Answer("200 OK", body)
