"""Reads of moderation: what someone may report, the staff queue and appeals, and what the
person a decision concerns (and a reporter) may read of it.

Who sees whom: staff see the reporters of a case. The author of a reported item never
does: their decision page and its notification name the decision, the item and the reason
only; a reporter's notification names the item's outcome, never its author's account.
"""

from dataclasses import dataclass
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Min, Prefetch, QuerySet

from community.models import PostComment
from creations.models import Creation
from creations.presenters import media_url
from sharing.models import Comment
from sharing.selectors import can_view

from .models import Action, Appeal, Case, CaseNote, Report, Target

MODERATE_PERMISSION = "moderation.moderate"
QUEUE_SIZE = 50
LOG_SIZE = 20


def _uuid(value) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def is_moderator(user: AbstractBaseUser) -> bool:
    return user.is_authenticated and user.is_staff and user.has_perm(MODERATE_PERMISSION)


Item = Creation | Comment | PostComment


def comment_target(comment_id) -> str:
    """Which kind of comment an id names (POST /api/comments/<id>/reports and the report
    page take either kind). Both tables make their ids with uuid4, so two rows sharing one
    is a 2^-122 chance; should it ever happen (rows written by hand), the rule is fixed and
    the same for everyone: a shared-draft comment with the id, in whatever state and
    whoever asks, is the one it names; otherwise the post comment with it."""
    pk = _uuid(comment_id)
    if pk is not None and Comment.objects.filter(pk=pk).exists():
        return Target.COMMENT
    return Target.POST_COMMENT


def reportable_item(*, user: AbstractBaseUser, target: str, item_id) -> Item | None:
    """The post or comment `user` may report: one they can see now and did not write. None
    for anything else (unknown, not visible to them, their own) — all answered alike.
    `target` is the kind of item; for a comment of either kind, ask comment_target first."""
    pk = _uuid(item_id)
    if pk is None or not user.is_authenticated:
        return None
    if target == Target.POST:
        post = Creation.objects.public().filter(pk=pk).exclude(owner=user).first()
        return post
    if target == Target.COMMENT:
        comment = (
            Comment.objects.select_related("creation__owner")
            .filter(pk=pk, deleted_at__isnull=True, closed_at__isnull=True)
            .exclude(author=user)
            .first()
        )
        if comment is None or not can_view(creation=comment.creation, user=user):
            return None
        return comment
    if target == Target.POST_COMMENT:
        # As the post's thread shows it: not deleted, its author active, the post public.
        post_comment = (
            PostComment.objects.select_related("post__owner", "author")
            .filter(pk=pk, deleted_at__isnull=True, author__is_active=True)
            .exclude(author=user)
            .first()
        )
        if post_comment is None or not post_comment.post.is_public:
            return None
        return post_comment
    return None


# ---------------------------------------------------------------------------------------
# Staff.


def queue(*, assignee: AbstractBaseUser | None = None) -> list[Case]:
    """Open cases, most-reported first, then the oldest first (by their first report); each
    with its reports (and reporters), notes and item. A fixed number of queries whatever the
    queue's length."""
    cases = (
        Case.objects.filter(status=Case.Status.OPEN)
        .annotate(report_count=Count("reports"), first_reported_at=Min("reports__created_at"))
        .select_related(
            "post__owner",
            "comment__author",
            "comment__creation",
            "post_comment__author",
            "post_comment__post__owner",
            "assignee",
        )
        .prefetch_related(
            Prefetch("reports", queryset=Report.objects.select_related("reporter")),
            Prefetch("notes", queryset=CaseNote.objects.select_related("author")),
        )
        .order_by("-report_count", "first_reported_at", "pk")
    )
    if assignee is not None:
        cases = cases.filter(assignee=assignee)
    cases = list(cases[:QUEUE_SIZE])
    for case in cases:
        if case.post is not None:
            case.post.media_src = media_url(case.post, "media")
            case.post.poster_src = media_url(case.post, "poster")
        categories: dict[str, int] = {}
        for report in case.reports.all():
            label = report.get_category_display()
            categories[label] = categories.get(label, 0) + 1
        case.categories = sorted(categories.items(), key=lambda pair: (-pair[1], pair[0]))
    return cases


