"""The password policy (OWASP ASVS 4.0.3, V2.1), the same wherever a password is set.

- 12 to 128 characters, any characters (spaces and emoji included), never truncated;
- not one of the 30,000 most common passwords of real breaches (the list zxcvbn ships),
  nor the public demo password, nor built from the user's own name or address;
- not trivially guessable by zxcvbn's estimate (score 0–1: repeats, sequences, dates);
- no composition rules (ASVS 2.1.9).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from flask_babel import lazy_gettext as _l

from app.domain import DomainError
from config import DEMO_PASSWORD

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_SCORE = 2  # zxcvbn: 0 too guessable … 4 very unguessable
ZXCVBN_LENGTH = 72  # zxcvbn reads at most this many characters; the rest only adds strength
# Passwords published in this repository (the demo data set): never accepted by the policy.
PUBLIC_PASSWORDS = frozenset({DEMO_PASSWORD})


class WeakPassword(DomainError):
    """A password the policy refuses; the message says why, never echoing the password."""


@lru_cache(maxsize=1)
def _breached() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Raise ``WeakPassword`` unless ``password`` meets the policy; ``user_inputs`` are the
    account's own words (username, names, e-mail) that must not make up the password."""
    password = unicodedata.normalize("NFKC", password or "")
    if len(password) < MIN_LENGTH:
        raise WeakPassword(_l("Use at least %(count)d characters.", count=MIN_LENGTH), "password")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(_l("Use at most %(count)d characters.", count=MAX_LENGTH), "password")
    folded = password.casefold()
    if folded in PUBLIC_PASSWORDS or folded in _breached():
        raise WeakPassword(_l("This password is known from data breaches. Choose another one."), "password")
    words = _own_words(user_inputs)
    if any(len(word) >= 4 and word in folded for word in words):
        raise WeakPassword(_l("Do not build the password from your name, username or e-mail."), "password")
    from zxcvbn import zxcvbn

    if zxcvbn(password[:ZXCVBN_LENGTH], user_inputs=sorted(words))["score"] < MIN_SCORE:
        raise WeakPassword(_l("This password is too easy to guess. A few unrelated words make a strong one."), "password")


def _own_words(user_inputs: Iterable[str]) -> set[str]:
    words = set()
    for value in user_inputs:
        value = (value or "").casefold().strip()
        if not value:
            continue
        words.add(value)
        words.update(part for part in value.replace("@", " ").replace(".", " ").replace("-", " ").split() if part)
    return words
