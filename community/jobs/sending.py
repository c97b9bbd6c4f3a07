"""Every job the community sends to RQ is sent here, named by its dotted path (this module,
below the services, never imports the job bodies)."""

import logging

from redis.exceptions import RedisError

from phoenix import redis_clients

log = logging.getLogger(__name__)

NOTIFY_POST_COMMENT = "community.jobs.entrypoints.notify_post_comment"
RECOUNT_MEMBER = "community.jobs.entrypoints.recount_member"


def notify_comment_enqueue(comment_id) -> bool:
    """After a comment's COMMIT: tell the post's owner from a job on `light`. False when
    Redis refused it (the caller writes the notification itself: one INSERT)."""
    try:
        redis_clients.get_queue("light").enqueue(
            NOTIFY_POST_COMMENT,
            str(comment_id),
            job_id=f"post-comment-{comment_id}",
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"tell the owner of a post about comment {comment_id}",
        )
    except RedisError:
        log.warning("Could not queue the notification of comment %s", comment_id)
        return False
    return True


def member_recount_enqueue(user_id: int) -> None:
    """After an account's deactivation (or reactivation) commits: what it touched is
    recounted from the rows, for a like that raced the change (a job: an active member may
    have liked thousands of posts). With Redis down the periodic recount does it."""
    try:
        redis_clients.get_queue("housekeeping").enqueue(
            RECOUNT_MEMBER,
            user_id,
            job_id=f"community-recount-member-{user_id}",
            job_timeout=1800,
            description=f"community figures without account {user_id}",
        )
    except RedisError:
        log.warning("Could not queue the community recount of account %s", user_id)
