"""Waiting for the signal that stops a long-running command (serve, worker, mock departments)."""

from __future__ import annotations

import signal
import threading


def wait_for_stop_signal() -> None:
    """Blocks until SIGINT (Ctrl-C) or SIGTERM. Handlers, not KeyboardInterrupt: a process a
    shell starts in the background begins with SIGINT ignored, and then Python raises nothing
    on Ctrl-C."""
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
