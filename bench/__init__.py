"""govhub benchmarks: every figure is a ratio against a baseline measured in the same run.

    python -m bench                  # the full suite (about 10 minutes on 2 cores)
    python -m bench --quick          # every benchmark, briefly (under two minutes; CI)
    python -m bench --only ingest --json results.json

See docs/performance.md for the figures, the machine and how cost grows.
"""

import hub  # noqa: F401  # first: on Python 3.12+ spyne imports only after hub.compat
