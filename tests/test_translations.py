"""The completeness gate of the message catalogues (issue 5).

Fails when a string in the code is not in the catalogues (run ``make translations``),
when ``uk`` or ``de`` has an untranslated or fuzzy entry, when a translation's
placeholders differ from the source, or when a translation carries an ASCII apostrophe
(FAB puts action texts into single-quoted JavaScript). English is the source language:
its catalogue must be current, and needs no translations.

Also: every menu entry and every column a screen shows has a translatable label, and
every enum a model stores has a label for each value.
"""

from __future__ import annotations

import enum
import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.extract import extract_from_dir
from babel.messages.plurals import get_plural
from flask_babel.speaklater import LazyString
from sqlalchemy import types as sa_types

from app.i18n import catalogues
from app.i18n.catalogues import SOURCE_LANGUAGE, catalogue_path, languages, read_catalogue

TRANSLATED = [code for code in languages() if code != SOURCE_LANGUAGE]


def _show(keys, limit: int = 40) -> str:
    shown = sorted(str(k[0] if not isinstance(k[0], tuple) else k[0][0]) + (f" [{k[1]}]" if k[1] else "") for k in keys)
    more = f"\n  … and {len(shown) - limit} more" if len(shown) > limit else ""
    return "\n  " + "\n  ".join(shown[:limit]) + more


@pytest.fixture(scope="module")
def source():
    return catalogues.extract_messages()


@pytest.fixture(scope="module")
def catalogue():
    return {code: read_catalogue(catalogue_path(code), code) for code in languages()}


# -- the catalogues ------------------------------------------------------------------------


def test_english_ukrainian_and_german_have_catalogues():
    assert languages()[0] == "en"
    assert {"en", "uk", "de"} <= set(languages())


def test_the_offered_languages_are_the_catalogues(app):
    # Adding a language is adding its catalogue: config.LANGUAGES is discovered from them.
    assert list(app.config["LANGUAGES"]) == languages()
    assert app.config["LANGUAGES"]["uk"]["name"] == "Українська"
    assert app.config["LANGUAGES"]["de"]["name"] == "Deutsch"


def test_the_template_is_current(source):
    template = read_catalogue(catalogues.TEMPLATE)
    missing, stale = catalogues.stale(template, source)
    assert not missing, "strings missing from translations/messages.pot (run `make translations`):" + _show(missing)
    assert not stale, "strings in messages.pot no longer in the code (run `make translations`):" + _show(stale)


@pytest.mark.parametrize("code", languages())
def test_each_catalogue_is_current(code, source, catalogue):
    missing, stale = catalogues.stale(catalogue[code], source)
    assert not missing, f"strings missing from the {code} catalogue (run `make translations`, then translate them):" + _show(missing)
    assert not stale, f"strings in the {code} catalogue no longer in the code (run `make translations`):" + _show(stale)


@pytest.mark.parametrize("code", languages())
def test_each_catalogue_is_complete_and_well_formed(code, catalogue):
    problems = catalogues.problems(catalogue[code], code)
    shown = "\n  ".join(str(p) for p in problems[:60])
    assert not problems, f"{len(problems)} problem(s) in translations/{code}/LC_MESSAGES/messages.po:\n  {shown}"


@pytest.mark.parametrize("code", languages())
def test_headers_name_the_language_and_its_plural_forms(code, catalogue):
    catalog = catalogue[code]
    assert not catalog.fuzzy, f"the {code} catalogue's header is fuzzy: pybabel compile would skip the whole file"
    assert str(catalog.locale) == code
    assert catalog.num_plurals == get_plural(Locale.parse(code)).num_plurals


def test_ukrainian_has_three_plural_forms_and_german_two(catalogue):
    assert catalogue["uk"].num_plurals == 3
    assert catalogue["de"].num_plurals == 2
    plurals = [m for m in catalogue["uk"] if m.id and m.pluralizable]
    assert plurals, "no plural message to check"
    for message in plurals:
        assert len(message.string) == 3 and all(message.string), message.id


