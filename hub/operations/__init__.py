"""What operators do with the hub's records: list, show, trace, replay, prune.

Each module does one job on the store's tables; the CLI (hub/cli/operations.py) and the
SOAP admin API (hub/api/admin_service.py) are thin fronts over these functions.
"""
