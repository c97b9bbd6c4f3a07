"""Writes of moderation: file a report, assign and annotate a case, decide it (dismiss, take
down, remove the comment, warn, suspend), appeal a decision, decide the appeal.

Refusals are `ModerationRefused` (a code and a sentence; no HTTP here): the API and the pages
map the codes to statuses in one table (moderation.refusals). Every decision writes its row
in the action log in the same transaction as the change it records, and the people it
concerns are told after COMMIT (notifications: the bell, and the e-mail by an RQ job).
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from community import membership
from community import services as community
from creations import services as creations
from phoenix import ratelimit
from sharing import services as sharing

from . import notices, selectors
from .models import (
    APPEAL_MAX,
    COMMENT_TARGETS,
    NOTE_MAX,
    REASON_MAX,
    TARGET_FIELDS,
    Action,
    Appeal,
    Case,
    CaseNote,
    Report,
    Target,
)

log = logging.getLogger(__name__)

REPORT_RATE_SCOPE = "report"
REPORT_RATE_WINDOW = 3600


class ModerationRefused(Exception):
    def __init__(self, code: str, message: str, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


class NotFound(ModerationRefused):
    """Unknown, or not one the caller may see: both answer alike."""

    def __init__(self, message: str = "No such item."):
        super().__init__("not_found", message)


def clean_text(value, *, field: str, limit: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ModerationRefused(f"invalid_{field}", f"The {field} must be text.", field=field)
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in value:
        raise ModerationRefused(
            f"invalid_{field}", f"The {field} contains a null character.", field=field
        )
    if required and not value:
        raise ModerationRefused(f"{field}_required", f"Write the {field} first.", field=field)
    if len(value) > limit:
        raise ModerationRefused(
            f"{field}_too_long",
            f"The {field} is {len(value)} characters; the limit is {limit}.",
            field=field,
        )
    return value


# ---------------------------------------------------------------------------------------
# Reports.


def _take_report_allowance(user: AbstractBaseUser) -> None:
    limit = settings.PHOENIX_REPORTS_PER_HOUR
    if not limit:
        return
    subject = str(user.pk)
    if ratelimit.take(REPORT_RATE_SCOPE, subject, window=REPORT_RATE_WINDOW) > limit:
        ratelimit.give_back(REPORT_RATE_SCOPE, subject, window=REPORT_RATE_WINDOW)
        wait = ratelimit.seconds_left(REPORT_RATE_WINDOW)
        raise ModerationRefused(
            "too_many_reports",
            f"You can file {limit} reports an hour. Try again in {-(-wait // 60)} minutes.",
            retry_after=wait,
        )


def _give_back_report_allowance(user: AbstractBaseUser) -> None:
    if settings.PHOENIX_REPORTS_PER_HOUR:
        ratelimit.give_back(REPORT_RATE_SCOPE, str(user.pk), window=REPORT_RATE_WINDOW)


def parse_category(value) -> str:
    if not isinstance(value, str) or value not in Report.Category.values:
        raise ModerationRefused(
            "invalid_category",
            f"The category must be one of: {', '.join(Report.Category.values)}.",
            field="category",
        )
    return value


def report_file(*, reporter: AbstractBaseUser, target: str, item_id, category, note) -> Report:
    """A report of a post or a comment the reporter may see and did not write. Counted
    against the hourly allowance before the work; a refused report is given back. A second
    open report of the same item by the same person is refused (`already_reported`), by the
    database's partial unique index should two arrive at once."""
    _take_report_allowance(reporter)
    try:
        category = parse_category(category)
        note = clean_text(note, field="note", limit=NOTE_MAX, required=False)
        with transaction.atomic():
            item = selectors.reportable_item(user=reporter, target=target, item_id=item_id)
            if item is None:
                raise NotFound()
            column = TARGET_FIELDS[target]
            if Report.objects.filter(
                reporter=reporter, status=Report.Status.OPEN, **{column: item}
            ).exists():
                raise _already_reported(target)
            case = _open_case(target=target, item=item)
            try:
                with transaction.atomic():
                    report = Report.objects.create(
                        case=case,
                        reporter=reporter,
                        target=target,
                        category=category,
                        note=note,
                        **{column: item},
                    )
            except IntegrityError:  # the same person's second report, at the same moment
                raise _already_reported(target) from None
    except ModerationRefused:
        _give_back_report_allowance(reporter)
        raise
    return report


