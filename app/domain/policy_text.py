"""The privacy policy's text format, and its safe rendering to HTML.

The text is plain: blank lines separate paragraphs; a paragraph of one line starting
with ``# `` is a section heading, optionally ending in ``{#anchor}`` (the section's id,
e.g. ``# Cookies {#cookies}`` for /privacy#cookies); a paragraph whose lines all start
with ``- `` is a list. Web addresses, site paths (``/privacy/request``) and e-mail
addresses become links. Everything else is escaped: the text can never inject HTML.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

HEADING = re.compile(r"^#\s+(?P<title>.+?)(?:\s+\{#(?P<anchor>[a-z][a-z0-9-]*)\})?\s*$")
LINKABLE = re.compile(
    r"(?P<url>https?://[^\s<>\"']+)"
    r"|(?P<path>(?<![\w/.])/[a-z0-9][a-z0-9/_-]*(?:#[a-z0-9-]+)?)"
    r"|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
    re.IGNORECASE,
)
TRAILING = ".,;:!?)"


def paragraphs(body: str | None) -> list[str]:
    """The text's paragraphs, without surrounding blank lines."""
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    return [block.strip() for block in re.split(r"\n\s*\n", text) if block.strip()]


def sections(body: str | None) -> list[tuple[str, str]]:
    """(anchor, title) of every section with an anchor, for a table of contents."""
    found = []
    for block in paragraphs(body):
        match = HEADING.match(block) if "\n" not in block else None
        if match and match.group("anchor"):
            found.append((match.group("anchor"), match.group("title")))
    return found


def render_policy(body: str | None) -> Markup:
    """The text as HTML paragraphs, headings and lists; nothing of it is trusted."""
    parts = []
    for block in paragraphs(body):
        lines = block.split("\n")
        heading = HEADING.match(block) if len(lines) == 1 else None
        if heading:
            anchor = heading.group("anchor")
            id_attr = Markup(' id="{}"').format(anchor) if anchor else Markup("")
            parts.append(Markup("<h2{}>{}</h2>").format(id_attr, _inline(heading.group("title"))))
        elif all(line.lstrip().startswith("- ") for line in lines):
            items = Markup("").join(Markup("<li>{}</li>").format(_inline(line.lstrip()[2:].strip())) for line in lines)
            parts.append(Markup("<ul>{}</ul>").format(items))
        else:
            parts.append(Markup("<p>{}</p>").format(Markup("<br>").join(_inline(line) for line in lines)))
    return Markup("\n").join(parts)


def _inline(text: str) -> Markup:
    """Escape ``text`` and turn addresses into links."""
    out = []
    position = 0
    for match in LINKABLE.finditer(text):
        target = match.group(0)
        trimmed = target.rstrip(TRAILING)
        end = match.start() + len(trimmed)
        out.append(escape(text[position : match.start()]))
        if match.group("email"):
            href = "mailto:" + trimmed
        else:
            href = trimmed
        out.append(Markup('<a href="{}">{}</a>').format(href, trimmed))
        position = end
    out.append(escape(text[position:]))
    return Markup("").join(out)
