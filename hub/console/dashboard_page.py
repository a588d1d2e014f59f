"""The dashboard page: the departments' loads with their charts, the health of the
database, the bus and each department's endpoint."""

from __future__ import annotations

from hub.console.charts import BAR, HEIGHT, WIDTH, bars
from hub.console.dashboard import COUNTS, WINDOWS, department_loads
from hub.console.health import endpoints
from hub.console.http import Answer, Request
from hub.console.pages import Context, chrome
from hub.console.render import render

REFRESH_SECONDS = 30


def dashboard(context: Context, request: Request) -> Answer:
    store = context.app.store
    now = store.clock()
    loads = department_loads(store, now)
    body = render(
        "dashboard.html",
        loads=loads,
        charts={d.department: bars(d.hourly) for d in loads},
        busiest={d.department: max(t.delivered + t.not_delivered for t in d.hourly) for d in loads},
        chart_size=(WIDTH, HEIGHT),
        bar_width=BAR - 2,
        services=context.app.health.services(),
        endpoints=endpoints(store, now),
        windows=list(WINDOWS),
        counts=COUNTS,
        now=now,
        refresh=REFRESH_SECONDS,
        **chrome(context),
    )
    return Answer("200 OK", body)
