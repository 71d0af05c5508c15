"""Server-rendered HTML: one Jinja2 environment over `bot/templates`, and the headers every page is sent with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from cards.i18n import Translator

templates = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
                        autoescape=select_autoescape(["html"]), undefined=StrictUndefined)

# pages whose URL carries a token: never cached, never indexed, never sent on as a Referer; no scripts at all
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
}


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from `template` with the page headers."""
    return HTMLResponse(templates.get_template(template).render(**context), status_code=status,
                        headers=PAGE_HEADERS)


def message_page(t: Translator, status: int, heading: str, lines: list[str]) -> HTMLResponse:
    """A short page that only says something (an error), in the look of the one-click link pages."""
    return render("page.html", status, lang=t.locale, heading=heading, lines=lines, action_label=None, note=None)
