"""Strategy notes (client's, shared with the provider), the knowledge base, and safe Markdown."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from pactboard.accounts.models import Role
from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.governance import collaboration as c
from pactboard.governance.markdown_safe import ALLOWED_TAGS, markdown_to_safe_html
from tests.conftest import World, make_member

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


# --- Markdown -------------------------------------------------------------------------------------


def test_markdown_renders_the_allowed_tags():
    html = markdown_to_safe_html("## Plan\n\n- **first** item\n- [docs](https://example.com/x)\n\n`code`")
    assert "<h2>Plan</h2>" in html
    assert "<li><strong>first</strong> item</li>" in html
    assert '<a href="https://example.com/x" rel="noopener noreferrer nofollow">docs</a>' in html
    assert "<code>code</code>" in html


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src="x" onerror="alert(1)">', "<img"),
        ('<a href="https://x.example" onclick="steal()">y</a>', "<a href"),  # raw HTML is text, not a link
        ("[click](javascript:alert(1))", "javascript:"),
        ("[click](JaVaScRiPt:alert(1))", "javascript:"),
        ("[click](data:text/html;base64,PHNjcmlwdD4=)", "data:"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ("<div style='position:fixed'>x</div>", "<div"),
        ("![pixel](https://tracker.example/p.png)", "<img"),
    ],
)
def test_markdown_neutralises_html_scripts_handlers_and_bad_links(text, forbidden):
    html = markdown_to_safe_html(text)
    elements = _elements(html)
    # Whatever was typed, the HTML holds only allow-listed tags, no on* handler and no link but http(s)/mailto.
    assert {tag for tag, _ in elements} <= ALLOWED_TAGS
    for _tag, attrs in elements:
        assert not [name for name in attrs if name.startswith("on") or name == "style"]
        assert attrs.get("href") is None or attrs["href"].startswith(("https:", "http:", "mailto:"))
    # Typed HTML is shown as text (escaped), never as markup.
    assert forbidden not in "".join(f"<{t}" + "".join(f" {k}={v}" for k, v in a.items()) for t, a in elements).lower()


def _elements(html: str) -> list[tuple[str, dict[str, str]]]:
    found: list[tuple[str, dict[str, str]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, {k: v or "" for k, v in attrs}))

    Collect().feed(html)
    return found


# --- strategy notes -------------------------------------------------------------------------------


def test_a_draft_is_the_clients_until_shared(world: World):
    note = c.note_create(
        actor=world.client_manager, engagement=world.engagement, title="2027 focus", body="Grow **FCR**",
        share=False, now=NOW,
    )  # fmt: skip
    assert [n.pk for n in c.note_list(membership=world.client_viewer, engagement=world.engagement)] == [note.pk]
    assert list(c.note_list(membership=world.provider_manager, engagement=world.engagement)) == []
    with pytest.raises(PactboardError) as exc:
        c.note_get(membership=world.provider_manager, engagement=world.engagement, note_id=note.pk)
    assert exc.value.kind == "not_found"
    c.note_share(actor=world.client_manager, note=note, shared=True, now=NOW)
    assert c.note_get(membership=world.provider_manager, engagement=world.engagement, note_id=note.pk).is_shared
    c.note_share(actor=world.client_manager, note=note, shared=True, now=NOW)  # twice: no second event
    c.note_update(actor=world.client_manager, note=note, title="2027 focus", body="Grow FCR and CSAT")
    actions = list(AuditEvent.objects.filter(action__startswith="strategy_note.").values_list("action", flat=True))
    assert sorted(actions) == ["strategy_note.create", "strategy_note.share", "strategy_note.update"]


@pytest.mark.parametrize(
    ("who", "kind"), [("provider_manager", "forbidden"), ("client_viewer", "forbidden"), ("outsider", "not_found")]
)
def test_only_client_managers_write_notes(world: World, who, kind):
    with pytest.raises(PactboardError) as exc:
        c.note_create(actor=getattr(world, who), engagement=world.engagement, title="x", body="y", share=True, now=NOW)
    assert exc.value.kind == kind


def test_note_needs_a_title_and_a_body(world: World):
    with pytest.raises(PactboardError) as exc:
        c.note_create(
            actor=world.client_manager, engagement=world.engagement, title=" ", body="y", share=False, now=NOW
        )
    assert (exc.value.details[0].location, exc.value.details[0].code) == ("title", "required")


# --- knowledge base -------------------------------------------------------------------------------


def _articles(world: World):
    a = c.article_create(
        actor=world.provider_manager, engagement=world.engagement, kind="practice",
        title="Warm hand-over to second line", body="Stay on the call until **second line** answers.",
        tags="Escalation, night shift",
    )  # fmt: skip
    b = c.article_create(
        actor=world.client_manager, engagement=world.engagement, kind="lesson",
        title="Peak planning", body="Forecast Black Friday volumes in September.", tags=["forecasting", "peak"],
    )  # fmt: skip
    return a, b


def _titles(world: World, **kw) -> list[str]:
    return [a.title for a in c.article_list(membership=world.client_viewer, engagement=world.engagement, **kw)]


def test_articles_of_both_parties_with_tags_and_search(world: World):
    a, b = _articles(world)
    assert a.tag_list == ["escalation", "night-shift"]
    assert (a.author_org_id, b.author_org_id) == (world.provider_org.pk, world.client_org.pk)
    # Every word must match, in any of title, body or tags, case-insensitively.
    assert _titles(world, q="SECOND line") == ["Warm hand-over to second line"]
    assert _titles(world, q="black friday") == ["Peak planning"]
    assert _titles(world, q="night") == ["Warm hand-over to second line"]  # a tag
    assert _titles(world, q="peak second") == []
    assert set(_titles(world)) == {a.title, b.title}
    assert _titles(world, tag="Night Shift") == [a.title]
    assert _titles(world, tag="night") == []  # a tag filter matches whole tags only
    assert c.article_tags(membership=world.client_viewer, engagement=world.engagement) == [
        ("escalation", 1), ("forecasting", 1), ("night-shift", 1), ("peak", 1),
    ]  # fmt: skip
    assert AuditEvent.objects.filter(action="article.create").count() == 2


def test_articles_are_edited_by_their_own_party(world: World):
    a, _ = _articles(world)
    tina = make_member("tina@helpline.example", world.provider_org, Role.CONTRIBUTOR)
    c.article_update(actor=tina, article=a, kind="lesson", title="Warm hand-over", body="Stay on.", tags="escalation")
    a.refresh_from_db()
    assert (a.kind, a.title, a.tags, a.updated_by_id) == ("lesson", "Warm hand-over", ",escalation,", tina.user_id)
    with pytest.raises(PactboardError) as exc:
        c.article_update(actor=world.client_manager, article=a, kind="lesson", title="Mine", body="x", tags="")
    assert exc.value.kind == "forbidden"
    assert "Helpline BPO" in str(exc.value)
    with pytest.raises(PactboardError) as exc:
        c.article_create(
            actor=world.client_viewer, engagement=world.engagement, kind="practice", title="x", body="y", tags=""
        )
    assert exc.value.kind == "forbidden"
    with pytest.raises(PactboardError) as exc:
        c.article_create(
            actor=world.outsider, engagement=world.engagement, kind="practice", title="x", body="y", tags=""
        )
    assert exc.value.kind == "not_found"
    assert c.article_list(membership=world.outsider, engagement=world.engagement).count() == 0


def test_article_input_errors_name_the_field(world: World):
    cases = [
        ({"kind": "essay"}, "kind", "invalid_choice"),
        ({"tags": ",".join(f"t{i}" for i in range(11))}, "tags", "too_many_tags"),  # MAX_TAGS is 10
        ({"body": ""}, "body", "required"),
        ({"title": "x" * 201}, "title", "too_long"),  # _text keeps a title to 200
    ]
    for override, location, code in cases:
        kw = {"kind": "practice", "title": "T", "body": "B", "tags": "", **override}
        with pytest.raises(PactboardError) as exc:
            c.article_create(actor=world.client_manager, engagement=world.engagement, **kw)
        assert [(d.location, d.code) for d in exc.value.details] == [(location, code)]
