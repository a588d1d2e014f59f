"""Security building blocks: WS-Security checks, department credentials, the hash-chained
audit log and its signed export, encryption of stored data. See docs/security.md."""