def test_the_makefile_extracts_with_the_same_keywords():
    makefile = (catalogues.ROOT / "Makefile").read_text()
    line = re.search(r"^BABEL_KEYWORDS\s*:?=\s*(.+)$", makefile, re.MULTILINE)
    assert line, "BABEL_KEYWORDS is gone from the Makefile"
    names = {spec.split(":")[0] for spec in re.findall(r"-k\s+(\S+)", line.group(1))}
    added = set(catalogues.KEYWORDS) - set(catalogues.DEFAULT_KEYWORDS)
    assert names == added


def test_the_mapping_covers_python_and_templates_of_app_and_jobs():
    mapping = catalogues.MAPPING.read_text()
    for pattern in ("[python: app/**.py]", "[python: jobs/**.py]", "[jinja2: app/templates/**.html]", "[jinja2: app/templates/**.txt]"):
        assert pattern in mapping


def test_the_gate_notices_what_it_is_for(catalogue):
    """Each kind of mistake, put into a copy of a real catalogue, is reported."""
    from copy import deepcopy

    catalog = deepcopy(catalogue["de"])
    ids = [m.id for m in catalog if m.id and not m.pluralizable and "%(" in m.id][:1]
    plain = [m.id for m in catalog if m.id and not m.pluralizable and "%" not in m.id][:3]
    catalog[plain[0]].string = ""
    catalog[plain[1]].flags.add("fuzzy")
    catalog[plain[2]].string = "Das ist ein 'Test'"
    catalog[ids[0]].string = "ohne Platzhalter"
    found = {(p.key[0], p.what.split(" ")[0]) for p in catalogues.problems(catalog, "de")}
    assert (plain[0], "untranslated") in found
    assert (plain[1], "fuzzy") in found
    assert (plain[2], "an") in found  # an ASCII apostrophe
    assert (ids[0], "placeholders") in found


# -- FAB's own screens -----------------------------------------------------------------------


def test_fab_screens_are_translated_in_every_language(catalogue, app):
    """FAB ships German but no Ukrainian: our catalogues carry FAB's messages
    (app/i18n/fab_strings.py), so its login, list, search and account screens are translated."""
    import flask_appbuilder

    fab_dir = Path(flask_appbuilder.__file__).parent
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(fab_dir),
        [("**/templates/**.html", "jinja2"), ("**.py", "python")],
        keywords=catalogues.KEYWORDS,
    ):
        if message and isinstance(message, str):
            found.add((message, context))
    ours = catalogues.keys_of(catalogue["uk"])
    missing = found - ours
    assert not missing, "FAB messages missing from app/i18n/fab_strings.py:" + _show(missing)


def test_fab_translations_come_first_and_ours_after_them(app):
    import flask_appbuilder
    from flask_babel import get_babel

    fab = str(Path(flask_appbuilder.__file__).parent / "translations")
    directories = get_babel(app).translation_directories
    assert [str(Path(d).resolve()) for d in directories] == [str(Path(fab).resolve()), str(catalogues.TRANSLATIONS)]
    assert all(Path(d).is_absolute() for d in directories)
    assert app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";") == directories


@pytest.mark.parametrize(
    ("code", "msgid", "expected"),
    [
        ("de", "Record Count", "Anzahl Datensätze"),  # FAB's string
        ("uk", "Record Count", "Кількість записів"),
        ("de", "Cars", "Autos"),  # ours
        ("uk", "Cars", "Автомобілі"),
    ],
)
def test_fab_and_our_strings_translate(app, code, msgid, expected):
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(code):
        assert gettext(msgid) == expected


# -- screens: every label translatable ------------------------------------------------------


def _msgid(label) -> str | None:
    """The msgid behind a lazily translated label; None for a plain (untranslatable) str."""
    if isinstance(label, LazyString) and label._args:
        return label._args[-1]
    return None


