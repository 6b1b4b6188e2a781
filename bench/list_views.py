"""Benchmark: time to render the car list and the car REST list for a dealer user.

Prints figures; asserts nothing. Run with `make bench`.
"""

from __future__ import annotations

import statistics
import tempfile
import time

from app import create_app
from config import DEMO_PASSWORD, TestingConfig


def main(rounds: int = 20) -> None:
    tmp = tempfile.mkdtemp()
    app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "WTF_CSRF_ENABLED": False})
    runner = app.test_cli_runner()
    runner.invoke(args=["forecourt", "init"])
    runner.invoke(args=["forecourt", "demo"])
    runner.invoke(args=["forecourt", "seed", "--dealers", "1", "--cars", "500", "--clients", "200", "--inquiries", "200", "--sales", "20"])
    client = app.test_client()
    client.post("/login/", data={"username": "north-motors-admin", "password": DEMO_PASSWORD})
    token = client.post(
        "/api/v1/security/login", json={"username": "north-motors-admin", "password": DEMO_PASSWORD, "provider": "db"}
    ).json["access_token"]
    for name, call in {
        "HTML car list": lambda: client.get("/carmodelview/list/"),
        "REST car list (100)": lambda: client.get("/api/v1/car/?q=(page_size:100)", headers={"Authorization": f"Bearer {token}"}),
    }.items():
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            assert call().status_code == 200
            times.append((time.perf_counter() - start) * 1000)
        print(f"{name:24s} median {statistics.median(times):7.1f} ms   p95 {sorted(times)[int(rounds * 0.95) - 1]:7.1f} ms")


if __name__ == "__main__":
    main()
