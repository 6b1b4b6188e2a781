"""Progress of a running request: stored on the request (the truth) and mirrored to the
RQ job's meta for the UI."""

from __future__ import annotations

from rq import get_current_job


def report(request, phase: str, done: int, total: int) -> None:
    request.phase = phase
    request.progress_done = done
    request.progress_total = total
    job = get_current_job()
    if job is not None:
        job.meta.update(phase=phase, done=done, total=total)
        job.save_meta()


def percent(request) -> int:
    if not request.progress_total:
        return 100 if request.phase == "done" else 0
    return min(100, round(100 * request.progress_done / request.progress_total))