def _screens(app):
    """Our CRUD screens (FAB's own security screens carry FAB's labels)."""
    from flask_appbuilder.baseviews import BaseCRUDView

    return [v for v in app.appbuilder.baseviews if isinstance(v, BaseCRUDView) and not type(v).__module__.startswith("flask_appbuilder")]


def _overrides(view, endpoint: str) -> bool:
    """The view serves ``endpoint`` with a page of its own, not FAB's generic one."""
    from flask_appbuilder import ModelView

    return getattr(type(view), endpoint, None) is not getattr(ModelView, endpoint, None)


def _shown_columns(view) -> dict[str, object]:
    """Each column a person sees on the view's list, show, add, edit and search screens,
    with its label (a form's extra field brings its own)."""
    allowed = set(view.base_permissions or [])
    columns: list[str] = []
    if "can_list" in allowed:
        columns += list(view.list_columns or []) + list(view.search_columns or [])
    if "can_show" in allowed and not _overrides(view, "show"):
        fieldsets = view.show_fieldsets or []
        columns += [c for _title, fs in fieldsets for c in fs.get("fields", [])] if fieldsets else list(view.show_columns or [])
    extra = {}
    for kind in ("add", "edit"):
        if f"can_{kind}" in allowed and not _overrides(view, kind):
            columns += list(getattr(view, f"{kind}_columns", None) or [])
            for name, field in (getattr(view, f"{kind}_form_extra_fields", None) or {}).items():
                extra[name] = field.kwargs.get("label", field.args[0] if field.args else None)
    return {c: extra[c] if c in extra and c not in view.label_columns else view.label_columns.get(c) for c in columns}


def test_every_column_a_screen_shows_has_a_translated_label(app, catalogue):
    keys = {key[0] for key in catalogues.keys_of(catalogue["uk"])}
    untranslatable = sorted(
        f"{type(view).__name__}.{column}: {label!r}"
        for view in _screens(app)
        for column, label in _shown_columns(view).items()
        if _msgid(label) not in keys
    )
    assert not untranslatable, "columns without a translated label (add them to label_columns with _l):\n  " + "\n  ".join(untranslatable)


def test_every_screen_title_is_translated(app, catalogue):
    keys = {key[0] for key in catalogues.keys_of(catalogue["uk"])}
    missing = []
    for view in _screens(app):
        allowed = set(view.base_permissions or [])
        wanted = ["list_title"] + [f"{kind}_title" for kind in ("show", "add", "edit") if f"can_{kind}" in allowed]
        for attr in wanted:
            title = getattr(view, attr, None)
            if title is not None and _msgid(title) not in keys:
                missing.append(f"{type(view).__name__}.{attr}: {title!r}")
    assert not missing, "screen titles that are not translated:\n  " + "\n  ".join(missing)


def test_every_menu_entry_is_translated(app, catalogue):
    keys = {key[0] for key in catalogues.keys_of(catalogue["uk"])}
    missing = []
    for item in app.appbuilder.menu.get_list():
        for entry in [item, *(item.childs or [])]:
            if entry.name == "-":
                continue
            if _msgid(entry.label) not in keys:
                missing.append(f"{entry.name}: {entry.label!r}")
    assert not missing, "menu entries without a translated label (pass label=_l(...)):\n  " + "\n  ".join(missing)


def test_every_stored_enum_has_a_label_for_each_value():
    from app.domain.enum_labels import LABELS
    from app.privacy.registry import mapped_models

    missing = []
    for model in mapped_models():
        for column in model.__table__.columns:
            kind = column.type.impl if isinstance(column.type, sa_types.TypeDecorator) else column.type
            enum_class = getattr(kind, "enum_class", None)
            if not (isinstance(kind, sa_types.Enum) and enum_class and issubclass(enum_class, enum.Enum)):
                continue
            labels = LABELS.get(enum_class.__name__, {})
            missing += [f"{enum_class.__name__}.{m.value}" for m in enum_class if m.value not in labels]
    assert not missing, "enum values without a label in app/domain/enum_labels.py:\n  " + "\n  ".join(sorted(set(missing)))
