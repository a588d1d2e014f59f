"""Logging set-up: one format, identity numbers masked in every line."""

from __future__ import annotations

import logging

from hub.identity import mask_in_text


class MaskIdentityNumbers(logging.Filter):
    """Rewrites each record's message so no full identity number reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_in_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback's text is not the message: format it here, masked, and drop the raw one.
            text = logging.Formatter().formatException(record.exc_info)
            record.msg, record.args = f"{record.getMessage()}\n{mask_in_text(text)}", None
            record.exc_info, record.exc_text = None, None
        return True


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(MaskIdentityNumbers())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # spyne logs whole failed documents at debug and tracebacks for every client fault.
    logging.getLogger("spyne").setLevel(logging.CRITICAL)
    logging.getLogger("zeep").setLevel(logging.WARNING)
    # memory:// has no host; kombu warns about it on every connection.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
