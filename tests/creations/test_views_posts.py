"""A post's own page, and what its owner does with a post: edit the caption, unpublish it
(back to the drafts), delete it (to the trash); a post staff took down shows its reason to its
owner only and is gone for everybody else."""

import pytest
from django.test import Client

from creations.models import Creation

from .lifecycle import in_state

HTMX = {"HX-Request": "true"}


def post_target(creation) -> dict:
    return {**HTMX, "HX-Target": f"post-{creation.id}"}


def test_a_post_has_a_page_anyone_can_read_and_the_feed_and_tab_link_to_it(
    client, alice, make_creation
):
    post = make_creation(owner=alice, status="published", caption="fox at dusk")

    response = client.get(f"/p/{post.id}")

    html = response.content.decode()
    assert response.status_code == 200
    assert "fox at dusk" in html
    assert f'<img src="/media/creations/{post.id}/media"' in html
    assert "Edit caption" not in html and "Unpublish" not in html
    for page in ("/", "/soho/alice"):
        assert f'href="/p/{post.id}"' in client.get(page).content.decode()


def test_its_owner_gets_the_actions_on_the_page_and_it_is_never_cached(
    alice_client, alice, make_creation
):
    post = make_creation(owner=alice, status="published", caption="fox at dusk")

    response = alice_client.get(f"/p/{post.id}")

    html = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert f'action="/creations/{post.id}/caption"' in html
    assert '<input type="hidden" name="back" value="post">' in html
    # On its own page unpublish and delete leave the page: plain forms, no swap.
    assert f'<form method="post" action="/creations/{post.id}/unpublish"\n' in html
    assert f'hx-post="/creations/{post.id}/unpublish"' not in html
    assert f'hx-post="/creations/{post.id}/delete"' not in html


@pytest.mark.parametrize("state", ["draft", "pending", "scheduled", "trashed-published"])
def test_what_is_not_a_post_has_no_page_not_even_for_its_owner(
    alice_client, alice, make_creation, state
):
    creation = in_state(make_creation, owner=alice, state=state)

    assert alice_client.get(f"/p/{creation.id}").status_code == 404
    assert Client().get(f"/p/{creation.id}").status_code == 404


def test_an_unknown_post_is_404(client, db):
    assert client.get("/p/00000000-0000-4000-8000-000000000000").status_code == 404


def test_a_taken_down_post_shows_its_reason_to_its_owner_and_is_404_for_others(
    alice_client, alice, bob, make_creation
):
    post = in_state(make_creation, owner=alice, state="taken_down", caption="my poster")
    bobs = Client()
    bobs.force_login(bob)

    own_page = alice_client.get(f"/p/{post.id}").content.decode()
    own_tab = alice_client.get("/soho/alice").content.decode()

    for html in (own_page, own_tab):
        assert "Taken down by our staff." in html
        assert "Reason: Copyright." in html
        assert f'action="/creations/{post.id}/delete"' in html
        assert f'action="/creations/{post.id}/unpublish"' not in html
        assert f'action="/creations/{post.id}/caption"' not in html
    for visitor in (bobs, Client()):
        assert visitor.get(f"/p/{post.id}").status_code == 404
        assert "my poster" not in visitor.get("/soho/alice").content.decode()
        assert "my poster" not in visitor.get("/").content.decode()
        assert visitor.get(f"/media/creations/{post.id}/media").status_code == 404


def test_the_post_of_a_deactivated_creator_is_gone(client, alice, make_creation):
    post = make_creation(owner=alice, status="published")
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert client.get(f"/p/{post.id}").status_code == 404


