"""The store (SQLAlchemy 2 + Alembic): the database is the truth, the bus only distributes."""

from hub.store.accepting import delivery_key
from hub.store.records import (
    AttemptRecord,
    ClaimedDelivery,
    DeliveryStatus,
    MessageStatus,
    NewMessage,
    QueuedDelivery,
    Receipt,
)
from hub.store.store import Clock, Store, utc_now

__all__ = [
    "AttemptRecord",
    "ClaimedDelivery",
    "Clock",
    "DeliveryStatus",
    "MessageStatus",
    "NewMessage",
    "QueuedDelivery",
    "Receipt",
    "Store",
    "delivery_key",
    "utc_now",
]
