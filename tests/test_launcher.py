"""`make run`'s small truths: it says "running" only once the port answers, and e-mailed
links follow the port it serves on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

from app.launcher import wait_until_answering

BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def public_base_url(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("PORT", "PUBLIC_BASE_URL")} | env
    code = "import config; print(config.Config.PUBLIC_BASE_URL)"
    return subprocess.run([sys.executable, "-c", code], cwd=BASE, env=environ, capture_output=True, text=True, check=True).stdout.strip()


def test_public_base_url_follows_port_in_development():
    assert public_base_url(PORT="5123") == "http://127.0.0.1:5123"
    assert public_base_url() == "http://127.0.0.1:5000"
    assert public_base_url(PORT="5123", PUBLIC_BASE_URL="https://cars.example.com") == "https://cars.example.com"


def test_make_run_says_running_only_when_the_port_answers():
    port = free_port()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    listening_at: list[float] = []

    def listen_later():
        time.sleep(1.0)
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()
        listening_at.append(time.monotonic())
        conn, _ = server.accept()
        conn.close()
        server.close()

    thread = threading.Thread(target=listen_later)
    thread.start()
    try:
        assert wait_until_answering("127.0.0.1", port, sleeper, interval=0.05) is True
        answered_at = time.monotonic()
        assert listening_at and answered_at >= listening_at[0]
    finally:
        thread.join()
        sleeper.kill()
        sleeper.wait()


def test_make_run_stops_waiting_when_the_web_process_exits():
    exited = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    exited.wait()
    assert wait_until_answering("127.0.0.1", free_port(), exited, interval=0.05) is False
