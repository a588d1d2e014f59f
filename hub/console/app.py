"""The console's WSGI app: the session gate in front of every page, then the pages.

Order of the checks for a request: static file, login page; else a live session (none or
expired: back to the login page); an active account; on a POST the form's CSRF token; the
page's permission (403 with a page saying which is missing). Every refusal and every action
is audited with the account's name.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Container, Iterable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from sqlalchemy.exc import OperationalError

from hub.batch.intake import BatchIntake
from hub.config import Settings
from hub.configuration.admin import ConfigurationAdmin
from hub.console import (
    alerts_page,
    audit_export,
    batches_page,
    dashboard_page,
    departments_admin,
    mailboxes_page,
    pages,
    queries_page,
    replay_pages,
    supervision_pages,
    tracker_page,
)
from hub.console.health import HealthWatch
from hub.console.http import (
    LOGIN_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    Answer,
    Request,
    cookie,
    redirect,
    with_cookies,
)
from hub.console.lockout import Lockout
from hub.console.login import authenticate
from hub.console.render import render
from hub.console.sessions import ConsoleSession, SessionStore
from hub.errors import ClientError, FormExpired, HubError, NotAuthorized, NotFound
from hub.observability import outages
from hub.observability.pauses import RetryPauses
from hub.observability.readiness import Readiness
from hub.security import audit
from hub.security.admins import CONFIGURE, OPERATE, READ, REVEAL, TRACKER, AdminStore
from hub.security.audit import AuditLog
from hub.store import Store
from hub.untrusted import shown

log = logging.getLogger(__name__)

LOGGED_IN = "console_login"
LOGGED_OUT = "console_logout"
Handler = Callable[["pages.Context", Request], Answer]
# (method, first path part, has an id) -> the permission it needs and its handler
ROUTES: dict[tuple[str, str, str], tuple[str, Handler]] = {
    ("GET", "dashboard", ""): (READ, dashboard_page.dashboard),
    ("GET", "alerts", ""): (READ, alerts_page.alerts),
    ("GET", "audit", ""): (READ, pages.audit_trail),
    ("POST", "audit", ""): (READ, pages.audit_trail),
    ("GET", "messages", ""): (READ, pages.messages),
    ("POST", "messages", ""): (READ, pages.messages),
    ("GET", "messages", "id"): (READ, pages.message),
    ("POST", "messages", "reveal"): (REVEAL, pages.reveal),
    ("POST", "messages", "replay"): (OPERATE, pages.replay),
    ("GET", "person", ""): (READ, pages.person),
    ("GET", "departments", ""): (READ, pages.departments),
    ("GET", "departments", "id"): (READ, pages.department),
    ("POST", "departments", "pause"): (OPERATE, pages.pause),
    ("POST", "departments", "resume"): (OPERATE, pages.resume),
    ("POST", "person", ""): (READ, pages.person),
    ("POST", "replays", ""): (OPERATE, replay_pages.replay_many),
    ("GET", "replays", "id"): (READ, replay_pages.replay_page),
    ("POST", "departments", "enable"): (CONFIGURE, departments_admin.enable),
    ("POST", "departments", "disable"): (CONFIGURE, departments_admin.disable),
    ("POST", "departments", "rollback"): (CONFIGURE, departments_admin.rollback),
    ("POST", "packages", ""): (CONFIGURE, departments_admin.package),
    ("POST", "audit-export", ""): (CONFIGURE, audit_export.download),
    ("GET", "supervision", ""): (READ, supervision_pages.supervision_board),
    ("GET", "supervision", "id"): (READ, supervision_pages.supervision_case),
    ("GET", "supervision-stats", ""): (READ, supervision_pages.supervision_stats),
    ("GET", "supervision-stats.xlsx", ""): (READ, supervision_pages.supervision_workbook),
    ("GET", "queries", ""): (READ, queries_page.queries),
    ("GET", "mailboxes", ""): (READ, mailboxes_page.mailboxes),
    ("GET", "queries", "id"): (READ, queries_page.query),
    ("GET", "batches", ""): (READ, batches_page.batches),
    ("GET", "batches", "id"): (READ, batches_page.batch),
    ("GET", "batches", "report.xlsx"): (READ, batches_page.report_workbook),
    ("POST", "batches", ""): (OPERATE, batches_page.upload),
    ("POST", "batches", "commit"): (OPERATE, batches_page.commit),
    ("GET", "tracker", ""): (TRACKER, tracker_page.tracker),
    ("POST", "tracker", ""): (TRACKER, tracker_page.tracker),
}
# What a refused page says the permission was needed for, where the permission alone does
# not say it: (first path part, kind) -> words.
NEEDED_FOR = {
    ("departments", "pause"): "pausing or resuming a department's deliveries",
    ("departments", "resume"): "pausing or resuming a department's deliveries",
    ("departments", "enable"): "enabling or disabling a department",
    ("departments", "disable"): "enabling or disabling a department",
    ("departments", "rollback"): "rolling a department back to a version",
    ("packages", ""): "registering a department package",
    ("audit-export", ""): "downloading a signed audit export",
    ("batches", ""): "filing a batch",
    ("batches", "commit"): "committing a batch",
    ("tracker", ""): "a person's data trail",
}


class ConsoleApp:
    def __init__(
        self,
        store: Store,
        accounts: AdminStore,
        departments: Container[str],
        settings: Settings,
        clock: Callable[[], datetime] | None = None,
        *,
        configuration: ConfigurationAdmin | None = None,
        readiness: Readiness | None = None,
        batches: BatchIntake | None = None,
    ) -> None:
        clock = clock or (lambda: datetime.now(UTC))
        self.store = store
        self.accounts = accounts
        self.departments = departments
        self.settings = settings
        self._configuration = configuration
        self._batches = batches
        self.sessions = SessionStore(store.engine, clock, settings.console_session_seconds)
        self.lockout = Lockout(
            store.engine,
            clock,
            account_limit=settings.console_login_failures,
            address_limit=settings.console_address_login_failures,
            lockout_seconds=settings.console_lockout_seconds,
        )
        self.audit = AuditLog(store.engine, clock)
        self.health = HealthWatch(readiness)  # the /ready checks, for the dashboard

    @property
    def configured(self) -> bool:
        return self._configuration is not None

    def configuration(self) -> ConfigurationAdmin:
        if self._configuration is None:
            raise NotFound("this console was started without the departments' configuration")
        return self._configuration

    def batches(self) -> BatchIntake:
        if self._batches is None:
            raise NotFound("this console was started without the hub's batch intake")
        return self._batches

    def pauses(self) -> RetryPauses:
        """The paused deliveries (hub/observability/pauses.py, as `govhub retries` uses them);
        only a configured department may be paused."""
        return RetryPauses(
            self.store.engine,
            known=lambda: self.configuration().current().departments.codes(),
            clock=self.store.clock,
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        answer = self.answer(environ)
        start_response(answer.status, answer.wsgi_headers())
        return [answer.body]

    def answer(self, environ: dict[str, Any]) -> Answer:
        try:
            request = Request.from_environ(environ)
        except ClientError as error:  # an upload over the limit: refused before it is read
            return _problem("413 Content Too Large", shown(error.message))
        try:
            return self._route(request)
        except Exception as error:
            if outages.database_away(error):  # said once per outage (hub/observability)
                return _database_away()
            if isinstance(error, OperationalError):
                # The driver's words only: the statement's parameters stay out of the log.
                log.error("the console could not reach the database: %s", shown(str(error.orig)))
                return _problem("503 Service Unavailable", "The database is not reachable now.")
            # A bug: a page that says so, never a traceback.
            log.exception("a console page failed")
            return _problem("500 Internal Server Error", "The console failed; see the log.")

    def _route(self, request: Request) -> Answer:
        if request.path == "/static/console.css":
            return _static("console.css", "text/css; charset=utf-8")
        if request.path == "/login":
            return self._login(request)
        session = self.sessions.find(request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            ended = "?expired=1" if request.cookies.get(SESSION_COOKIE) else ""
            return redirect(f"{PREFIX}/login{ended}")
        if not self._active(session.username):  # revoked since it logged in
            self.sessions.close(session.token)
            return redirect(f"{PREFIX}/login?expired=1")
        context = pages.Context(self, session)
        try:
            return self._page(context, request)
        except NotAuthorized as error:
            self._refused(session.username, request, error)
            return _problem("403 Forbidden", error.message, context)
        except NotFound as error:
            return _problem("404 Not Found", error.message, context)
        except ClientError as error:
            return _problem("400 Bad Request", shown(error.message), context)
        except HubError as error:
            if outages.database_away(error):
                raise  # answered as every page is while the database is away
            log.warning("console page failed: %s", shown(str(error)))
            return _problem("503 Service Unavailable", shown(error.message), context)

    def _page(self, context: pages.Context, request: Request) -> Answer:
        session = context.session
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
                raise FormExpired(
                    "this form is not from your current session (reload the page and try again)"
                )
        if request.path in ("/", ""):
            return redirect(f"{PREFIX}/dashboard")
        if request.path == "/logout" and request.method == "POST":
            return self._logout(session, request)
        parts = request.path.strip("/").split("/")
        kind = parts[2] if len(parts) > 2 else ("id" if len(parts) == 2 else "")
        route = ROUTES.get((request.method, parts[0], kind))
        if route is None:
            raise NotFound(f"no console page {shown(request.path)}")
        permission, handler = route
        context.require(permission, _what(permission, parts[0], kind))
        return handler(context, request)

    def _active(self, username: str) -> bool:
        try:
            return self.accounts.get(username).state == "active"
        except HubError:
            return False

    def _login(self, request: Request) -> Answer:
        if request.method != "POST":
            return self._login_form(request, "", expired=bool(request.query.get("expired")))
        sent = request.form.get("csrf", "")
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            return self._login_form(request, "The login form expired; please try again.")
        username = request.form.get("username", "").strip()
        try:
            authenticate(
                self.accounts,
                self.lockout,
                username,
                request.form.get("secret", ""),
                request.address,
            )
        except HubError as error:
            self._refused(username or "-", request, error)
            return self._login_form(request, error.message, status="401 Unauthorized")
        session = self.sessions.open(username)
        self.audit.append(
            actor=username, action=LOGGED_IN, subject="console", details={"from": request.address}
        )
        lifetime = int(self.settings.console_session_seconds)
        return redirect(
            f"{PREFIX}/messages",
            cookie(SESSION_COOKIE, session.token, tls=request.tls, max_age=lifetime),
            cookie(LOGIN_COOKIE, "", tls=request.tls, max_age=0),
        )

    def _login_form(
        self, request: Request, error: str, *, expired: bool = False, status: str = "200 OK"
    ) -> Answer:
        token = secrets.token_urlsafe(32)
        note = "Your session ended; please log in again." if expired else ""
        body = render("login.html", error=error, note=note, **pages.chrome(None) | {"csrf": token})
        return with_cookies(
            Answer(status, body), cookie(LOGIN_COOKIE, token, tls=request.tls, max_age=3600)
        )

    def _logout(self, session: ConsoleSession, request: Request) -> Answer:
        self.sessions.close(session.token)
        self.audit.append(actor=session.username, action=LOGGED_OUT, subject="console")
        return redirect(f"{PREFIX}/login", cookie(SESSION_COOKIE, "", tls=request.tls, max_age=0))

    def _refused(self, actor: str, request: Request, error: HubError) -> None:
        self.audit.append(
            actor=actor,
            action=audit.REFUSED,
            subject=f"console {request.method} {request.path}",
            details={"fault": error.code, "message": error.message, "from": request.address},
        )


def _what(permission: str, page: str, kind: str) -> str:
    if (page, kind) in NEEDED_FOR:
        return NEEDED_FOR[(page, kind)]
    return {READ: "reading the console", OPERATE: "replay", REVEAL: "revealing"}[permission]


def _problem(status: str, message: str, context: pages.Context | None = None) -> Answer:
    body = render("problem.html", status=status, message=message, **pages.chrome(context))
    return Answer(status, body)


def _database_away() -> Answer:
    answer = _problem(
        "503 Service Unavailable",
        "The hub's database is unavailable now; this page will answer again when it is back.",
    )
    answer.headers.append(("Retry-After", str(outages.RETRY_AFTER_SECONDS)))
    return answer


def _static(name: str, content_type: str) -> Answer:
    data = resources.files("hub.console").joinpath("static", name).read_bytes()
    return Answer("200 OK", data, content_type)
