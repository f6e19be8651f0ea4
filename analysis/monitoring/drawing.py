"""The dashboard's figures drawn in a thread of their own beside the request's queries.

matplotlib draws in Python (the three figures of a cold dashboard took as long as its
queries, issue 19), while the request's thread spends most of its time waiting for the
database (the CONSORT flow's and the flags' passes over every completed final): the
driver lets go of the interpreter while it waits, so the figures are drawn meanwhile, on
the machine's other core. One thread draws all of a request's figures, one after the
other, and a lock keeps two requests of a threaded server from drawing at once: every
figure enters ``matplotlib.rc_context``, which sets process-wide settings. Each is drawn
in the request's language (the words of the figures and the months' names), and touches
no database unless the cache does; the thread closes its own connections if so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connections
from django.utils import translation

_ONE_AT_A_TIME = threading.Lock()


class Drawing:
    """``with Drawing() as drawing: svg = drawing.draw(figures.consort_svg, flow)``, then
    ``svg.result()``; leaving the block waits for every figure."""

    def __enter__(self) -> Drawing:
        self._language = translation.get_language()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitoring-figures")
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True, cancel_futures=exc[0] is not None)

    def draw(self, figure: Callable[..., str], *args) -> Future:
        return self._pool.submit(self._run, figure, *args)

    def _run(self, figure: Callable[..., str], *args) -> str:
        try:
            with _ONE_AT_A_TIME, translation.override(self._language):
                return figure(*args)
        finally:
            connections.close_all()  # this thread's own, if the cache opened one
