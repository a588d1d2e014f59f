"""What operators and their tools ask a running hub: is it alive, is it ready.

  GET /health   the process answers: 200 {"status": "ok"}
  GET /ready    200 when the database, the bus and the configuration are usable, else 503;
                the JSON names each check and what is wrong with it. Each check is bounded
                (``ready_check_seconds``) and runs beside the others, so the answer comes in
                time even when a server hangs; results are kept ``ready_cache_seconds``.

Every refusal at /soap and /native is one log line in one format (``log_refusal``).

The rest of the hub reaches this package through ``probe_app`` (the WSGI handler the HTTP
front hands those paths to, hub/api/wsgi.py), ``PROBE_PATHS`` and ``log_refusal``.
"""

from hub.observability.probes import PROBE_PATHS, ProbeApp, probe_app
from hub.observability.refusals import log_refusal

__all__ = ["PROBE_PATHS", "ProbeApp", "log_refusal", "probe_app"]
