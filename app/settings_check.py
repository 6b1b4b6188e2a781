"""Production refuses to start with a weak secret, without a Redis server, with the
example mail addresses while mail is on, and no account keeps the demo password."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from config import DEFAULT_SECRET_KEY, DEMO_PASSWORD

MIN_SECRET_BITS = 128  # estimated entropy of SECRET_KEY (and PRIVACY_LEDGER_KEY if set)
MIN_SECRET_LENGTH = 32
HOW_TO = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
# The defaults in config.py use this domain: nobody receives mail there.
PLACEHOLDER_DOMAIN = "forecourt.example"


class InsecureConfiguration(RuntimeError):
    pass


def estimated_bits(secret: str) -> float:
    """A cautious estimate of a secret's entropy: the smaller of its character statistics
    (Shannon entropy per character × length) and zxcvbn's guess count, which sees through
    keyboard runs, sequences, repeats and words."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    from zxcvbn import zxcvbn

    guesses_bits = zxcvbn(secret[:72])["guesses_log10"] * math.log2(10)
    if len(secret) > 72:  # zxcvbn reads the first 72 characters only
        guesses_bits += per_char * (len(secret) - 72)
    return min(per_char * len(secret), guesses_bits)


def weak_secret(secret: str | None) -> bool:
    secret = secret or ""
    if secret in {DEFAULT_SECRET_KEY, DEMO_PASSWORD, "change-me"} or len(secret) < MIN_SECRET_LENGTH:
        return True
    return estimated_bits(secret) < MIN_SECRET_BITS


def check_production_settings(config: Mapping[str, Any]) -> None:
    if config.get("DEMO_DATA_ALLOWED", True):
        return  # development and testing
    if weak_secret(config.get("SECRET_KEY")):
        raise InsecureConfiguration(
            f"SECRET_KEY is too weak for production: use a random value of at least {MIN_SECRET_LENGTH} "
            f"characters and {MIN_SECRET_BITS} bits, e.g. from {HOW_TO}"
        )
    ledger_key = config.get("PRIVACY_LEDGER_KEY")
    if ledger_key and weak_secret(ledger_key):
        raise InsecureConfiguration(f"PRIVACY_LEDGER_KEY is too weak for production: make one with {HOW_TO}")
    if _same_database(config.get("DELETION_LEDGER_URL"), config.get("SQLALCHEMY_DATABASE_URI")):
        raise InsecureConfiguration(
            "DELETION_LEDGER_URL names the main database: a backup restore would take the deletion ledger back with it. "
            "Give the ledger a database of its own (or leave it unset for a file under FORECOURT_DATA_DIR)."
        )
    if not config.get("REDIS_URL"):
        raise InsecureConfiguration(
            "REDIS_URL is not set: production needs a Redis server shared by the web processes, workers "
            "and cron (e.g. REDIS_URL=redis://redis.internal:6379/0); the embedded Redis is for development"
        )
    if config.get("MAIL_SERVER"):
        for name in ("MAIL_DEFAULT_SENDER", "PRIVACY_OFFICER_EMAIL"):
            if placeholder_address(config.get(name)):
                raise InsecureConfiguration(
                    f"{name} is {config.get(name)!r}: with MAIL_SERVER set, production mails people from and "
                    f"about real addresses; set {name} to one of yours (e.g. {_EXAMPLES[name]})"
                )


_EXAMPLES = {
    "MAIL_DEFAULT_SENDER": "'Forecourt <no-reply@your-domain>'",
    "PRIVACY_OFFICER_EMAIL": "privacy@your-domain",
}


def placeholder_address(value: str | None) -> bool:
    """Empty, or an address at the example domain of the defaults."""
    from email.utils import parseaddr

    address = parseaddr(value or "")[1].strip().lower()
    if "@" not in address:
        return True
    domain = address.rsplit("@", 1)[1]
    return domain == PLACEHOLDER_DOMAIN or domain.endswith("." + PLACEHOLDER_DOMAIN)


def demo_password_in_use(users: list[Any]) -> list[str]:
    """Usernames whose password is still the demo password (checked by `forecourt init`)."""
    from werkzeug.security import check_password_hash

    return [u.username for u in users if u.password and check_password_hash(u.password, DEMO_PASSWORD)]


def _same_database(a: str | None, b: str | None) -> bool:
    def plain(url: str) -> str:
        for prefix in ("postgresql+psycopg://", "postgres://"):
            if url.startswith(prefix):
                url = "postgresql://" + url[len(prefix) :]
        return url.rstrip("/")

    return bool(a and b) and plain(str(a)) == plain(str(b))
