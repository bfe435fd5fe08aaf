"""Python's cyclic garbage collector paused while many acyclic objects are built (#17).

Building a 100,000-target watchlist, or the status of its targets, makes hundreds of thousands of objects
that hold no reference cycle; each collection they set off walks every object made so far again, and
took more than half the time. Reference counting still frees everything meanwhile; only cycles wait.
"""

from __future__ import annotations

import contextlib
import gc

__all__ = ["collector_paused"]


@contextlib.contextmanager
def collector_paused():
    """No cyclic collection inside (re-enabled after, unless it was off before)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
