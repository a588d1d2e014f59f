"""Pull mailboxes: deliveries to a department without a server (``adapter = "mailbox"``)
wait here, translated, until the department fetches them with Receive and confirms each with
Ack (or gives it back with Nack). A received message not settled within its lease is
received again; the leg is delivered only when it is acknowledged.

    store.py    parking a translated delivery, Receive, Ack, Nack (one transaction each)
    waiting.py  how a Receive waits for its first message without starving Submit
    access.py   who is asking: the department of the WS-Security token or TLS certificate
"""

MAILBOX_ADAPTER = "mailbox"

__all__ = ["MAILBOX_ADAPTER"]
