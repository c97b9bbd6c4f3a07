"""An account that leaves (deleted, suspended, deactivated in the admin) takes its likes,
comments and follows out of the public figures in the same transaction — not at the next
recount — and an account that comes back brings them back."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from accounts.services import account_delete
from community import recount, services
from community.membership import member_deactivate, member_reactivate
from creations.models import Creation
from moderation import services as moderation
from profiles.services import creator_signup

from .conftest import client_for

User = get_user_model()


def figures(post) -> tuple:
    row = Creation.objects.get(pk=post.pk)
    return row.like_count, row.comment_count, row.explore_score


def public_figures(post) -> tuple:
    answer = client_for().get(f"/api/posts/{post.id}").json()
    return answer["like_count"], answer["comment_count"]


def followers_of(user) -> int:
    page = client_for().get(f"/soho/{user.username}").content.decode()
    return int(page.split("<strong data-followers>")[1].split("<")[0])


@pytest.fixture
def bob_was_active(post, bob, alice, carol):
    """bob and carol each liked alice's post; bob commented and follows alice."""
    services.post_like(user=carol, post_id=post.id)
    before_bob = figures(post)
    services.post_like(user=bob, post_id=post.id)
    services.comment_post(author=bob, post_id=post.id, text="Lovely")
    services.creator_follow(follower=bob, username="alice")
    services.creator_follow(follower=carol, username="alice")
    assert public_figures(post) == (2, 1) and followers_of(alice) == 2
    return before_bob


def assert_bob_left(post, alice, before_bob):
    likes, comments, score = figures(post)
    assert (likes, comments) == (1, 0)
    assert score == pytest.approx(before_bob[2], abs=1e-9)  # carol's like and the publication
    assert public_figures(post) == (1, 0)
    assert followers_of(alice) == 1
    # What the recount would write is what is there already: nothing to correct.
    assert recount.recount_all() == {"posts": 0, "creators": 0}


def test_a_deleted_accounts_likes_leave_the_counts_and_the_score_at_once(
    post, bob, alice, bob_was_active, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # no recount job runs
        account_delete(user=bob)

    assert_bob_left(post, alice, bob_was_active)


def test_a_suspended_accounts_likes_leave_the_counts_and_the_score_at_once(
    post, bob, alice, bob_was_active, make_creation, django_capture_on_commit_callbacks
):
    mona = User.objects.create_user(username="mona", password="mona-pass-123", is_staff=True)
    mona.user_permissions.add(Permission.objects.get(codename="moderate"))
    bobs_post = make_creation(owner=bob, status="published")
    report = moderation.report_file(
        reporter=alice, target="post", item_id=bobs_post.id, category="spam", note=""
    )
    with django_capture_on_commit_callbacks(execute=False):
        moderation.case_decide(case_id=report.case_id, staff=mona, kind="suspend", reason="Spam.")

    assert_bob_left(post, alice, bob_was_active)


def test_an_account_deactivated_in_the_admin_leaves_the_counts_and_comes_back(
    post, bob, alice, bob_was_active, django_capture_on_commit_callbacks
):
    admin = User.objects.create_superuser(username="root", password="root-pass-123")
    staff = client_for(admin)
    form = staff.get(f"/admin/auth/user/{bob.pk}/change/").context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        {
            "is_active": "",
            "date_joined_0": bob.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": bob.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    with django_capture_on_commit_callbacks(execute=False):
        response = staff.post(f"/admin/auth/user/{bob.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    bob.refresh_from_db()
    assert not bob.is_active
    assert_bob_left(post, alice, bob_was_active)

    data["is_active"] = "on"
    with django_capture_on_commit_callbacks(execute=False):
        staff.post(f"/admin/auth/user/{bob.pk}/change/", data)

    bob.refresh_from_db()
    assert bob.is_active
    assert public_figures(post) == (2, 1) and followers_of(alice) == 2
    assert recount.recount_all() == {"posts": 0, "creators": 0}


def test_leaving_twice_takes_the_figures_out_once(post, bob, alice, bob_was_active):
    assert member_deactivate(user_id=bob.pk) is True
    assert member_deactivate(user_id=bob.pk) is False
    assert_bob_left(post, alice, bob_was_active)
    assert member_reactivate(user_id=bob.pk) is True
    assert member_reactivate(user_id=bob.pk) is False
    assert public_figures(post) == (2, 1)
    assert recount.recount_all() == {"posts": 0, "creators": 0}


def test_who_an_account_followed_and_who_followed_it_both_move(alice, bob, carol):
    services.creator_follow(follower=bob, username="alice")
    services.creator_follow(follower=alice, username="bob")
    services.creator_follow(follower=carol, username="bob")
    member_deactivate(user_id=bob.pk)
    alice.community_counts.refresh_from_db()
    carol_counts = User.objects.get(pk=carol.pk).community_counts
    assert (alice.community_counts.followers, alice.community_counts.following) == (0, 0)
    assert (carol_counts.followers, carol_counts.following) == (0, 0)
    assert recount.recount_all()["creators"] == 0


def test_many_likes_leave_in_one_go(alice, make_creation):
    fan = creator_signup(username="fan", password="fan-password-123")
    posts = [make_creation(owner=alice, status="published") for _ in range(12)]
    for post in posts:
        services.post_like(user=fan, post_id=post.id)
    member_deactivate(user_id=fan.pk)
    assert set(
        Creation.objects.filter(pk__in=[p.pk for p in posts]).values_list("like_count", flat=True)
    ) == {0}
    assert recount.recount_all()["posts"] == 0
