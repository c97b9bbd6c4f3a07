"""Edges of the lifecycle found in review: times out of the calendar's range, a caption
kept across unpublish and publish, the owner's posts in publishing order, and media that
no shared cache may keep once it stops being public."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.http import http_date

from creations import services
from creations.models import Creation


@pytest.mark.parametrize(
    "publish_at", ["0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00", "0001-01-01T00:30+00:45"]
)
def test_a_publish_at_beyond_the_calendar_is_a_400_and_changes_nothing(
    alice_client, alice, make_creation, publish_at
):
    draft = make_creation(owner=alice, status="draft")
    response = alice_client.post(
        f"/api/creations/{draft.id}/publish",
        json.dumps({"publish_at": publish_at}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_publish_at"
    assert Creation.objects.get(pk=draft.pk).status == "draft"


def test_the_publish_form_refuses_a_time_beyond_the_calendar_with_a_400(
    alice_client, alice, make_creation
):
    draft = make_creation(owner=alice, status="draft")
    response = alice_client.post(
        f"/creations/{draft.id}/publish",
        {"caption": "", "publish_at": "0001-01-01T00:00", "publish_at_offset": "+01:00"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert Creation.objects.get(pk=draft.pk).status == "draft"


def test_an_unpublished_post_keeps_its_caption_when_published_again(
    alice_client, alice, make_creation
):
    post = make_creation(owner=alice, status="published", caption="Dawn over the ghats")
    services.creation_unpublish(creation=post)

    # The draft card's publish form starts with the caption it kept.
    page = alice_client.get(f"/soho/{alice.username}?tab=drafts").content.decode()
    assert ">Dawn over the ghats</textarea>" in page

    # The API without a caption, and a bulk publish with an empty one, keep it too.
    response = alice_client.post(
        f"/api/creations/{post.id}/publish", "{}", content_type="application/json"
    )
    assert response.json()["caption"] == "Dawn over the ghats"
    services.creation_unpublish(creation=Creation.objects.get(pk=post.pk))
    results = services.creations_bulk(owner=alice, action="publish", ids=[post.pk], caption="")
    assert results == {str(post.pk): "ok"}
    assert Creation.objects.get(pk=post.pk).caption == "Dawn over the ghats"


def test_the_owners_posts_tab_lists_the_latest_published_first(alice_client, alice, make_creation):
    older = make_creation(owner=alice, status="draft", prompt="made first, published last")
    Creation.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=5))
    newer = make_creation(owner=alice, status="published", prompt="made last, published first")
    services.creation_publish(creation=Creation.objects.get(pk=older.pk), caption="")

    for who in (alice_client, None):
        if who is None:
            alice_client.logout()
            who = alice_client
        page = who.get(f"/soho/{alice.username}").content.decode()
        assert page.index("made first, published last") < page.index(
            "made last, published first"
        ), "the post published last comes first"
    assert newer.status == "published"


def test_public_media_is_revalidated_every_time_and_gone_once_taken_down(
    client, alice, make_creation
):
    post = make_creation(owner=alice, status="published")
    url = f"/media/creations/{post.id}/media"
    first = client.get(url)
    assert first.status_code == 200
    # No shared cache may serve it without asking: a take-down must reach everyone at once.
    assert "no-cache" in first["Cache-Control"] and "max-age" not in first["Cache-Control"]

    unchanged = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert unchanged.status_code == 304

    services.creation_take_down(creation=post, staff=None, reason="Reported and removed.")
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 404
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("undo", ["unpublish", "trash", "take_down"])
def test_with_a_max_age_set_a_post_is_cached_that_long_and_refused_at_once_after(
    client, alice, make_creation, settings, undo
):
    settings.PHOENIX_PUBLIC_MEDIA_MAX_AGE = 30
    post = make_creation(owner=alice, status="published")
    url = f"/media/creations/{post.id}/media"
    first = client.get(url)
    # Any cache may keep it for the stated bound, and no longer.
    assert first["Cache-Control"] == "public, max-age=30"

    if undo == "unpublish":
        services.creation_unpublish(creation=post)
    elif undo == "trash":
        services.creation_trash(creation=post)
    else:
        services.creation_take_down(creation=post, staff=None, reason="Reported.")

    # The origin refuses at once, a revalidation included; only a cache's copy lives on,
    # for at most those 30 seconds.
    assert client.get(url).status_code == 404
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 404
    alice_client = client
    alice_client.force_login(alice)
    if undo != "take_down":
        # Its owner still sees it, as a draft (or in the trash): never stored by a cache.
        assert alice_client.get(url)["Cache-Control"] == "private, no-store"


def test_a_modified_file_is_sent_again(client, alice, make_creation):
    post = make_creation(owner=alice, status="published")
    long_ago = http_date((timezone.now() - timedelta(days=1)).timestamp())
    response = client.get(f"/media/creations/{post.id}/media", HTTP_IF_MODIFIED_SINCE=long_ago)
    assert response.status_code == 200
