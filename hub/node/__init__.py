"""The exchange node (issue 13): ``govhub node`` runs at a department without a server, next
to its own system, and is that system's only link to the hub.

Contract:

- **Inbox.** It pulls the department's mailbox (``Receive`` with a long poll) and hands each
  message to the system: into a folder, as ``<idempotency key>.xml|.json`` (written under a
  dot-name, synced, then renamed: the system never sees half a file), or by POST to a local
  URL (with an ``Idempotency-Key`` header). It ``Ack``\\s a message only after the hand-over
  succeeded.
- **Outbox.** Each file the system drops into the outbox folder (a canonical record, XML) is
  sent with ``Submit``; its idempotency key comes from the file's name and content, so a file
  sent twice (a crash between Submit and the move) is answered ``duplicate`` and delivered
  once. Sent files move to ``sent/``, files the hub refuses to ``refused/`` (with the reason
  beside them). While the hub is down it retries.
- **Journal.** Every step is written to its own small SQLite file (``node.db`` in the journal
  folder) before the next one starts, so a node killed at any moment (SIGKILL) and restarted
  loses nothing and hands nothing over twice.

Modules: journal.py (the SQLite journal), handover.py (folder or URL), hub_client.py (the
hub's SOAP operations), outbox.py (files waiting to be sent), node.py (the loop),
status.py (what ``govhub node status`` shows).
"""
