"""Entry point: ``app`` for `flask --app run` and gunicorn; ``python run.py`` starts the
embedded stack (web + worker + cron on SQLite and an embedded Redis)."""

from __future__ import annotations

from app import create_app

app = create_app()

if __name__ == "__main__":
    from app.launcher import run_embedded_stack

    run_embedded_stack()
