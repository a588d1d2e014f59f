"""No full identity number reaches a log line, not even inside a traceback."""

from __future__ import annotations

import io
import logging

from hub.identity import make_number
from hub.logs import MaskIdentityNumbers

NUMBER = make_number("11010519900307", "131")


def logger_with_output() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskIdentityNumbers())
    logger = logging.getLogger(f"test.logs.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    return logger, stream


def test_an_identity_number_in_a_message_is_masked() -> None:
    logger, stream = logger_with_output()

    logger.warning("delivery for %s failed", NUMBER)

    assert NUMBER not in stream.getvalue()
    assert "110105********1319" in stream.getvalue()


def test_an_identity_number_inside_a_logged_traceback_is_masked() -> None:
    logger, stream = logger_with_output()

    try:
        raise ValueError(f'insert failed: {{"idNumber": "{NUMBER}"}}')
    except ValueError:
        logger.exception("could not store")

    assert "Traceback" in stream.getvalue() and "could not store" in stream.getvalue()
    assert NUMBER not in stream.getvalue()
