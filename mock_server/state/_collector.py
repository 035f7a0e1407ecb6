"""The cyclic garbage collector paused while a bulk write runs (a seed load, a bulk job).

Such a write allocates millions of objects and keeps few (the memory store keeps records as bytes), and what it
holds meanwhile (a job's 10,000 parsed resources) survives into the oldest generation: each full collection would
walk it again, a cost that grows with the job. Reference counting still frees what is dropped; a cycle left
behind waits for the next collection after the write.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    collecting = gc.isenabled()  # (nested or concurrent writes: whoever paused it turns it back on)
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