def _already_reported(target: str) -> ModerationRefused:
    noun = "post" if target == Target.POST else "comment"
    return ModerationRefused(
        "already_reported",
        f"You have already reported this {noun}; our moderators will look at it.",
    )


def _open_case(*, target: str, item) -> Case:
    """The item's open case, made if there is none (two first reports at once: the partial
    unique index lets one make it, the other takes it)."""
    column = TARGET_FIELDS[target]
    case = Case.objects.filter(status=Case.Status.OPEN, **{column: item}).first()
    if case is not None:
        return case
    try:
        with transaction.atomic():
            return Case.objects.create(target=target, **{column: item})
    except IntegrityError:
        return Case.objects.get(status=Case.Status.OPEN, **{column: item})


# ---------------------------------------------------------------------------------------
# The queue: assign, notes.


def _locked_open_case(case_id) -> Case:
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related(
            "post__owner",
            "comment__author",
            "comment__creation",
            "post_comment__author",
            "post_comment__post",
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound("No such case.")
    if not case.is_open:
        raise ModerationRefused("case_closed", "This case was already decided.")
    return case


def case_assign(*, case_id, staff: AbstractBaseUser) -> Case:
    with transaction.atomic():
        case = _locked_open_case(case_id)
        case.assignee = staff
        case.save(update_fields=["assignee"])
    return case


def case_unassign(*, case_id, staff: AbstractBaseUser) -> Case:
    with transaction.atomic():
        case = _locked_open_case(case_id)
        case.assignee = None
        case.save(update_fields=["assignee"])
    return case


def case_note_add(*, case_id, staff: AbstractBaseUser, text) -> CaseNote:
    text = clean_text(text, field="note", limit=NOTE_MAX, required=True)
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise NotFound("No such case.")
    return CaseNote.objects.create(case=case, author=staff, text=text)


# ---------------------------------------------------------------------------------------
# Decisions.

ANY_ITEM = (Target.POST, *COMMENT_TARGETS)
DECISIONS = {
    Action.Kind.DISMISS: ANY_ITEM,
    Action.Kind.TAKE_DOWN: (Target.POST,),
    Action.Kind.REMOVE_COMMENT: COMMENT_TARGETS,
    Action.Kind.WARN: ANY_ITEM,
    Action.Kind.SUSPEND: ANY_ITEM,
}


def _author_of(case: Case) -> AbstractBaseUser:
    return case.post.owner if case.target == Target.POST else case.item.author


def case_decide(*, case_id, staff: AbstractBaseUser, kind: str, reason) -> Action:
    """Decide an open case: the change itself (through the creations and sharing services,
    so a take-down goes through the state table), its row in the action log, the case and
    every report in it closed — one transaction. Then, after COMMIT, the item's author is
    told the decision and the reason (not for a dismissal), and each reporter the outcome."""
    if kind not in DECISIONS:
        raise ModerationRefused(
            "unknown_action", f"The action must be one of: {', '.join(DECISIONS)}."
        )
    reason = clean_text(reason, field="reason", limit=REASON_MAX, required=True)
    with transaction.atomic(durable=True):
        case = _locked_open_case(case_id)
        if case.target not in DECISIONS[kind]:
            raise ModerationRefused(
                "not_applicable",
                f"“{Action.Kind(kind).label}” does not apply to a {case.item_noun}.",
            )
        author = _author_of(case)
        _carry_out(case=case, staff=staff, kind=kind, reason=reason, author=author)
        now = timezone.now()
        action = Action.objects.create(
            kind=kind,
            case=case,
            actor=staff,
            subject=None if kind == Action.Kind.DISMISS else author,
            reason=reason,
            target=case.target,
            post=case.post,
            comment=case.comment,
            post_comment=case.post_comment,
            created_at=now,
        )
        Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED, closed_at=now)
        reports = list(case.reports.filter(status=Report.Status.OPEN))
        Report.objects.filter(pk__in=[r.pk for r in reports]).update(
            status=Report.Status.CLOSED, closed_at=now
        )
        notices.tell_decision(action=action, reports=reports)
    return action


