"""RQ entry points of the community: thin wrappers around services and the recount."""

from community import recount, services
from phoenix.jobs import job_entrypoint


@job_entrypoint
def notify_post_comment(comment_id: str) -> bool:
    """Queued on "light" after a comment's COMMIT: its post's owner is told."""
    return services.notify_post_comment(comment_id=comment_id)


@job_entrypoint
def recount_community() -> dict[str, int]:
    """Run by rqcron every PHOENIX_COMMUNITY_RECOUNT_INTERVAL (on `housekeeping`): every
    post's and creator's figures from the rows, corrected where they drifted."""
    return recount.recount_all()


@job_entrypoint
def recount_member(user_id: int) -> dict[str, int]:
    """Queued after an account leaves or comes back (community.membership moved the
    figures in its transaction): what it touched recounted from the rows, for a write that
    raced the change."""
    return recount.member_recount(user_id)
