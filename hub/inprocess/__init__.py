"""The in-process bus of the embedded hub (``memory://``): hub/inprocess/queues.py."""
