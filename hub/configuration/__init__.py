"""Runtime configuration: department packages, routes and versions kept in the database,
checked before they are activated, and reloaded by every running process without a restart.
"""
