"""Prompts and captions are the users' own text: wherever they are shown, they are escaped."""

from urllib.parse import quote

import pytest
from django.test import Client

PAYLOAD = "<script>alert('x')</script><img src=x onerror=alert(1)>\"'&"
RAW_MARKERS = ("<script>alert", "<img src=x", "onerror=alert(1)>")


def assert_escaped(response, where: str) -> None:
    assert response.status_code == 200, (where, response.status_code)
    page = response.content.decode()
    for marker in RAW_MARKERS:
        assert marker not in page, f"{where}: unescaped {marker!r}"
    assert "&lt;script&gt;alert(" in page, f"{where}: the payload is not shown at all"


@pytest.fixture
def hostile(alice, make_creation):
    """alice's creations in every state whose prompt and caption are HTML and JavaScript."""
    return {
        state: make_creation(owner=alice, status=state, prompt=PAYLOAD, caption=PAYLOAD)
        for state in ("pending", "draft", "failed", "published")
    }


def test_the_payload_is_escaped_on_every_page_that_shows_it(hostile, alice, bob, staff, figure):
    owner = Client()
    owner.force_login(alice)
    visitor = Client()
    visitor.force_login(bob)
    admin = Client()
    admin.force_login(staff)
    published, draft = hostile["published"], hostile["draft"]
    pages = {
        "feed": (visitor, "/", {}),
        "profile, posts tab": (visitor, f"/soho/{alice.username}", {}),
        "profile, drafts tab": (owner, f"/soho/{alice.username}?tab=drafts", {}),
        "profile tabs (htmx)": (
            owner,
            f"/soho/{alice.username}?tab=drafts",
            {"HX-Request": "true"},
        ),
        "create form, edit prompt": (owner, f"/create?prompt={quote(PAYLOAD)}", {}),
        "delete confirmation": (owner, f"/creations/{draft.id}/delete", {}),
        "admin creation list, searched": (
            admin,
            f"/admin/creations/creation/?q={quote(PAYLOAD)}",
            {},
        ),
        "admin creation page": (admin, f"/admin/creations/creation/{published.id}/change/", {}),
    }
    for state, creation in hostile.items():
        pages[f"card partial ({state})"] = (
            owner,
            f"/creations/{creation.id}/card?shown=pending",
            {"HX-Request": "true"},
        )
    for where, (client, url, headers) in pages.items():
        assert_escaped(client.get(url, headers=headers), where)
    figure(f"HTML/JS payload escaped on {len(pages)}/{len(pages)} pages that show it")
