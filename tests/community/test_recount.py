"""The periodic recount corrects drift, and the score it rebuilds is the one the likes and
the publication wrote one by one."""

import pytest
from django.db import connection

from community import recount, services
from creations.models import Creation

from .conftest import make_people


def test_the_recount_rebuilds_what_the_writes_kept(post, alice):
    for person in make_people(5):
        services.post_like(user=person, post_id=post.id)
        services.comment_post(author=person, post_id=post.id, text="nice")
    post.refresh_from_db()
    kept = (post.like_count, post.comment_count, post.explore_score)

    assert recount.recount_all() == {"posts": 0, "creators": 0}

    post.refresh_from_db()
    assert (post.like_count, post.comment_count) == kept[:2]
    assert post.explore_score == pytest.approx(kept[2], abs=1e-9)


def test_the_recount_corrects_drift(post, bob, alice):
    services.post_like(user=bob, post_id=post.id)
    services.creator_follow(follower=bob, username="alice")
    post.refresh_from_db()
    right_score = post.explore_score
    Creation.objects.filter(pk=post.pk).update(like_count=7, comment_count=3, explore_score=None)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE community_creatorcounts SET followers = 9, following = 4")

    corrected = recount.recount_all()

    assert corrected["posts"] == 1 and corrected["creators"] >= 2
    post.refresh_from_db()
    assert (post.like_count, post.comment_count) == (1, 0)
    assert post.explore_score == pytest.approx(right_score, abs=1e-9)
    alice.community_counts.refresh_from_db()
    assert (alice.community_counts.followers, alice.community_counts.following) == (1, 0)


def test_a_reactivated_account_counts_again_after_the_recount(post, bob):
    services.post_like(user=bob, post_id=post.id)
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    recount.recount_all()
    post.refresh_from_db()
    assert post.like_count == 0
    bob.is_active = True
    bob.save(update_fields=["is_active"])
    recount.recount_all()
    post.refresh_from_db()
    assert post.like_count == 1


def test_the_recount_is_scheduled_on_housekeeping(db, settings):
    from tests.test_schedule import scheduled_jobs

    recount_job = scheduled_jobs()["community.jobs.entrypoints.recount_community"]
    assert recount_job.interval == settings.PHOENIX_COMMUNITY_RECOUNT_INTERVAL
    assert recount_job.queue_name == "housekeeping"
