"""One log line for every request the hub refuses, in one format wherever it is refused:

  refused at /soap: Client.SchemaInvalid from MARRIAGE_REGISTRY: <reason>

The sender is who the request says it is (unknown before its body was read); route, sender and
reason come from the caller, so each is cut; sender and reason are masked here, the route by
the logging filter every line passes (tests/test_security_log_masking.py proves that filter).
A fault that is the hub's own (Server.*) is a warning: the caller did nothing wrong; except
Server.Unavailable, which is said once per outage (hub/observability/outages.py).
"""

from __future__ import annotations

import logging

from hub.observability import metrics
from hub.untrusted import cut, shown

log = logging.getLogger("hub.refusals")
UNAVAILABLE = "Server.Unavailable"


def log_refusal(route: str, code: str, sender: str | None, reason: str) -> None:
    code = code.rpartition(":")[2]  # spyne's own faults come as soap11env:Client.X
    ours = code.startswith("Server")
    level, verb = (logging.WARNING, "failed") if ours else (logging.INFO, "refused")
    if code == UNAVAILABLE:  # hub/observability/outages.py says it once per outage
        level = logging.DEBUG
    who = shown(sender or "") or "unknown"
    log.log(level, "%s at %s: %s from %s: %s", verb, cut(route), code, who, shown(reason))
    if not route.startswith("/admin"):  # operators' requests are not messages
        metrics.MESSAGES_REFUSED.labels(code).inc()
