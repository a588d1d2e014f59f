"""Starting a hub process: what it waits for before it serves or works (hub/startup/waiting.py),
and the signal that stops it (hub/startup/stop_signal.py)."""
