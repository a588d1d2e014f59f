"""Answering a query: check the request and the requester's rights, ask every source of every
part at once, wait at most the deadline, and merge what came into one CitizenDossier."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime

import requests

from hub.errors import NotAuthorized, NotFound, SchemaInvalid, UnknownPart
from hub.identity import mask, verify
from hub.query.config import QueryConfig
from hub.query.dossier import Dossier, Outcome
from hub.query.sources import Fact, NotHeld, SourceFailed, SourceRefused, ask_source

log = logging.getLogger(__name__)

EndpointOf = Callable[[str], str]
# Keeps the record of an answered query (hub/query/record.py), given its time in ms.
Recorder = Callable[[Dossier, int], None]
# Threads that wait on departments: one per source asked, shared by every query.
_ASKERS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="query-source")
# Threads that run QueryAsync's queries: apart, so they never take the askers they wait on.
_RUNNERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="query-async")
# How long GetQueryResult can still fetch a dossier after its deadline passed.
KEPT_SECONDS = 600.0


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
    ) -> None:
        self._config = config
        self._endpoint_of = endpoint_of
        self.default_deadline = default_deadline
        self.max_deadline = max_deadline
        self._recorder = recorder
        self._pending: dict[str, tuple[Future[Dossier], float]] = {}
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
        """QueryAsync: check at once, answer later; the query's id."""
        parts, query_id = self.check(request), str(uuid.uuid4())
        future = _RUNNERS.submit(self._run, request, parts, query_id)
        now = time.monotonic()
        with self._lock:
            for old in [k for k, (_, due) in self._pending.items() if due + KEPT_SECONDS < now]:
                del self._pending[old]
            self._pending[query_id] = (future, now + self._deadline(request))
        return query_id

    def result(self, query_id: str) -> Dossier:
        """GetQueryResult: the dossier, waiting until its deadline passes at most."""
        with self._lock:
            pending = self._pending.get(query_id.strip().lower())
        if pending is None:
            raise NotFound(f"no query {query_id}")
        future, deadline = pending
        return future.result(timeout=max(0.0, deadline - time.monotonic()) + 1.0)

    def _deadline(self, request: QueryRequest) -> float:
        wanted = request.deadline_seconds or self.default_deadline
        return min(max(wanted, 0.05), self.max_deadline)

    def _run(self, request: QueryRequest, parts: list[str], query_id: str) -> Dossier:
        config, deadline = self._config(), self._deadline(request)
        asked_at, started = datetime.now(UTC), time.monotonic()
        asks: dict[tuple[str, str], Future[Outcome]] = {}
        for part in parts:
            for code in config.parts[part].answers:
                asks[(part, code)] = _ASKERS.submit(
                    self._ask, config, code, part, request, deadline
                )
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
                config.sources[code], self._endpoint_of(code), part, request.subject, deadline
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


def _facts(facts: list[Fact]) -> list[Fact]:
    return sorted(facts, key=lambda fact: fact.as_of)


def _outcome(code: str, future: Future[Outcome]) -> Outcome:
    if not future.done():
        return Outcome(code, "timeout", detail="no answer within the deadline")
    return future.result()
