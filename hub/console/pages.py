"""The console's pages over the operations layer: the messages list, a message, reveal,
replay, person, the departments and pausing their deliveries. Each takes the request's
context and answers a rendered page (or, after a change, a redirect to the page it changed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.console import browse
from hub.console.audit_page import recent_entries, verify_chain
from hub.console.departments_page import department as department_view
from hub.console.departments_page import departments as department_views
from hub.console.http import PREFIX, Answer, Request, redirect
from hub.console.render import render
from hub.console.replay_history import replays_of
from hub.console.sealed import open_sealed, seal
from hub.console.sessions import ConsoleSession
from hub.errors import ClientError, NotAuthorized, NotFound
from hub.identity import is_valid, mask
from hub.observability.pauses import Pause
from hub.operations.replay import ReplayRequest
from hub.operations.replay import replay as replay_legs
from hub.operations.reveal import reason_for_reveal, record_reveal
from hub.operations.show import show_message
from hub.operations.timeparse import parse_time
from hub.operations.trace import trace
from hub.operations.views import FILTER_STATES, MessageFilter

if TYPE_CHECKING:
    from hub.console.app import ConsoleApp

FILTER_FIELDS = ("state", "department", "type", "sender", "correlation", "person", "since", "until")


@dataclass(frozen=True)
class Context:
    app: ConsoleApp
    session: ConsoleSession

    @property
    def permissions(self) -> frozenset[str]:
        return self.app.accounts.permissions_of(self.session.username)

    def require(self, permission: str, what: str) -> None:
        if permission not in self.permissions:
            raise NotAuthorized(
                f"your account {self.session.username} lacks the '{permission}' permission "
                f"needed for {what}; an administrator can grant it with "
                f"govhub admins grant {self.session.username} {permission} --actor YOU"
            )


def chrome(context: Context | None) -> dict[str, Any]:
    """What every page's frame shows: who is logged in, the logout form's CSRF token."""
    if context is None:
        return {"username": None, "csrf": "", "permissions": frozenset()}
    return {
        "username": context.session.username,
        "csrf": context.session.csrf_token,
        "permissions": context.permissions,
    }


def messages(context: Context, request: Request) -> Answer:
    """Filtered by a GET link, or by the filter form: a POST, so that an identity number
    typed in stays out of URLs, browser history and proxy logs."""
    sent = request.form if request.method == "POST" else request.query
    typed = typed_filter(context, sent)
    found = browse.page(context.app.store, message_filter(context, typed), sent.get("after"))
    body = render(
        "messages.html",
        page=found,
        typed=typed,
        sealed=seal(context.session, typed),
        person_masked=mask(typed["person"]) if typed["person"] else "",
        states=FILTER_STATES,
        **chrome(context),
    )
    return Answer("200 OK", body)


def message(context: Context, request: Request) -> Answer:
    message_id = request.path.strip("/").split("/")[1]
    return _message_page(context, show_message(context.app.store, message_id), None, None)


def reveal(context: Context, request: Request) -> Answer:
    message_id = request.path.strip("/").split("/")[1]
    why = reason_for_reveal(request.form.get("reason"))
    detail = show_message(context.app.store, message_id, reveal=True)
    record_reveal(
        context.app.store,
        actor=context.session.username,
        message_ids=[detail.summary.message_id],
        reason=why,
        via="console",
    )
    return _message_page(context, detail, None, why)


def replay(context: Context, request: Request) -> Answer:
    """``preview`` runs the replay as a dry run; ``replay`` needs a reason and does it."""
    message_id = request.path.strip("/").split("/")[1]
    dry_run = request.form.get("action") != "replay"
    reason = request.form.get("reason", "").strip()
    if not dry_run and not reason:
        raise ClientError("a replay needs a reason (it is kept in the audit trail)")
    settings = context.app.settings
    report = replay_legs(
        context.app.store,
        context.app.departments,
        ReplayRequest(
            actor=context.session.username,
            reason=reason,
            message_ids=(message_id,),
            dry_run=dry_run,
            batch_size=settings.replay_batch_size,
            batch_interval_seconds=settings.replay_batch_interval_seconds,
        ),
    )
    if report.not_found:
        raise NotFound(f"no message with id {message_id}")
    detail = show_message(context.app.store, message_id)
    return _message_page(context, detail, report, None, reason=reason)


def person(context: Context, request: Request) -> Answer:
    key = (request.form if request.method == "POST" else request.query).get("key", "").strip()
    answers = trace(context.app.store, key) if key else []
    shown_key = mask(key) if is_valid(key.upper()) else key
    body = render("person.html", answers=answers, key=shown_key, **chrome(context))
    return Answer("200 OK", body)


def audit_trail(context: Context, request: Request) -> Answer:
    """Recent entries; a POST also walks the whole chain (on demand: it reads every entry)."""
    report = verify_chain(context.app.store) if request.method == "POST" else None
    body = render(
        "audit.html", entries=recent_entries(context.app.store), report=report, **chrome(context)
    )
    return Answer("200 OK", body)


def departments(context: Context, request: Request) -> Answer:
    rows = []
    if context.app.configured:
        rows = department_views(context.app.configuration(), _paused(context))
    body = render("departments.html", departments=rows, **chrome(context))
    return Answer("200 OK", body)


def department(context: Context, request: Request) -> Answer:
    code = request.path.strip("/").split("/")[1]
    detail = department_view(context.app.configuration(), code, _paused(context))
    body = render("department.html", d=detail, **chrome(context))
    return Answer("200 OK", body)


def pause(context: Context, request: Request) -> Answer:
    """Hold the department's deliveries (a reason required), audited with the account."""
    code = request.path.strip("/").split("/")[1]
    reason = request.form.get("reason", "").strip()
    context.app.pauses().pause(code, actor=context.session.username, reason=reason)
    return redirect(f"{PREFIX}/departments/{code}")


def resume(context: Context, request: Request) -> Answer:
    code = request.path.strip("/").split("/")[1]
    context.app.pauses().resume(code, actor=context.session.username)
    return redirect(f"{PREFIX}/departments/{code}")


def _paused(context: Context) -> dict[str, Pause]:
    return {pause.department: pause for pause in context.app.pauses().all_pauses()}


def typed_filter(context: Context, sent: dict[str, str]) -> dict[str, str]:
    """The filter as typed in the form, or as sealed by the page before (the next page, a
    replay of all matching): the identity number never travels in clear."""
    if sent.get("sealed"):
        sent = open_sealed(context.session, sent["sealed"])
    return {name: sent.get(name, "").strip() for name in FILTER_FIELDS}


def _message_page(
    context: Context, detail: Any, report: Any, revealed: str | None, *, reason: str = ""
) -> Answer:
    body = render(
        "message.html",
        detail=detail,
        report=report,
        revealed=revealed,
        reason=reason,
        replays=replays_of(context.app.store, detail.summary.message_id),
        **chrome(context),
    )
    return Answer("200 OK", body)


def message_filter(context: Context, typed: dict[str, str]) -> MessageFilter:
    now = context.app.store.clock()
    person = typed["person"].upper() or None
    if person is not None and not is_valid(person):
        raise ClientError(f"{mask(person)} is not a valid identity number (GB 11643)")
    return MessageFilter(
        state=typed["state"] or None,
        department=typed["department"] or None,
        message_type=typed["type"] or None,
        sender=typed["sender"] or None,
        correlation_id=typed["correlation"] or None,
        person=person,
        since=parse_time(typed["since"], now) if typed["since"] else None,
        until=parse_time(typed["until"], now) if typed["until"] else None,
        limit=browse.PAGE_SIZE,
    )
