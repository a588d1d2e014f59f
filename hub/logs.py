"""Logging set-up: one format, identity numbers masked in every line, and each value put into
a line cut to a bounded length (a caller's 9 MB field must not become a 9 MB log line)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from hub.identity import mask_in_text
from hub.untrusted import MAX_UNTRUSTED_CHARS, cut_lines

LogArgs = tuple[object, ...] | Mapping[str, object] | None


class MaskIdentityNumbers(logging.Filter):
    """Rewrites each record's message so no full identity number reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.args = _cut_arguments(record.args)
        message = record.getMessage()
        masked = mask_in_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback's text is not the message: format it here, masked, and drop the raw one.
            text = cut_lines(mask_in_text(logging.Formatter().formatException(record.exc_info)))
            record.msg, record.args = f"{record.getMessage()}\n{text}", None
            record.exc_info, record.exc_text = None, None
        return True


def _cut_arguments(args: LogArgs) -> LogArgs:
    """A record's arguments with long text (strings, or errors, whose message is the caller's)
    cut line by line; numbers and other values are left for their own format (``%d``, ``%r``)."""
    if isinstance(args, tuple):
        return tuple(_cut_argument(arg) for arg in args)
    if isinstance(args, Mapping):
        return {key: _cut_argument(value) for key, value in args.items()}
    return args


def _cut_argument(arg: object) -> object:
    if isinstance(arg, BaseException):
        arg = str(arg)
    if isinstance(arg, str) and len(arg) > MAX_UNTRUSTED_CHARS:
        return cut_lines(mask_in_text(arg))  # a logged traceback keeps its lines
    return arg


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
