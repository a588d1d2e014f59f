"""The objects a process made while starting, kept out of the garbage collector's full passes.

A hub process starts with some 200,000-270,000 objects (modules, compiled schemas, mappings,
spyne's models) that live as long as it does. Python's cyclic collector walks every one of
them at each full (generation 2) collection, holding the GIL: under the ingest benchmark a
few full passes came in each run of seconds and took 124-307 ms of CPU (175 ms to 2 s of wall
time on the shared cores), during which no request moved; that was the ingest tail (p99).
``gc.freeze`` moves them to a permanent generation the collector does not visit: full passes
then walk only what the traffic made (docs/performance.md, "Goal 2: distributed ingest").

The cost: a cycle among the frozen objects that becomes garbage later (a configuration
replaced by a reload) is not collected; reference counting still frees everything else.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect once (nothing frozen is garbage already), then freeze what is left."""
    gc.collect()
    gc.freeze()
