"""RQ entry points of the community: thin wrappers around services and the recount."""

from django.db import close_old_connections

from community import recount, services


def notify_post_comment(comment_id: str) -> bool:
    """Queued on "light" after a comment's COMMIT: its post's owner is told."""
    close_old_connections()
    try:
        return services.notify_post_comment(comment_id=comment_id)
    finally:
        close_old_connections()


def recount_community() -> dict[str, int]:
    """Run by rqcron every PHOENIX_COMMUNITY_RECOUNT_INTERVAL (on `housekeeping`): every
    post's and creator's figures from the rows, corrected where they drifted."""
    close_old_connections()
    try:
        return recount.recount_all()
    finally:
        close_old_connections()


def recount_member(user_id: int) -> dict[str, int]:
    """Queued when an account is deleted: its likes, comments and follows leave the
    figures."""
    close_old_connections()
    try:
        return recount.member_recount(user_id)
    finally:
        close_old_connections()
