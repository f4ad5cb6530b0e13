"""Lay a ReportView out with the Jinja2 templates: Markdown escaped by default, HTML autoescaped.

In the Markdown environment every `{{ … }}` passes through `finalize`, which escapes it,
unless it is `MarkdownSafe` (Markdown this module built itself, e.g. a link whose parts are
already escaped). A template therefore cannot forget to escape: escaping is the default,
exactly as autoescape is for the HTML report. Jinja2 is imported on first use only.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from pipeline.report.escape import escape_markdown, markdown_link
from pipeline.report.view import ReportView

if TYPE_CHECKING:
    from jinja2 import Environment

SUMMARY_TEMPLATE = "summary.md.j2"
HTML_TEMPLATE = "report.html.j2"


class MarkdownSafe(str):
    """Markdown built by Tollgate from escaped parts; `finalize` passes it through as is."""

    __slots__ = ()


def _finalize_markdown(value: object) -> str:
    if isinstance(value, MarkdownSafe):
        return value
    return "" if value is None else escape_markdown(value)


def _link(text: object, url: str | None) -> MarkdownSafe:
    return MarkdownSafe(markdown_link(text, url))


@cache
def _environment(markdown: bool) -> Environment:
    import jinja2  # noqa: PLC0415 - lazy: `tollgate --help` must not import Jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.report", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Markdown is not HTML: there, escaping is `finalize`'s job (see the module docstring).
        autoescape=not markdown,  # noqa: S701
        finalize=_finalize_markdown if markdown else None,
    )
    if markdown:
        environment.globals["link"] = _link
    return environment


def compile_templates() -> None:
    """Compile both templates ahead of their first render; each environment keeps its own."""
    _environment(markdown=True).get_template(SUMMARY_TEMPLATE)
    _environment(markdown=False).get_template(HTML_TEMPLATE)


def render_summary(view: ReportView) -> str:
    """The job summary: GitHub Markdown with every piece of scanner text escaped."""
    return _environment(markdown=True).get_template(SUMMARY_TEMPLATE).render(view=view)


def render_html(view: ReportView) -> str:
    """The self-contained HTML report (inline CSS and SVG, no script, no external fetch)."""
    return _environment(markdown=False).get_template(HTML_TEMPLATE).render(view=view)
