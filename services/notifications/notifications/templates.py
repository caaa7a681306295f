"""The catalogue's wording: Jinja2 templates in `templates/<locale>/<message>.j2`, each with a
title, plain text and HTML (see `templates/en/_base.j2`). A locale without a message falls
back to English.

Everything a person wrote is text. The HTML part is rendered with autoescape on, set
explicitly rather than chosen by file name (the templates end in `.j2`, which
`select_autoescape` would leave unescaped). The title and the plain text are plain text,
never markup: the title is one line (it is also the e-mail's Subject), and whoever shows
either (the portal) escapes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from contracts.dates import format_day, format_moment
from contracts.money import format_money
from notifications.domain import one_line

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_LOCALE = "en"


@dataclass(frozen=True)
class Rendered:
    title: str
    text: str
    html: str


def _money(value: Any) -> str:
    """An event's amount (`{"amount_minor", "currency"}`) as people read it: "5,000 JPY"."""
    if not value:
        return ""
    return format_money(int(value["amount_minor"]), value["currency"])


def _when(value: Any) -> str:
    """A moment in the platform's one date format (`contracts.dates`), in UTC: the reader's
    zone is not known to an e-mail."""
    return format_moment(value) if value else "soon"


def _day(value: Any) -> str:
    """A calendar date (`"2026-12-01"`, such as a pickup date) as people read it; anything
    that is not one is shown as it is."""
    return format_day(value) if value else "soon"


def _environment(folder: Path, *, html: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        # explicit, never chosen by file name: on for the HTML part, off for plain text
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
    )
    environment.filters["money"] = _money
    environment.filters["when"] = _when
    environment.filters["day"] = _day
    return environment


class Catalogue:
    def __init__(self, folder: Path = TEMPLATES) -> None:
        self.plain = _environment(folder, html=False)
        self.html = _environment(folder, html=True)

    def messages(self) -> list[str]:
        """Every message the catalogue has words for (in English)."""
        names = self.plain.list_templates(filter_func=lambda n: n.startswith(f"{DEFAULT_LOCALE}/"))
        return sorted(
            n.removeprefix(f"{DEFAULT_LOCALE}/").removesuffix(".j2")
            for n in names
            if not n.split("/")[-1].startswith("_")
        )

    def render(self, message: str, locale: str, context: dict[str, Any]) -> Rendered:
        def block(environment: jinja2.Environment, part: str) -> str:
            try:
                template = environment.get_template(f"{locale}/{message}.j2")
            except jinja2.TemplateNotFound:
                template = environment.get_template(f"{DEFAULT_LOCALE}/{message}.j2")
            return template.render(context | {"part": part}).strip()

        return Rendered(
            title=one_line(block(self.plain, "title")),
            text=block(self.plain, "text") + "\n",
            html=block(self.html, "html"),
        )
