"""Load without leaks: a bounded load test of a running Forecourt (stdlib only).

N simulated users for D seconds against a base URL (loopback), mixing dealer work (REST
lists, show pages, searches, creating and editing cars and clients with JWTs from
``POST /api/v1/security/login``) and privacy work (filing through the public form
``/privacy/request`` and through the API; processing as the privacy officer). Each of the
two dealers gets a "canary" client with a unique name and e-mail that must never appear in
the other dealer's responses. The given log files are then scanned for personal data: the
canaries, the test users' e-mails and the subjects of the privacy requests filed.

Plays the TLS proxy (``TRUSTED_PROXIES=1``): plain HTTP with ``X-Forwarded-Proto: https``
and one ``X-Forwarded-For`` address per simulated user (per filing on the public form), as
distinct visitors behind the proxy would arrive.

    LOAD_PASSWORD=... python -m bench.load --base-url http://127.0.0.1:8000 \\
        --dealer kyiv-auto:kyiv-admin --dealer lviv-motors:lviv-admin --officer privacy-officer \\
        --users 50 --seconds 300 --strict --log web.log --log worker.log

Bounded: stops after ``--seconds`` or ``--max-requests``, whichever comes first.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9))),
    **dict(zip("JKLMN", range(1, 6))),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10))),
}
_VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def make_vin(rng: random.Random) -> str:
    """A random 17-character VIN with a correct check digit (model year letter L = 2020)."""
    chars = [rng.choice(_VIN_CHARS) for _ in range(17)]
    chars[9] = "L"
    total = sum(_VIN_VALUES[c] * w for c, w in zip(chars, _VIN_WEIGHTS))
    chars[8] = "X" if total % 11 == 10 else str(total % 11)
    return "".join(chars)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latency: dict = field(default_factory=lambda: defaultdict(list))
    statuses: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: list = field(default_factory=list)  # (kind, description): 5xx and broken connections
    canary_hits: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)  # (kind, status): a 4xx where none belongs
    total: int = 0
    own_seen: int = 0

    def record(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.total += 1
            self.latency[kind].append(seconds)
            self.statuses[kind][status] += 1


class Budget:
    """Shared stop condition: a deadline and a request count."""

    def __init__(self, seconds: float, max_requests: int):
        self.deadline = time.monotonic() + seconds
        self.left = max_requests
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def take(self) -> bool:
        if self.stop.is_set() or time.monotonic() >= self.deadline:
            self.stop.set()
            return False
        with self.lock:
            if self.left <= 0:
                self.stop.set()
                return False
            self.left -= 1
            return True


class Client:
    """One simulated user: its own connection, cookies, JWT and visitor address."""

    def __init__(self, base: str, stats: Stats, address: str, language: str = "en"):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.stats, self.address, self.language = stats, address, language
        self.cookies: dict[str, str] = {}
        self.token: str | None = None
        self.forbidden: list[str] = []  # strings that must never appear in this user's responses
        self.own: str | None = None  # its own dealer's canary: seen at all, so the check is not vacuous
        self.connection: http.client.HTTPConnection | None = None

    def call(
        self, kind: str, method: str, path: str, body=None, headers=None, address: str | None = None, expect=(200,)
    ) -> tuple[int, str]:
        sent = {
            "Host": f"{self.host}:{self.port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": address or self.address,
            "Accept-Language": self.language,
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token and path.startswith("/api/"):
            sent["Authorization"] = f"Bearer {self.token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            raw = response.read()
            status = response.status
            if (response.getheader("Connection") or "").lower() == "close":
                self.connection.close()
                self.connection = None
        except (OSError, http.client.HTTPException) as exc:
            if self.connection is not None:
                self.connection.close()
            self.connection = None
            with self.stats.lock:
                self.stats.errors.append((kind, f"{method} {path}: {type(exc).__name__}: {exc}"))
            return 0, ""
        self.stats.record(kind, status, time.perf_counter() - started)
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        text = raw.decode("utf-8", "replace")
        if status >= 500:
            with self.stats.lock:
                self.stats.errors.append((kind, f"{method} {path}: {status} {text[:200]!r}"))
        elif status not in expect:
            with self.stats.lock:
                self.stats.unexpected.append((kind, f"{method} {path}: {status} {text[:200]!r}"))
        if self.own and self.own.lower() in text.lower():
            with self.stats.lock:
                self.stats.own_seen += 1
        for needle in self.forbidden:
            if needle.lower() in text.lower():
                with self.stats.lock:
                    self.stats.canary_hits.append((kind, f"{method} {path}: {needle!r}"))
        return status, text

    def login(self, username: str, password: str) -> None:
        status, text = self.call(
            "login", "POST", "/api/v1/security/login", {"username": username, "password": password, "provider": "db", "refresh": False}
        )
        if status != 200:
            raise SystemExit(f"load: the API login of {username!r} failed: {status} {text[:200]!r}")
        self.token = json.loads(text)["access_token"]


# ---------------------------------------------------------------------------- set-up


@dataclass
class Dealer:
    slug: str
    username: str
    id: int = 0
    canary_name: str = ""
    canary_email: str = ""
    canary_id: int = 0
    car_ids: list = field(default_factory=list)
    client_ids: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def new_car(rng: random.Random, tag: str) -> dict:
    return {
        "stock_number": f"LD-{tag}-{rng.randrange(10**8):08d}",
        "vin": make_vin(rng),
        "make": rng.choice(["Skoda", "Volkswagen", "Toyota", "Renault", "Hyundai"]),
        "model": rng.choice(["Octavia", "Golf", "Corolla", "Clio", "Tucson"]),
        "year": 2020,
        "mileage": rng.randrange(0, 200000),
        "asking_price_minor": rng.randrange(500000, 3000000),
    }


def new_client(rng: random.Random, tag: str) -> dict:
    n = rng.randrange(10**9)
    return {"first_name": "Load", "last_name": f"Person{tag}{n}", "email": f"load-{tag}-{n}@example.net", "city": "Kyiv"}


def set_up(base: str, stats: Stats, dealers: list[Dealer], password: str, seed_rows: int, run: str) -> None:
    """Per dealer: its canary client and a few cars and clients, created through the API."""
    rng = random.Random(run)
    for index, dealer in enumerate(dealers):
        client = Client(base, stats, f"192.0.2.{index + 1}")
        client.login(dealer.username, password)
        token = f"{run}{index}"
        dealer.canary_name = f"Canary{token}"
        dealer.canary_email = f"canary-{token}@example.net"
        status, text = client.call(
            "setup",
            "POST",
            "/api/v1/client/",
            {
                "first_name": "Kanarka",
                "last_name": dealer.canary_name,
                "email": dealer.canary_email,
                "city": "Kyiv",
            },
            expect=(201,),
        )
        if status != 201:
            raise SystemExit(f"load: cannot create the canary of {dealer.slug}: {status} {text[:300]!r}")
        dealer.canary_id = json.loads(text)["id"]
        status, text = client.call("setup", "GET", f"/api/v1/client/{dealer.canary_id}")
        shown = json.loads(text)["result"]
        dealer.id = shown["dealer.id"] if "dealer.id" in shown else shown["dealer"]["id"]
        dealer.client_ids.append(dealer.canary_id)
        for _ in range(seed_rows):
            status, text = client.call("setup", "POST", "/api/v1/car/", new_car(rng, token), expect=(201,))
            if status == 201:
                dealer.car_ids.append(json.loads(text)["id"])
            status, text = client.call("setup", "POST", "/api/v1/client/", new_client(rng, token), expect=(201,))
            if status == 201:
                dealer.client_ids.append(json.loads(text)["id"])
        if not dealer.car_ids:
            raise SystemExit(f"load: cannot create cars for {dealer.slug}: {text[:300]!r}")


# ---------------------------------------------------------------------------- the users


def rison_search(column: str, operator: str, value: str) -> str:
    return quote(f"(filters:!((col:{column},opr:{operator},value:'{value}')))", safe="")


def dealer_user(client: Client, own: Dealer, other: Dealer, budget: Budget, rng: random.Random, filed: list, tag: str):
    actions = [
        (20, "car.list"),
        (20, "client.list"),
        (15, "car.show"),
        (15, "client.show"),
        (6, "client.search_other"),
        (5, "other.show"),
        (6, "car.create"),
        (6, "car.edit"),
        (4, "client.create"),
        (5, "client.edit"),
        (3, "privacy.api_file"),
        (5, "privacy.list"),
    ]
    population = [name for weight, name in actions for _ in range(weight)]
    while budget.take():
        kind = rng.choice(population)
        if kind == "car.list":
            client.call(kind, "GET", f"/api/v1/car/?q={quote('(page:0,page_size:25)', safe='')}")
        elif kind == "client.list":
            client.call(kind, "GET", f"/api/v1/client/?q={quote('(page:0,page_size:25)', safe='')}")
        elif kind == "car.show":
            client.call(kind, "GET", f"/api/v1/car/{rng.choice(own.car_ids)}")
        elif kind == "client.show":
            client.call(kind, "GET", f"/api/v1/client/{rng.choice(own.client_ids)}")
        elif kind == "client.search_other":  # asks for the other dealer's canary by name and e-mail
            column, value = rng.choice([("last_name", other.canary_name), ("email", other.canary_email)])
            client.call(kind, "GET", f"/api/v1/client/?q={rison_search(column, 'eq', value)}")
        elif kind == "other.show":  # another dealer's row is a 404
            resource, pk = rng.choice(
                [("client", other.canary_id), ("client", rng.choice(other.client_ids)), ("car", rng.choice(other.car_ids))]
            )
            client.call(
                kind,
                rng.choice(["GET", "PUT"]),
                f"/api/v1/{resource}/{pk}",
                {"city": "Elsewhere"} if resource == "client" else {"mileage": 1},
                expect=(404,),
            )
        elif kind == "car.create":
            status, text = client.call(kind, "POST", "/api/v1/car/", new_car(rng, tag), expect=(201,))
            if status == 201:
                with own.lock:
                    own.car_ids.append(json.loads(text)["id"])
        elif kind == "car.edit":
            client.call(
                kind,
                "PUT",
                f"/api/v1/car/{rng.choice(own.car_ids)}",
                {"mileage": rng.randrange(0, 200000), "asking_price_minor": rng.randrange(500000, 3000000)},
            )
        elif kind == "client.create":
            status, text = client.call(kind, "POST", "/api/v1/client/", new_client(rng, tag), expect=(201,))
            if status == 201:
                with own.lock:
                    own.client_ids.append(json.loads(text)["id"])
        elif kind == "client.edit":
            pk = rng.choice(own.client_ids[1:] or own.client_ids)
            client.call(kind, "PUT", f"/api/v1/client/{pk}", {"city": rng.choice(["Kyiv", "Lviv", "Odesa"])})
        elif kind == "privacy.api_file":  # a dealer admin files an access request for one of its clients
            status, text = client.call(
                kind,
                "POST",
                "/api/v1/privacy_request/",
                {
                    "request_type": "access",
                    "client": rng.choice(own.client_ids[1:] or own.client_ids),
                },
                expect=(201, 422),
            )
            if status == 201:
                with own.lock:
                    filed.append(json.loads(text)["id"])
        elif kind == "privacy.list":
            client.call(kind, "GET", f"/api/v1/privacy_request/?q={quote('(page:0,page_size:25)', safe='')}")


def officer_user(
    client: Client, dealers: list[Dealer], budget: Budget, rng: random.Random, filed: list, subjects: list, lock: threading.Lock, tag: str
):
    while budget.take():
        kind = rng.choice(["privacy.officer_file", "privacy.process", "privacy.process", "privacy.show", "privacy.list_all"])
        if kind == "privacy.officer_file":
            email = f"subject-{tag}-{rng.randrange(10**9)}@example.net"
            with lock:
                subjects.append(email)
            status, text = client.call(
                kind,
                "POST",
                "/api/v1/privacy_request/",
                {
                    "request_type": rng.choice(["access", "portability"]),
                    "email": email,
                    "name": "Load Subject",
                    "dealer": rng.choice(dealers).id,
                },
                expect=(201,),
            )
            if status == 201:
                with lock:
                    filed.append(json.loads(text)["id"])
        elif kind == "privacy.process":
            with lock:
                pk = filed.pop(rng.randrange(len(filed))) if filed else None
            if pk is not None:
                client.call(kind, "POST", f"/api/v1/privacy_request/{pk}/process", {}, expect=(202,))
        elif kind == "privacy.show" and filed:
            client.call(kind, "GET", f"/api/v1/privacy_request/{rng.choice(filed)}")
        else:
            client.call("privacy.list_all", "GET", f"/api/v1/privacy_request/?q={quote('(page:0,page_size:25)', safe='')}")


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def public_visitor(client: Client, budget: Budget, rng: random.Random, subjects: list, lock: threading.Lock, counter: list, tag: str):
    """Files on the public form; every filing comes from a visitor address of its own (the
    form is limited per visitor), as people behind the proxy do."""
    while budget.take():
        with lock:
            counter[0] += 1
            n = counter[0]
        address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        client.cookies.clear()
        status, text = client.call("public.form", "GET", "/privacy/request", address=address)
        match = _CSRF.search(text)
        if status != 200 or match is None or not budget.take():
            continue
        email = f"public-{tag}-{rng.randrange(10**9)}@example.net"
        with lock:
            subjects.append(email)
        base = f"https://{client.host}:{client.port}"
        client.call(
            "public.file",
            "POST",
            "/privacy/request",
            urlencode(
                {
                    "csrf_token": match.group(1) or match.group(2),
                    "request_type": rng.choice(["access", "erasure", "objection"]),
                    "email": email,
                    "name": "Load Visitor",
                    "dealer": "platform",
                    "details": "",
                }
            ),
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"{base}/privacy/request", "Origin": base},
            address=address,
        )


# ---------------------------------------------------------------------------- main


def scan_logs(paths: list[str], needles: list[str]) -> list[str]:
    found = []
    lowered = [(n, n.lower()) for n in needles if n]
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                for number, line in enumerate(handle, 1):
                    low = line.lower()
                    for needle, needle_low in lowered:
                        if needle_low in low:
                            found.append(f"{path}:{number}: {needle!r}: {line.strip()[:200]}")
        except OSError as exc:
            found.append(f"{path}: cannot read: {exc}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("LOAD_BASE_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="stop after this many requests in all")
    parser.add_argument(
        "--dealer", action="append", required=True, metavar="SLUG:USERNAME", help="a dealer and its DealerAdmin (give exactly two)"
    )
    parser.add_argument("--officer", required=True, metavar="USERNAME", help="a PrivacyOfficer")
    parser.add_argument("--password-env", default="LOAD_PASSWORD", help="the variable that holds the users' password")
    parser.add_argument(
        "--personal",
        action="append",
        default=[],
        metavar="TEXT",
        help="more personal data (e.g. the users' e-mails) that must not be in the logs",
    )
    parser.add_argument("--log", action="append", default=[], metavar="PATH", help="a log file to scan (after the run)")
    parser.add_argument("--seed-rows", type=int, default=10, help="cars and clients created per dealer before the run")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a 5xx, a canary hit or personal data in a log")
    args = parser.parse_args(argv)

    if len(args.dealer) != 2 or any(":" not in d for d in args.dealer):
        parser.error("give --dealer SLUG:USERNAME exactly twice")
    password = os.environ.get(args.password_env)
    if not password:
        parser.error(f"set {args.password_env}")
    host = urlsplit(args.base_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("loopback only: the base URL must be on 127.0.0.1")

    stats = Stats()
    run = secrets.token_hex(4)
    dealers = [Dealer(*d.split(":", 1)) for d in args.dealer]
    set_up(args.base_url, stats, dealers, password, args.seed_rows, run)
    print(f"set-up: dealers {[(d.slug, d.id) for d in dealers]}, canaries {[d.canary_name for d in dealers]}", flush=True)

    budget = Budget(args.seconds, args.max_requests)
    filed: list[int] = []
    subjects: list[str] = []
    lock = threading.Lock()
    counter = [0]
    threads = []
    users = max(args.users, 3)
    officers = max(1, users // 10)
    visitors = max(1, users // 10)
    for i in range(users):
        rng = random.Random(f"{run}-{i}")
        client = Client(args.base_url, stats, f"198.51.{100 + i // 250}.{i % 250 + 1}", rng.choice(["en", "uk", "de"]))
        if i < officers:
            client.login(args.officer, password)
            target = officer_user
            params = (client, dealers, budget, rng, filed, subjects, lock, run)
        elif i < officers + visitors:
            target = public_visitor
            params = (client, budget, rng, subjects, lock, counter, run)
        else:
            own, other = dealers[i % 2], dealers[(i + 1) % 2]
            client.login(own.username, password)
            client.forbidden = [other.canary_name, other.canary_email]
            client.own = own.canary_email
            target = dealer_user
            params = (client, own, other, budget, rng, filed, run)
        threads.append(threading.Thread(target=target, args=params, name=f"user-{i}", daemon=True))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, budget.deadline - time.monotonic() + 90))
    elapsed = time.monotonic() - started
    stuck = [t.name for t in threads if t.is_alive()]

    time.sleep(2)  # let the worker write what it writes about the last requests
    needles = [d.canary_name for d in dealers] + [d.canary_email for d in dealers] + args.personal + subjects
    in_logs = scan_logs(args.log, needles)

    print(
        f"\nload: {users} users ({officers} privacy officers, {visitors} public visitors), {elapsed:.0f} s, "
        f"{stats.total} requests, {stats.total / max(elapsed, 1e-9):.1f} req/s"
    )
    print(f"{'kind':24} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    for kind in sorted(stats.latency):
        values = stats.latency[kind]
        codes = " ".join(f"{code}:{count}" for code, count in sorted(stats.statuses[kind].items()))
        print(
            f"{kind:24} {len(values):6} {percentile(values, 50) * 1000:8.0f} {percentile(values, 95) * 1000:8.0f} "
            f"{percentile(values, 99) * 1000:8.0f}  {codes}"
        )
    server_errors = sum(c for kinds in stats.statuses.values() for s, c in kinds.items() if s >= 500)
    broken = len(stats.errors) - server_errors
    print(
        f"5xx: {server_errors}; broken connections: {broken}; unexpected 4xx: {len(stats.unexpected)}; "
        f"cross-tenant canary hits: {len(stats.canary_hits)} (own canary seen {stats.own_seen} times); log lines with personal data: {len(in_logs)} "
        f"(scanned {len(args.log)} files for {len(needles)} strings); threads still running: {len(stuck)}"
    )
    for title, rows in (("errors", stats.errors), ("unexpected", stats.unexpected), ("canary hits", stats.canary_hits)):
        for kind, what in rows[:10]:
            print(f"  {title}: {kind}: {what}")
    for line in in_logs[:10]:
        print(f"  personal data in a log: {line}")
    failed = bool(stats.errors or stats.canary_hits or in_logs or stuck)
    if args.strict and failed:
        print("load: FAILED (--strict)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
