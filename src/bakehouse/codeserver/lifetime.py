"""The cyclic garbage collector around a process's one load of its definitions.

Loading makes objects that live as long as the definitions, few of them garbage. While they
are made, the collector would scan them again and again as they pile up (about 40% of the CPU
of loading 20,000 assets), so it is paused. A location process (snapshot, code server, run
worker) then keeps them to its end: `keep_for_the_process` moves them out of the collector's
sight, so that no later collection scans them, nor the interpreter's teardown at exit (which
took 1.5 of the 3.4 s of CPU of ``python -m bakehouse snapshot`` at 50,000 assets).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the block (as it was after)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def keep_for_the_process() -> None:
    """Everything made so far lives until this process exits: never scan it again.

    For processes that load their definitions once; a process that loads again and drops the
    old ones (a test, a reload in place) must not call it, or the old ones are never freed if
    they hold a reference cycle.
    """
    gc.freeze()