def open_case_count() -> int:
    return Case.objects.filter(status=Case.Status.OPEN).count()


def recent_actions(limit: int = LOG_SIZE) -> list[Action]:
    """The action log, newest first: who, when, what, why."""
    return list(
        Action.objects.select_related(
            "actor", "subject", "post", "comment", "post_comment"
        ).order_by("-created_at")[:limit]
    )


def open_appeals() -> list[Appeal]:
    return list(
        Appeal.objects.filter(status=Appeal.Status.OPEN)
        .select_related(
            "action__actor",
            "action__subject",
            "action__post",
            "action__comment__creation",
            "action__post_comment__post",
        )
        .order_by("created_at", "pk")
    )


def recently_decided_appeals(limit: int = LOG_SIZE) -> list[Appeal]:
    return list(
        Appeal.objects.exclude(status=Appeal.Status.OPEN)
        .select_related("action__actor", "action__subject", "decided_by")
        .order_by("-decided_at")[:limit]
    )


# ---------------------------------------------------------------------------------------
# The person a decision concerns.


def suspension_of(user: AbstractBaseUser) -> Action | None:
    """The suspension that keeps `user` out, the newest: an inactive account with a
    suspension not reversed. None for anyone else (active, or made inactive some other
    way: deleted, or by staff in the admin)."""
    if user.is_active or user.pk is None:
        return None
    return (
        Action.objects.filter(subject=user, kind=Action.Kind.SUSPEND, reversed_at__isnull=True)
        .order_by("-created_at")
        .first()
    )


def action_of_subject(*, user: AbstractBaseUser, action_id) -> Action | None:
    """A decision about `user`, or None (someone else's answers as an unknown one)."""
    pk = _uuid(action_id)
    if pk is None or not user.is_authenticated:
        return None
    return (
        Action.objects.select_related("post", "comment__creation", "post_comment__post", "appeal")
        .filter(pk=pk, subject=user)
        .first()
    )


@dataclass(frozen=True)
class Decision:
    """What the subject reads of a decision: no reporter, no staff name."""

    action: Action
    appeal: Appeal | None


def decision_for_subject(*, user: AbstractBaseUser, action_id) -> Decision | None:
    action = action_of_subject(user=user, action_id=action_id)
    if action is None:
        return None
    if action.post is not None:
        action.post.media_src = media_url(action.post, "media")
        action.post.poster_src = media_url(action.post, "poster")
    return Decision(action=action, appeal=getattr(action, "appeal", None))


def decisions_by_id(ids) -> dict[str, Action]:
    ids = [pk for pk in map(_uuid, ids) if pk]
    return {
        str(action.pk): action
        for action in Action.objects.filter(pk__in=ids).select_related("appeal")
    }


def reports_by_id(ids) -> dict[str, Report]:
    """Reports with the decision that closed their case (the latest action of the case)."""
    ids = [pk for pk in map(_uuid, ids) if pk]
    reports = {str(r.pk): r for r in Report.objects.filter(pk__in=ids)}
    case_ids = {r.case_id for r in reports.values()}
    decided: dict = {}
    for action in Action.objects.filter(case_id__in=case_ids).order_by("created_at"):
        decided[action.case_id] = action
    for report in reports.values():
        report.decision = decided.get(report.case_id)
    return reports


def appeals_by_id(ids) -> dict[str, Appeal]:
    ids = [pk for pk in map(_uuid, ids) if pk]
    return {
        str(appeal.pk): appeal
        for appeal in Appeal.objects.filter(pk__in=ids).select_related("action")
    }


def reports_filed_by(user: AbstractBaseUser) -> QuerySet[Report]:
    return Report.objects.filter(reporter=user)
