"""The real queue worked in-process, as a burst worker does it: ``run_queue``.

rq's workers install SIGINT/SIGTERM handlers for a warm shutdown; in a test process
those would outlive the burst and swallow pytest's Ctrl-C, so this worker leaves the
process's handlers alone.
"""

from __future__ import annotations

import signal

from rq import SimpleWorker


class InProcessWorker(SimpleWorker):
    """A ``SimpleWorker`` that keeps the test process's signal handlers."""

    def _install_signal_handlers(self) -> None:
        pass


def run_queue(app, name: str = "default", *, with_scheduler: bool = False) -> None:
    """Work the queue ``name`` until it is empty (jobs enqueue mail jobs as they commit),
    each burst in its own app context and session, the real job functions."""
    from app.extensions import get_queue, redis_connection

    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        for _ in range(10):
            with app.app_context():
                queue = get_queue(name)
                InProcessWorker([queue], connection=redis_connection()).work(burst=True, with_scheduler=with_scheduler)
                if queue.count == 0:
                    return
        raise AssertionError(f"the queue {name!r} did not drain")
    finally:
        for signum, handler in handlers.items():  # a warm-shutdown request re-installs its own
            signal.signal(signum, handler)