def test_editing_a_caption_with_htmx_swaps_the_post_in_place(alice_client, alice, make_creation):
    post = make_creation(owner=alice, status="published", caption="teh fox")

    response = alice_client.post(
        f"/creations/{post.id}/caption", {"caption": "  the fox  "}, headers=post_target(post)
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith(f'<article id="post-{post.id}"')
    assert '<p class="post__caption">the fox</p>' in html
    assert "data-autofocus" in html
    assert '<div hx-swap-oob="innerHTML:#announcer">Caption saved.</div>' in html
    post.refresh_from_db()
    assert (post.caption, post.status) == ("the fox", "published")


def test_editing_a_caption_without_javascript_returns_to_where_it_was_sent_from(
    alice_client, alice, make_creation
):
    post = make_creation(owner=alice, status="published", caption="old")

    from_page = alice_client.post(
        f"/creations/{post.id}/caption", {"caption": "new", "back": "post"}, follow=True
    )
    from_tab = alice_client.post(f"/creations/{post.id}/caption", {"caption": "newer"}, follow=True)

    assert from_page.redirect_chain == [(f"/p/{post.id}", 302)]
    assert "Caption saved." in from_page.content.decode()
    assert from_tab.redirect_chain == [("/soho/alice", 302)]
    assert Creation.objects.get(pk=post.pk).caption == "newer"


def test_a_caption_too_long_is_refused_on_the_open_form_and_kept(
    alice_client, alice, make_creation
):
    post = make_creation(owner=alice, status="published", caption="short")

    response = alice_client.post(
        f"/creations/{post.id}/caption", {"caption": "y" * 2201}, headers=post_target(post)
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert "The caption is 2201 characters; the limit is 2200." in html
    assert '<details class="caption-edit" open>' in html
    assert "y" * 2201 in html
    assert Creation.objects.get(pk=post.pk).caption == "short"


def test_a_caption_posted_without_javascript_counts_each_crlf_line_break_once(
    alice_client, alice, make_creation
):
    post = make_creation(owner=alice, status="published", caption="short")
    # 2,200 characters as the page counts them (the form sends CRLF for each break).
    caption = "\n".join(["z" * 199] * 11) + "z"
    assert len(caption) == 2200

    response = alice_client.post(
        f"/creations/{post.id}/caption", {"caption": caption.replace("\n", "\r\n")}
    )

    assert response.status_code == 302
    assert Creation.objects.get(pk=post.pk).caption == caption


@pytest.mark.parametrize("state", ["draft", "taken_down", "trashed-published"])
def test_only_a_post_or_a_scheduled_one_has_its_caption_edited(
    alice_client, alice, make_creation, state
):
    creation = in_state(make_creation, owner=alice, state=state, caption="as it was")
    before = creation.caption

    response = alice_client.post(
        f"/creations/{creation.id}/caption", {"caption": "changed"}, headers=HTMX
    )

    assert response.status_code == 409
    assert "Only the caption of a published or scheduled post can be edited." in (
        response.content.decode()
    )
    assert Creation.objects.get(pk=creation.pk).caption == before


def test_the_caption_of_a_scheduled_post_can_be_edited_before_it_goes_out(
    alice_client, alice, make_creation
):
    scheduled = in_state(make_creation, owner=alice, state="scheduled")

    response = alice_client.post(f"/creations/{scheduled.id}/caption", {"caption": "sooner"})

    assert response.status_code == 302
    assert Creation.objects.get(pk=scheduled.pk).caption == "sooner"


def test_unpublishing_from_the_posts_tab_sends_it_back_to_the_drafts(
    alice_client, alice, make_creation
):
    post = make_creation(owner=alice, status="published", caption="second thoughts")

    response = alice_client.post(f"/creations/{post.id}/unpublish", headers=post_target(post))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'<article id="post-{post.id}"' not in html  # it leaves the Posts tab
    assert "Unpublished. It is back in your drafts." in html
    assert 'href="/soho/alice?tab=drafts">Open your drafts</a>' in html
    post.refresh_from_db()
    assert (post.status, post.published_at, post.caption) == ("draft", None, "second thoughts")
    assert "second thoughts" not in Client().get("/").content.decode()
    assert f'id="creation-{post.id}"' in alice_client.get("/soho/alice?tab=drafts").content.decode()


def test_unpublishing_without_javascript_lands_on_the_drafts(alice_client, alice, make_creation):
    post = make_creation(owner=alice, status="published")

    response = alice_client.post(f"/creations/{post.id}/unpublish", {"back": "post"}, follow=True)

    assert response.redirect_chain == [("/soho/alice?tab=drafts", 302)]
    assert "Unpublished. It is back in your drafts." in response.content.decode()


@pytest.mark.parametrize("state", ["draft", "scheduled", "taken_down", "trashed-published"])
def test_only_a_published_post_can_be_unpublished(alice_client, alice, make_creation, state):
    creation = in_state(make_creation, owner=alice, state=state)

    response = alice_client.post(
        f"/creations/{creation.id}/unpublish", headers=post_target(creation)
    )

    assert response.status_code == 409
    assert "Only a published post can be unpublished." in response.content.decode()
    assert Creation.objects.get(pk=creation.pk).status == state.removeprefix("trashed-")


def test_deleting_a_post_from_its_page_lands_on_the_posts_with_undo(
    alice_client, alice, make_creation
):
    post = make_creation(owner=alice, status="published")

    response = alice_client.post(f"/creations/{post.id}/delete", {"back": "post"}, follow=True)

    assert response.redirect_chain == [("/soho/alice", 302)]
    html = response.content.decode()
    assert "Moved to the trash." in html
    assert f'action="/creations/{post.id}/restore"' in html
    assert '<input type="hidden" name="back" value="posts">' in html
    assert alice_client.get(f"/p/{post.id}").status_code == 404
