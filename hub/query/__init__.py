"""Queries answered by several departments (issue 14), merged into one CitizenDossier.

Contract:
- ``query_service(settings, departments)`` is the ``QueryService`` the SOAP API answers
  Query, QueryAsync and GetQueryResult with (hub/query/soap.py reads and writes them).
- ``QueryService.check(request)`` refuses, with a hub error, what cannot be answered: no
  purpose, an invalid identity number, an unknown part, a part the requester may not read.
- ``QueryService.query(request)`` asks every source of every part at once (hub/query/
  sources.py speaks each department's protocol) and returns after at most the deadline a
  ``Dossier`` in which every source asked has its status (ok, timeout, error,
  notAuthorized, notFound): a source down or late never makes the query fail.
- Each query answered is recorded (``QueryLog``: who, the subject as a keyed hash and
  masked, which parts, why, each source's status) for `govhub queries list|show`.
- Which department answers which part, how it is asked and who may read what is
  ``QueryConfig`` (hub/defaults/queries.toml, or the ``query_routes_file`` setting).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hub.config import Settings
from hub.configuration.loader import Configuration
from hub.departments import DepartmentDirectory
from hub.query.config import DEFAULT_QUERY_FILE, QueryConfig, load_query_config
from hub.query.packaged import LiveQueryConfig
from hub.query.pending import PendingQueries
from hub.query.record import QueryLog, QueryRecord
from hub.query.service import QueryRequest, QueryService
from hub.store import Store


def query_service(
    settings: Settings,
    departments: Callable[[], DepartmentDirectory],
    store: Store | None = None,
    configuration: Callable[[], Configuration] | None = None,
) -> QueryService:
    """The hub's query service; the query file is read once, at start, and the active
    department packages' queries.toml laid over it whenever ``configuration`` changes. With
    a ``store``, every query answered is recorded in it (``QueryLog``)."""
    base = load_query_config(Path(settings.query_routes_file or DEFAULT_QUERY_FILE))
    config = (lambda: base) if configuration is None else LiveQueryConfig(base, configuration)
    return QueryService(
        config,
        lambda code: departments().get(code).endpoint,
        default_deadline=settings.query_deadline_seconds,
        max_deadline=settings.query_max_deadline_seconds,
        recorder=None if store is None else QueryLog(store).record,
        pending=None if store is None else PendingQueries(store),
        mappings=None if configuration is None else (lambda: configuration().mappings),
    )


__all__ = [
    "QueryConfig",
    "QueryLog",
    "QueryRecord",
    "QueryRequest",
    "QueryService",
    "load_query_config",
    "query_service",
]
