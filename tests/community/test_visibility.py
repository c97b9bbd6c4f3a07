"""A post that stops being public (unpublished, trashed, taken down, its creator
deactivated) leaves every list, count and search in the same transaction."""

import pytest

from community import services
from creations import services as creation_services
from profiles.services import creator_signup

from .conftest import client_for


def ids(response) -> list[str]:
    return [post["id"] for post in response.json()["results"]]


def everywhere(post) -> dict[str, bool]:
    anyone = client_for()
    profile = anyone.get("/soho/alice").content.decode()
    return {
        "explore": str(post.id) in ids(anyone.get("/api/explore")),
        "search": str(post.id) in ids(anyone.get("/api/posts", {"q": "lighthouse"})),
        "fragment": str(post.id) in ids(anyone.get("/api/posts", {"q": "ighthou"})),
        "feed": str(post.id) in ids(anyone.get("/api/posts")),
        "post": anyone.get(f"/api/posts/{post.id}").status_code == 200,
        "profile_count": "<strong>1</strong> post" in profile,
        "feed_page": f'id="post-{post.id}"' in anyone.get("/").content.decode(),
        "explore_page": f'id="post-{post.id}"' in anyone.get("/explore").content.decode(),
    }


SHOWN = dict.fromkeys(
    ["explore", "search", "fragment", "feed", "post", "profile_count", "feed_page", "explore_page"],
    True,
)
GONE = dict.fromkeys(SHOWN, False)


@pytest.mark.parametrize("leave", ["unpublish", "trash", "take_down", "deactivate"])
def test_a_post_that_stops_being_public_leaves_every_list_count_and_search(post, bob, leave):
    services.post_like(user=bob, post_id=post.id)
    assert everywhere(post) == SHOWN

    if leave == "unpublish":
        creation_services.creation_unpublish(creation=post)
    elif leave == "trash":
        creation_services.creation_trash(creation=post)
    elif leave == "take_down":
        creation_services.creation_take_down(creation=post, staff=None, reason="Rules.")
    else:
        post.owner.is_active = False
        post.owner.save(update_fields=["is_active"])

    assert everywhere(post) == GONE
    assert client_for(bob).post(f"/api/posts/{post.id}/like").status_code == 404
    assert client_for(bob).get(f"/api/posts/{post.id}/comments").status_code == 404


def test_published_again_it_comes_back_with_its_likes_and_no_lift(post, bob, alice):
    services.post_like(user=bob, post_id=post.id)
    post.refresh_from_db()
    score = post.explore_score
    creation_services.creation_unpublish(creation=post)
    creation_services.creation_publish(creation=post)
    post.refresh_from_db()
    assert post.explore_score == score
    assert client_for().get(f"/api/posts/{post.id}").json()["like_count"] == 1


def test_search_finds_whole_words_and_parts_of_words_in_captions_and_prompts(alice, make_creation):
    fox = make_creation(owner=alice, status="published", prompt="a red fox", caption="Snowy")
    owl = make_creation(owner=alice, status="published", prompt="an owl", caption="Night hunter")
    draft = make_creation(owner=alice, status="draft", prompt="a red fox draft")
    anyone = client_for()
    assert ids(anyone.get("/api/posts", {"q": "fox"})) == [str(fox.id)]
    assert ids(anyone.get("/api/posts", {"q": "hunt"})) == [str(owl.id)]
    assert ids(anyone.get("/api/posts", {"q": "snowy OR owl"})) == [str(owl.id), str(fox.id)]
    assert str(draft.id) not in ids(anyone.get("/api/posts", {"q": "draft"}))
    # Junk is a search like any other, never an error.
    for junk in ['"', "-", "a\x00b", "&|!", "x" * 500]:
        assert anyone.get("/api/posts", {"q": junk}).status_code == 200


def test_the_feed_page_searches(alice, make_creation):
    fox = make_creation(owner=alice, status="published", prompt="a red fox")
    owl = make_creation(owner=alice, status="published", prompt="an owl")
    page = client_for().get("/", {"q": "fox"}, headers={"HX-Request": "true"}).content.decode()
    assert f'id="post-{fox.id}"' in page and f'id="post-{owl.id}"' not in page
    assert 'id="feed-list"' in page


def test_a_deactivated_accounts_like_comment_and_follow_leave_the_counts(
    post, bob, alice, django_capture_on_commit_callbacks
):
    from accounts.services import account_delete
    from community import recount

    carol = creator_signup(username="carol", password="carol-password-123")
    services.post_like(user=bob, post_id=post.id)
    services.post_like(user=carol, post_id=post.id)
    services.comment_post(author=bob, post_id=post.id, text="Lovely")
    services.creator_follow(follower=bob, username="alice")
    services.creator_follow(follower=carol, username="alice")
    before = client_for().get(f"/api/posts/{post.id}").json()
    assert (before["like_count"], before["comment_count"]) == (2, 1)

    with django_capture_on_commit_callbacks(execute=False):
        account_delete(user=bob)
    recount.member_recount(bob.pk)  # what the job queued after COMMIT does

    after = client_for().get(f"/api/posts/{post.id}").json()
    assert (after["like_count"], after["comment_count"]) == (1, 0)
    assert client_for().get(f"/api/posts/{post.id}/comments").json()["results"] == []
    assert (
        "<strong data-followers>1</strong> follower"
        in client_for().get("/soho/alice").content.decode()
    )


def test_a_scheduled_post_is_ranked_in_the_transaction_that_publishes_it(alice, make_creation):
    from datetime import timedelta

    from django.utils import timezone

    scheduled = make_creation(owner=alice, status="scheduled")
    assert str(scheduled.id) not in ids(client_for().get("/api/explore"))
    moment = timezone.now() + timedelta(days=2)
    assert creation_services.creation_publish_due(creation_id=scheduled.id, now=moment)
    scheduled.refresh_from_db()
    assert scheduled.explore_score is not None
    assert ids(client_for().get("/api/explore"))[0] == str(scheduled.id)
