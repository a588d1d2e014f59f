"""Security building blocks: WS-Security checks, department credentials, the hash-chained
audit log, its signed export and checkpoints, encryption of stored data. See docs/security.md."""
