"""The alerts page: the configured rules, which fire now, and each rule's history (fired,
cleared, and where each notice went), read from the tables the worker service writes
(hub/observability/alerting.py)."""

from __future__ import annotations

from hub.console.http import Answer, Request
from hub.console.pages import Context, chrome
from hub.console.render import render
from hub.errors import ConfigurationError
from hub.observability.alert_rules import AlertRule, load_rules
from hub.observability.alerting import AlertEvent, firing_now, history

HISTORY_ROWS = 200


def alerts(context: Context, request: Request) -> Answer:
    engine = context.app.store.engine
    rules, problem = _rules(context.app.settings.alert_rules_file)
    events: dict[str, list[AlertEvent]] = {}
    for event in history(engine, HISTORY_ROWS):
        events.setdefault(event.rule, []).append(event)
    body = render(
        "alerts.html",
        rules=rules,
        problem=problem,
        rules_file=context.app.settings.alert_rules_file,
        firing=firing_now(engine),
        events=events,
        **chrome(context),
    )
    return Answer("200 OK", body)


def _rules(path: str) -> tuple[list[AlertRule], str]:
    """The rules, or none and why: a file that became unreadable since the workers started is
    said on the page, not a failed page."""
    try:
        return load_rules(path), ""
    except ConfigurationError as error:
        return [], error.message
