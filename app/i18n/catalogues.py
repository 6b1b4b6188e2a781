"""The message catalogues in ``translations/``: extraction, compilation, and the checks
of the completeness gate (``tests/test_translations.py``).

``make translations`` runs the same extraction with pybabel (``BABEL_KEYWORDS`` in the
Makefile are :data:`KEYWORDS`; a test keeps them equal). Compiled ``.mo`` files are
build output: ``make`` and the test session compile stale ones with
:func:`compile_catalogues`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
MAPPING = TRANSLATIONS / "babel.cfg"
TEMPLATE = TRANSLATIONS / "messages.pot"
SOURCE_LANGUAGE = "en"
DOMAIN = "messages"

# pybabel's defaults (_, gettext, ngettext, pgettext, N_ …) plus the lazy forms we use.
KEYWORDS: dict = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}

# %(name)s, %s, %d … and {name}; "%%" is a literal percent sign.
_PLACEHOLDER = re.compile(r"%%|%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|%[-#0 +]*\d*(?:\.\d+)?[sdifrx]|\{\w*\}")

MessageKey = tuple[object, str | None]  # (msgid or (singular, plural), msgctxt)


def catalogue_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages() -> list[str]:
    """Every language with a catalogue, the source language first."""
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return sorted(found, key=lambda code: code != SOURCE_LANGUAGE)


def read_catalogue(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def _walk_into(dirpath: str) -> bool:
    """pybabel's default: skip hidden and private directories (``.venv``, ``__pycache__``)."""
    return not Path(dirpath).name.startswith((".", "_"))


def extract_messages(root: Path = ROOT) -> dict[MessageKey, list[tuple[str, int]]]:
    """What ``pybabel extract -F translations/babel.cfg`` finds, in memory: each message
    (msgid, or (singular, plural), with its context) and where it occurs."""
    with MAPPING.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(MAPPING))
    found: dict[MessageKey, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS, directory_filter=_walk_into
    ):
        key = (tuple(message) if isinstance(message, (list, tuple)) else message, context)
        if key[0]:
            found.setdefault(key, []).append((filename, lineno))
    return found


def message_key(message: Message) -> MessageKey:
    msgid = tuple(message.id) if isinstance(message.id, (list, tuple)) else message.id
    return (msgid, message.context)


def keys_of(catalog: Catalog) -> set[MessageKey]:
    return {message_key(m) for m in catalog if m.id}


def placeholders(text: str) -> list[str]:
    """The interpolation placeholders of ``text``: named ones sorted, positional in order."""
    found = [p for p in _PLACEHOLDER.findall(text or "") if p != "%%"]
    named = sorted(p for p in found if p.startswith(("%(", "{")) and p != "{}")
    positional = [p for p in found if not p.startswith(("%(", "{")) or p == "{}"]
    return named + positional


def _strings(value) -> list[str]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


@dataclass(frozen=True)
class Problem:
    language: str
    key: MessageKey
    what: str

    def __str__(self) -> str:
        msgid, context = self.key
        shown = msgid[0] if isinstance(msgid, tuple) else msgid
        where = f" [{context}]" if context else ""
        return f"{self.language}: {shown!r}{where}: {self.what}"


def problems(catalog: Catalog, language: str) -> list[Problem]:
    """Untranslated, fuzzy, wrong placeholders, wrong number of plural forms, and an ASCII
    apostrophe (FAB puts action texts into single-quoted JavaScript: use ’ instead).

    The source language needs no translation: its empty entries are fine, but whatever
    it does translate is held to the same rules."""
    found: list[Problem] = []
    is_source = language == SOURCE_LANGUAGE
    for message in catalog:
        if not message.id:
            continue
        key = message_key(message)
        if message.fuzzy:
            found.append(Problem(language, key, "fuzzy"))
        sources = _strings(message.id)
        strings = _strings(message.string)
        if message.pluralizable and len(strings) != catalog.num_plurals:
            found.append(Problem(language, key, f"{len(strings)} plural forms, the language has {catalog.num_plurals}"))
        if not any(strings):
            if not is_source:
                found.append(Problem(language, key, "untranslated"))
            continue
        if not all(strings) and not is_source:
            found.append(Problem(language, key, "a plural form is untranslated"))
        wanted = placeholders(sources[-1])  # the msgid, or the plural msgid
        for text in filter(None, strings):
            got = placeholders(text)
            if got != wanted and not (message.pluralizable and _leaves_out_count(got, wanted)):
                found.append(Problem(language, key, f"placeholders {got} instead of {wanted}"))
            if "'" in text:
                found.append(Problem(language, key, "an ASCII apostrophe (use ’)"))
    return found


def _leaves_out_count(got: list[str], wanted: list[str]) -> bool:
    """A plural form may leave out the count ("one car": "ein Auto"), nothing else."""
    return set(got) <= set(wanted) and set(wanted) - set(got) <= {"%(num)s", "%(num)d", "%(n)s", "%(n)d"}


def stale(catalog: Catalog, source: Iterable[MessageKey]) -> tuple[set[MessageKey], set[MessageKey]]:
    """(in the source, not in the catalogue; in the catalogue, not in the source)."""
    source = set(source)
    present = keys_of(catalog)
    return source - present, present - source


def compile_catalogues(force: bool = False) -> list[Path]:
    """Write ``messages.mo`` next to every ``messages.po`` that is newer; the ones written."""
    written = []
    for language in languages():
        po = catalogue_path(language)
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        catalog = read_catalogue(po, language)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        tmp.replace(mo)
        written.append(mo)
    return written
