"""Markdown to HTML that is safe to show to the other party (docs/governance.md, "Collaboration").

Two fences: Python-Markdown runs without its raw-HTML handlers, so HTML typed into a note is shown as
text, never passed through; then nh3 (the Rust ``ammonia`` sanitiser) keeps only the tags, attributes
and URL schemes listed here, whatever the Markdown produced.
"""

from __future__ import annotations

import markdown
import nh3

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "URL_SCHEMES", "markdown_to_safe_html"]

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})


def _converter() -> markdown.Markdown:
    md = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    # Raw HTML blocks and inline tags become text: the note's author cannot write HTML at all.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return md


def markdown_to_safe_html(text: str) -> str:
    """The note or article rendered to HTML holding only the allow-listed tags, attributes and URL schemes."""
    html = _converter().convert(text or "")
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )
