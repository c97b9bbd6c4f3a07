"""Who is told what of a decision, through the notifications app: the bell, and the e-mail
its job sends after COMMIT.

- The author of a post taken down, a comment removed, a warning or a suspension: the
  decision and its reason (the statement of reasons), with the link to the decision's page,
  where they may appeal. Never who reported it.
- Each reporter: the outcome for the item they reported, never its author's account.
- Whoever appealed: the decision on their appeal.

The rows are written in the decision's own transaction (notification_create: once per
event and person); their words are built when read (`register_kinds`, from apps.py).
"""

from django.urls import reverse
from django.utils.text import Truncator

from notifications import registry
from notifications.models import Notification
from notifications.services import notification_create

from . import selectors
from .models import Action, Appeal, Report, Target

Kind = Notification.Kind


def tell_decision(*, action: Action, reports: list[Report]) -> None:
    if action.subject_id is not None:
        notification_create(
            recipient_id=action.subject_id,
            kind=Kind.MODERATION_DECISION,
            creation=action.item_creation,
            object_key=str(action.pk),
        )
    told = set()
    for report in reports:
        if report.reporter_id is None or report.reporter_id in told:
            continue
        told.add(report.reporter_id)
        notification_create(
            recipient_id=report.reporter_id,
            kind=Kind.REPORT_OUTCOME,
            creation=action.item_creation,
            object_key=str(report.pk),
        )


def tell_appeal_decided(*, appeal: Appeal) -> None:
    action = appeal.action
    notification_create(
        recipient_id=action.subject_id,
        kind=Kind.APPEAL_DECIDED,
        creation=action.item_creation,
        object_key=str(action.pk),
    )


# ---------------------------------------------------------------------------------------
# What they say.


def _quote(text: str, length: int = 200) -> str:
    return Truncator(" ".join((text or "").split())).chars(length)


def decision_text(action: Action) -> str:
    what = "post" if action.target == Target.POST else "comment"
    reason = _quote(action.reason)
    if action.kind == Action.Kind.TAKE_DOWN:
        words = f"Your post was taken down by Phoenix moderators. Reason: {reason}"
    elif action.kind == Action.Kind.REMOVE_COMMENT:
        words = f"Your comment was removed by Phoenix moderators. Reason: {reason}"
    elif action.kind == Action.Kind.WARN:
        words = f"You received a warning about your {what}. Reason: {reason}"
    else:
        words = f"Your account was suspended. Reason: {reason}"
    if action.reversed_at is not None:
        return f"{words} (reversed on appeal)"
    if action.is_appealable:
        words += f" You can appeal until {action.appeal_deadline:%-d %b %Y}."
    return words


OUTCOMES = {
    Action.Kind.DISMISS: "we reviewed it and it stays up: it does not break our rules",
    Action.Kind.TAKE_DOWN: "we took it down",
    Action.Kind.REMOVE_COMMENT: "we removed it",
    Action.Kind.WARN: "we acted on it",
    Action.Kind.SUSPEND: "we acted on it",
}


def outcome_text(report: Report) -> str:
    what = "post" if report.target == Target.POST else "comment"
    decision = getattr(report, "decision", None)
    if decision is None:
        return f"Your report of a {what} was reviewed"
    return f"Thank you for your report of a {what}: {OUTCOMES[decision.kind]}"


def appeal_text(appeal: Appeal) -> str:
    if appeal.status == Appeal.Status.REVERSED:
        if appeal.action.kind == Action.Kind.TAKE_DOWN:
            return "Your appeal was successful: your post is published again"
        if appeal.action.kind == Action.Kind.SUSPEND:
            return "Your appeal was successful: your account is active again"
        return "Your appeal was successful: the decision was reversed"
    if appeal.status == Appeal.Status.UPHELD:
        return f"Your appeal was turned down: {_quote(appeal.decision_note)}"
    return "Your appeal is waiting for a decision"


def _decision_texts(notifications) -> dict:
    actions = selectors.decisions_by_id(n.object_key for n in notifications)
    return {
        n.pk: decision_text(actions[n.object_key]) for n in notifications if n.object_key in actions
    }


def _outcome_texts(notifications) -> dict:
    reports = selectors.reports_by_id(n.object_key for n in notifications)
    return {
        n.pk: outcome_text(reports[n.object_key]) for n in notifications if n.object_key in reports
    }


def _appeal_texts(notifications) -> dict:
    appeals = selectors.appeals_by_id(n.object_key for n in notifications)
    return {
        n.pk: appeal_text(appeals[n.object_key]) for n in notifications if n.object_key in appeals
    }


def _decision_url(notification: Notification) -> str:
    return reverse("moderation_decision", args=[notification.object_key])


def _reports_url(notification: Notification) -> str:
    return reverse("moderation_my_reports")


def register_kinds() -> None:
    registry.register(
        Kind.MODERATION_DECISION,
        registry.RegisteredKind(
            texts=_decision_texts,
            url=_decision_url,
            email_subject="A decision about your content on Phoenix",
            email_link_label="The decision, and how to appeal it",
        ),
    )
    registry.register(
        Kind.REPORT_OUTCOME,
        registry.RegisteredKind(texts=_outcome_texts, url=_reports_url),
    )
    registry.register(
        Kind.APPEAL_DECIDED,
        registry.RegisteredKind(
            texts=_appeal_texts,
            url=_decision_url,
            email_subject="Your appeal on Phoenix was decided",
            email_link_label="The decision on your appeal",
        ),
    )
