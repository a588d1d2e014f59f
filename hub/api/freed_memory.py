"""Memory freed after a large request given back to the operating system at once.

Why: glibc keeps what a large body's copies and tree freed (in each thread's arena, in
pieces the next body does not fit), so without this the API process grew by about three
times a 10 MB body with every such message, up to hundreds of MB (docs/performance.md,
"Goal 3: large messages"). ``malloc_trim`` hands the free pages back; it takes a few ms, so
only requests of ``LARGE_BODY_BYTES`` or more call it. On a C library without it
(musl, macOS) nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

LARGE_BODY_BYTES = 512 * 1024


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


_TRIM = _malloc_trim()


def give_back(body_bytes: int) -> None:
    """After a body of ``body_bytes`` was let go: return the free memory if it was large."""
    if _TRIM is not None and body_bytes >= LARGE_BODY_BYTES:
        _TRIM(0)
