"""Answering a query: check the request and the requester's rights, ask every source of every
part at once, wait at most the deadline, and merge what came into one CitizenDossier."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests

from hub.errors import NotAuthorized, NotFound, SchemaInvalid, StoreUnavailable, UnknownPart
from hub.identity import mask, verify
from hub.mapping import MappingRegistry
from hub.query.config import QueryConfig
from hub.query.dossier import Dossier, Outcome
from hub.query.pending import PendingQueries
from hub.query.sources import Fact, NotHeld, SourceFailed, SourceRefused, ask_source

log = logging.getLogger(__name__)

EndpointOf = Callable[[str], str]
# Keeps the record of an answered query (hub/query/record.py), given its time in ms.
Recorder = Callable[[Dossier, int], None]
# Threads that wait on departments: one per source asked, shared by every query.
_ASKERS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="query-source")
# Threads that run QueryAsync's queries: apart, so they never take the askers they wait on.
_RUNNERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="query-async")
# How long past its deadline a query's own process has to settle it before GetQueryResult
# takes it for dead; and how often a process that did not take the query looks again.
ORPHAN_GRACE_SECONDS = 1.0
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class QueryRequest:
    requester: str
    purpose: str
    subject: str  # identity number
    parts: tuple[str, ...]  # empty: every part the requester may read
    deadline_seconds: float | None = None


class QueryService:
    def __init__(
        self,
        config: Callable[[], QueryConfig],
        endpoint_of: EndpointOf,
        *,
        default_deadline: float = 3.0,
        max_deadline: float = 10.0,
        recorder: Recorder | None = None,
        pending: PendingQueries | None = None,
        mappings: Callable[[], MappingRegistry] | None = None,
    ) -> None:
        self._config = config
        # Where each source's answers mapping is found (the live configuration's, packages'
        # included); without one, the shipped mappings.
        self._mappings = mappings or _fixed(MappingRegistry())
        self._endpoint_of = endpoint_of
        self.default_deadline = default_deadline
        self.max_deadline = max_deadline
        self._recorder = recorder
        self._pending = pending
        self._running: dict[str, Future[None]] = {}  # QueryAsync runners of this process
        self._lock = threading.Lock()

    def check(self, request: QueryRequest) -> list[str]:
        """The parts to ask; a clear error for a request that cannot be answered."""
        if not request.purpose.strip():
            raise SchemaInvalid("a query states its purpose", path="Query/header/purpose")
        verify(request.subject, where="Query/request/subject")
        config = self._config()
        readable = config.readable(request.requester)
        unknown = [p for p in request.parts if p not in config.parts]
        if unknown:
            raise UnknownPart(
                f"unknown part(s) {', '.join(unknown)}",
                detail=f"known parts: {', '.join(config.parts)}",
            )
        refused = [p for p in request.parts if p not in readable]
        if refused:
            raise NotAuthorized(f"{request.requester} may not read {', '.join(refused)}")
        return list(request.parts) or readable

    def query(self, request: QueryRequest) -> Dossier:
        """The dossier, after at most the request's deadline."""
        return self._run(request, self.check(request), str(uuid.uuid4()))

    def start(self, request: QueryRequest) -> str:
        """QueryAsync: check at once, answer later; the query's id. The query is kept in the
        store, so GetQueryResult answers it from any process, even after this one died."""
        if self._pending is None:
            raise StoreUnavailable("QueryAsync needs the store to keep its queries")
        parts, query_id = self.check(request), str(uuid.uuid4())
        config, asked_at = self._config(), datetime.now(UTC)
        skeleton = Dossier(query_id, request.subject, request.requester, request.purpose, asked_at)
        skeleton.sections = [(config.parts[part], []) for part in parts]
        deadline_at = asked_at + timedelta(seconds=self._deadline(request))
        self._pending.open(skeleton, deadline_at)
        future = _RUNNERS.submit(self._run_kept, request, parts, query_id, asked_at)
        with self._lock:
            for finished in [k for k, f in self._running.items() if f.done()]:
                del self._running[finished]
            self._running[query_id] = future
        return query_id

    def result(self, query_id: str) -> Dossier:
        """GetQueryResult: the dossier, waiting until its deadline passes at most. A query
        whose process stopped is answered after its deadline with its sources as they stood."""
        if self._pending is None:
            raise NotFound(f"no query {query_id}")
        with self._lock:
            running = self._running.get(query_id.strip().lower())
        if running is not None:  # asked of this process: no need to poll the store
            wait([running], timeout=self.max_deadline + ORPHAN_GRACE_SECONDS)
        kept = self._pending.read(query_id)
        while not kept.finished:
            left = (kept.deadline_at - datetime.now(UTC)).total_seconds() + ORPHAN_GRACE_SECONDS
            if left <= 0:
                return self._orphaned(kept.dossier)
            time.sleep(min(POLL_SECONDS, left))
            kept = self._pending.read(query_id)
        return kept.dossier

    def _orphaned(self, dossier: Dossier) -> Dossier:
        """A query whose process died: settled as it stood, and recorded as any other."""
        assert self._pending is not None
        self._pending.finish(dossier)
        log.warning("query %s was settled after its hub process stopped", dossier.query_id)
        if self._recorder is not None:
            # Another process may have settled and recorded it first.
            with contextlib.suppress(StoreUnavailable):
                elapsed = datetime.now(UTC) - dossier.asked_at
                self._recorder(dossier, round(elapsed.total_seconds() * 1000))
        return self._pending.read(dossier.query_id).dossier

    def _deadline(self, request: QueryRequest) -> float:
        wanted = request.deadline_seconds or self.default_deadline
        return min(max(wanted, 0.05), self.max_deadline)

    def _run_kept(
        self, request: QueryRequest, parts: list[str], query_id: str, asked_at: datetime
    ) -> None:
        """QueryAsync's runner: each outcome kept as it comes, then the query settled."""
        assert self._pending is not None
        pending = self._pending
        dossier = self._run(request, parts, query_id, asked_at, pending.answered)
        pending.finish(dossier)

    def _run(
        self,
        request: QueryRequest,
        parts: list[str],
        query_id: str,
        asked_at: datetime | None = None,
        on_answer: Callable[[str, str, Outcome], None] | None = None,
    ) -> Dossier:
        config, deadline = self._config(), self._deadline(request)
        asked_at, started = asked_at or datetime.now(UTC), time.monotonic()
        asks: dict[tuple[str, str], Future[Outcome]] = {}
        for part in parts:
            for code in config.parts[part].answers:
                ask = _ASKERS.submit(self._ask, config, code, part, request, deadline)
                if on_answer is not None:
                    ask.add_done_callback(_reporter(on_answer, query_id, part))
                asks[(part, code)] = ask
        wait(asks.values(), timeout=deadline)
        dossier = Dossier(query_id, request.subject, request.requester, request.purpose, asked_at)
        for part in parts:
            rule = config.parts[part]
            dossier.sections.append(
                (rule, [_outcome(code, asks[(part, code)]) for code in rule.answers])
            )
        if self._recorder is not None:
            self._recorder(dossier, round((time.monotonic() - started) * 1000))
        log.info(
            "query %s by %s about %s for %s: %s (%s)",
            query_id,
            request.requester,
            mask(request.subject),
            request.purpose,
            ",".join(parts),
            "complete" if dossier.complete else "incomplete",
        )
        return dossier

    def _ask(
        self, config: QueryConfig, code: str, part: str, request: QueryRequest, deadline: float
    ) -> Outcome:
        try:
            facts = ask_source(
                config.sources[code],
                self._endpoint_of(code),
                part,
                request.subject,
                deadline,
                self._mappings().find(code, "answers", part),
            )
        except NotHeld:
            return Outcome(code, "notFound", datetime.now(UTC))
        except SourceRefused as error:
            return Outcome(code, "notAuthorized", datetime.now(UTC), detail=str(error))
        except SourceFailed as error:
            return Outcome(code, "error", datetime.now(UTC), detail=str(error))
        except requests.Timeout:
            return Outcome(code, "timeout", detail="no answer within the deadline")
        except requests.RequestException as error:
            return Outcome(code, "error", detail=f"unreachable: {type(error).__name__}")
        return Outcome(code, "ok", datetime.now(UTC), tuple(_facts(facts)))


def _fixed(registry: MappingRegistry) -> Callable[[], MappingRegistry]:
    return lambda: registry


def _reporter(
    on_answer: Callable[[str, str, Outcome], None], query_id: str, part: str
) -> Callable[[Future[Outcome]], None]:
    """A done-callback handing a source's outcome on as soon as it is known."""

    def report(done: Future[Outcome]) -> None:
        on_answer(query_id, part, done.result())

    return report


def _facts(facts: list[Fact]) -> list[Fact]:
    return sorted(facts, key=lambda fact: fact.as_of)


def _outcome(code: str, future: Future[Outcome]) -> Outcome:
    if not future.done():
        return Outcome(code, "timeout", detail="no answer within the deadline")
    return future.result()
