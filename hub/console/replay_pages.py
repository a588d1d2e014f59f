"""Replay many from the messages list: the messages picked on the page, or every one
matching the filter. A dry run first shows which legs would be sent and which will not
(already delivered, queued, refused); nothing changes until a reason is typed and the
replay confirmed. The rules are `govhub replay`'s (hub/operations/replay.py): a delivered
leg is never delivered twice. Each replay done is a child of its message, with its page."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hub.console.http import Answer, Request
from hub.console.pages import Context, chrome, message_filter, typed_filter
from hub.console.render import render
from hub.console.replay_history import replay_child
from hub.console.sealed import seal
from hub.errors import ClientError
from hub.identity import mask
from hub.operations.replay import ReplayRequest, replay
from hub.operations.views import LegOutcome, MessageFilter, ReplayReport

PICK = "pick-"
SHOWN = 200  # outcomes listed per group; the counts cover them all
# "All matching" in one request reads at most this many legs (a page is not a batch job:
# `govhub replay` takes any number); the page says when the cap was reached.
MAX_LEGS = 10_000


@dataclass(frozen=True)
class Grouped:
    """A replay's outcomes as the preview shows them."""

    sent: list[LegOutcome]  # would be (or were) sent again
    not_sent: list[LegOutcome]  # already delivered, queued or in flight: left alone
    refused: list[LegOutcome]  # a disabled department, pruned bodies


def replay_many(context: Context, request: Request) -> Answer:
    form = request.form
    typed = typed_filter(context, form)
    scope = "all" if form.get("scope") == "all" else "picked"
    picked = tuple(sorted(name[len(PICK) :] for name in form if name.startswith(PICK)))
    if scope == "picked" and not picked:
        raise ClientError("select at least one message, or replay all matching the filter")
    report = replay(
        context.app.store,
        context.app.departments,
        _request(context, typed, picked, scope, form),
    )
    body = render(
        "replays.html",
        report=report,
        groups=_grouped(report),
        shown=SHOWN,
        capped=scope == "all" and len(report.outcomes) >= MAX_LEGS,
        max_legs=MAX_LEGS,
        scope=scope,
        picked=picked,
        sealed=seal(context.session, typed),
        reason=form.get("reason", "").strip(),
        person_masked=mask(typed["person"]) if typed["person"] else "",
        **chrome(context),
    )
    return Answer("200 OK", body)


def replay_page(context: Context, request: Request) -> Answer:
    child = replay_child(context.app.store, request.path.strip("/").split("/")[1])
    return Answer("200 OK", render("replay.html", child=child, **chrome(context)))


def _request(
    context: Context,
    typed: dict[str, str],
    picked: tuple[str, ...],
    scope: str,
    form: dict[str, str],
) -> ReplayRequest:
    wanted = message_filter(context, typed)
    settings = context.app.settings
    base = ReplayRequest(
        actor=context.session.username,
        reason=form.get("reason", "").strip(),
        dry_run=form.get("action") != "replay",
        batch_size=settings.replay_batch_size,
        batch_interval_seconds=settings.replay_batch_interval_seconds,
    )
    if scope == "all":  # as `govhub replay --state failed ...`: the filter's legs
        return dataclasses.replace(base, wanted=wanted, max_legs=MAX_LEGS)
    # The picked messages' legs, of the filter's department if it names one.
    narrowed = MessageFilter(department=wanted.department)
    return dataclasses.replace(base, message_ids=picked, wanted=narrowed)


def _grouped(report: ReplayReport) -> Grouped:
    def of(result: str) -> list[LegOutcome]:
        return [o for o in report.outcomes if o.result == result]

    return Grouped(sent=of("replayed"), not_sent=of("skipped"), refused=of("refused"))
