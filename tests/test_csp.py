"""Content-Security-Policy: every page carries it, and no template holds code the policy would block (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World, client_for

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
# E-mails are read in mail clients, never served under the policy; their inline styles are how HTML mail works.
NOT_PAGES = ("email/",)

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.IGNORECASE | re.DOTALL)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
HX_ON = re.compile(r"\shx-on(?::|-)", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def _page_templates() -> list[Path]:
    return [p for p in sorted(TEMPLATES.rglob("*.html")) if not any(part in str(p) for part in NOT_PAGES)]


def _problems(text: str) -> list[str]:
    found = []
    for attributes, body in SCRIPT_TAG.findall(text):
        is_data = re.search(r"""type\s*=\s*["']application/(ld\+)?json["']""", attributes)
        if body.strip() and not is_data:
            found.append(f"inline <script> with code: {body.strip()[:60]!r}")
    found += [f"inline event handler: {m.group(0).strip()}" for m in EVENT_HANDLER.finditer(text)]
    found += [f"hx-on (htmx evaluates it): {m.group(0).strip()}" for m in HX_ON.finditer(text)]
    found += [f"style attribute: {m.group(0).strip()}" for m in STYLE_ATTRIBUTE.finditer(text)]
    found += [f"javascript: URL: {m.group(0)}" for m in JS_URL.finditer(text)]
    return found


def test_the_scanner_finds_what_the_policy_blocks():
    bad = (
        '<script>alert(1)</script><a onclick="x()">a</a><div hx-on::before-swap="y">'
        '<span style="width: 5%"></span><a href="javascript:z()">b</a>'
    )
    assert len(_problems(bad)) == 5
    ok = '<script src="/static/js/app.js" defer></script><script type="application/json" id="s">{"a": 1}</script>'
    assert _problems(ok) == []


def test_no_template_holds_inline_script_handlers_or_styles():
    problems = {str(p.relative_to(ROOT)): _problems(p.read_text(encoding="utf-8")) for p in _page_templates()}
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_policy_forbids_inline_code_and_eval(client: Client, db):
    header = client.get(reverse("accounts:login"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in header


@pytest.mark.django_db
def test_every_page_of_a_walk_carries_the_policy(world: World):
    e = world.engagement.pk
    anonymous = Client()
    for url in (reverse("accounts:login"), reverse("accounts:password_reset")):
        assert "script-src 'self'" in anonymous.get(url)["Content-Security-Policy"], url
    pages = [
        reverse("engagements:list"),
        reverse("engagements:detail", args=[e]),
        reverse("dashboards:portfolio"),
        reverse("dashboards:engagement", args=[e]),
        reverse("dashboards:audit", args=[e]),
        reverse("kpis:catalogue"),
        reverse("accounts:members"),
        reverse("accounts:api_tokens"),
        reverse("governance:notifications"),
        "/api/docs",
        "/no-such-page/",
    ]
    c = client_for(world.client_manager)
    for url in pages:
        response = c.get(url)
        assert response.status_code in {200, 404}, (url, response.status_code)
        assert "script-src 'self'" in response.get("Content-Security-Policy", ""), url
