"""The queries page: the record of queries answered through Query and QueryAsync (who asked
about whom, masked, which parts, why, what each source answered), newest first, filtered by
requester; one query's sources on its own page. The same record as `govhub queries`."""

from __future__ import annotations

from hub.console.http import Answer, Request
from hub.console.pages import Context, chrome
from hub.console.render import render
from hub.query import QueryLog

ROWS = 200


def queries(context: Context, request: Request) -> Answer:
    requester = request.query.get("requester", "").strip() or None
    records = QueryLog(context.app.store).recent(requester=requester, limit=ROWS)
    body = render("queries.html", records=records, requester=requester or "", **chrome(context))
    return Answer("200 OK", body)


def query(context: Context, request: Request) -> Answer:
    query_id = request.path.strip("/").split("/")[1]
    record = QueryLog(context.app.store).get(query_id)
    body = render("query.html", q=record, **chrome(context))
    return Answer("200 OK", body)