def _carry_out(*, case: Case, staff, kind: str, reason: str, author) -> None:
    if kind == Action.Kind.TAKE_DOWN:
        try:
            creations.creation_take_down(creation=case.post, staff=staff, reason=reason)
        except creations.ActionRefused as refusal:
            raise ModerationRefused(refusal.code, refusal.message) from None
    elif kind == Action.Kind.REMOVE_COMMENT:
        if case.target == Target.POST_COMMENT:
            removed = community.comment_remove_by_staff(comment=case.post_comment)
        else:
            removed = sharing.comment_remove_by_staff(comment=case.comment, staff=staff)
        if not removed:
            raise ModerationRefused("already_removed", "This comment was already removed.")
    elif kind == Action.Kind.SUSPEND:
        if author.is_staff:
            raise ModerationRefused("not_applicable", "A staff account is not suspended here.")
        # Inactive, the account's sessions end and its posts and media leave every public
        # page at once; its likes, comments and follows leave the public figures with it.
        membership.member_deactivate(user_id=author.pk)


# ---------------------------------------------------------------------------------------
# Appeals.


def appeal_file(*, user: AbstractBaseUser, action_id, text) -> Appeal:
    """The subject of a decision appeals it: within PHOENIX_APPEAL_DAYS, once (the
    appeal's primary key is the action's)."""
    action = selectors.action_of_subject(user=user, action_id=action_id)
    if action is None:
        raise NotFound("No such decision.")
    text = clean_text(text, field="text", limit=APPEAL_MAX, required=True)
    if hasattr(action, "appeal"):
        raise ModerationRefused("already_appealed", "You have already appealed this decision.")
    if not action.is_appealable:
        raise ModerationRefused("not_appealable", "This decision cannot be appealed.")
    if not action.may_be_appealed_at(timezone.now()):
        raise ModerationRefused(
            "appeal_too_late",
            f"Decisions can be appealed for {settings.PHOENIX_APPEAL_DAYS} days; "
            f"this one could be until {action.appeal_deadline:%-d %b %Y}.",
        )
    try:
        with transaction.atomic():
            return Appeal.objects.create(action=action, text=text)
    except IntegrityError:  # a second appeal at the same moment
        raise ModerationRefused(
            "already_appealed", "You have already appealed this decision."
        ) from None


@dataclass(frozen=True)
class AppealDecision:
    appeal: Appeal
    reinstated: bool  # a taken-down post published again
    reactivated: bool = False  # a suspended account active again


def appeal_decide(*, action_id, staff: AbstractBaseUser, reverse: bool, note) -> AppealDecision:
    """Another staff member (never the one who acted) upholds or reverses. Reversing undoes
    the decision through the same services: a taken-down post is published again as it was
    (the state table's taken_down → published), a removed comment cannot be written back
    (its words were erased) and stays removed with the decision marked reversed, a warning
    is withdrawn, a suspended account is active again (its likes, comments and follows
    counted again, in this transaction). The person who appealed is told either way."""
    note = clean_text(note, field="note", limit=REASON_MAX, required=reverse is False)
    with transaction.atomic(durable=True):
        appeal = (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("action__post", "action__subject")
            .filter(pk=action_id)
            .first()
        )
        if appeal is None:
            raise NotFound("No such appeal.")
        if not appeal.is_open:
            raise ModerationRefused("appeal_decided", "This appeal was already decided.")
        action = appeal.action
        if action.actor_id == staff.pk:
            raise ModerationRefused(
                "own_decision", "Another staff member decides an appeal against your decision."
            )
        reinstated = reactivated = False
        now = timezone.now()
        if reverse:
            if action.kind == Action.Kind.TAKE_DOWN:
                try:
                    creations.creation_reinstate(creation=action.post)
                except creations.ActionRefused as refusal:
                    raise ModerationRefused(refusal.code, refusal.message) from None
                reinstated = True
            elif action.kind == Action.Kind.SUSPEND:
                # Unless another suspension, not reversed, still stands.
                others = Action.objects.filter(
                    subject_id=action.subject_id,
                    kind=Action.Kind.SUSPEND,
                    reversed_at__isnull=True,
                ).exclude(pk=action.pk)
                if not others.exists():
                    reactivated = membership.member_reactivate(user_id=action.subject_id)
            Action.objects.filter(pk=action.pk).update(reversed_at=now)
            action.reversed_at = now
        appeal.status = Appeal.Status.REVERSED if reverse else Appeal.Status.UPHELD
        appeal.decided_at = now
        appeal.decided_by = staff
        appeal.decision_note = note
        appeal.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        notices.tell_appeal_decided(appeal=appeal)
    return AppealDecision(appeal=appeal, reinstated=reinstated, reactivated=reactivated)
