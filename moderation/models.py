"""Reports of posts and comments, the cases staff work through, the decisions they take
(the action log) and the appeals against those decisions.

An item is reported: a post (its creation), a comment on a shared draft (sharing's) or a
comment on a post (community's). The target is one nullable foreign key per kind of item,
exactly one of them set (a check constraint), so comments of another app get a column and a
branch of the same constraint, and the database still knows every row's item exists.

All the open reports of one item form one open case (a partial unique index per item): the
queue lists cases, staff assign and annotate a case, and a decision closes the case with
every report in it. A reporter has at most one open report per item (a partial unique
index); once the case is decided they may report the item again.

Reporters are never shown to the item's author: nothing here is read by any page, answer,
notification or export of theirs (moderation.selectors says what each reader gets).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from community.models import PostComment
from creations.models import Creation
from sharing.models import Comment

NOTE_MAX = 1000
REASON_MAX = 500
APPEAL_MAX = 2000


class Target(models.TextChoices):
    POST = "post", "Post"
    COMMENT = "comment", "Comment on a shared draft"
    POST_COMMENT = "post_comment", "Comment on a post"


# The target columns, by kind: exactly one is set on a case, a report and an action.
TARGET_FIELDS = {
    Target.POST: "post",
    Target.COMMENT: "comment",
    Target.POST_COMMENT: "post_comment",
}
COMMENT_TARGETS = (Target.COMMENT, Target.POST_COMMENT)


def one_target(name: str) -> models.CheckConstraint:
    def only(target: str) -> Q:
        condition = Q(target=target)
        for kind, column in TARGET_FIELDS.items():
            condition &= Q(**{f"{column}__isnull": kind != target})
        return condition

    return models.CheckConstraint(
        condition=only(Target.POST) | only(Target.COMMENT) | only(Target.POST_COMMENT),
        name=name,
    )


class TargetMixin(models.Model):
    target = models.CharField(max_length=16, choices=Target.choices)
    post = models.ForeignKey(
        Creation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    post_comment = models.ForeignKey(
        PostComment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def item(self) -> Creation | Comment | PostComment:
        return getattr(self, TARGET_FIELDS[self.target])

    @property
    def item_noun(self) -> str:
        """What people are told the item is: a post or a comment (of either kind)."""
        return "post" if self.target == Target.POST else "comment"

    @property
    def item_creation(self) -> Creation:
        """The creation the item is (a post) or belongs to (a comment): what notifications
        about it name."""
        if self.target == Target.POST:
            return self.post
        if self.target == Target.POST_COMMENT:
            return self.post_comment.post
        return self.comment.creation


class Case(TargetMixin):
    """The open reports of one item, for staff to decide together."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        permissions = [("moderate", "Can work the moderation queue and decide appeals")]
        indexes = [
            models.Index(fields=["opened_at"], name="case_open", condition=Q(status="open")),
        ]
        constraints = [
            one_target("case_has_one_target"),
            models.UniqueConstraint(
                fields=["post"],
                condition=Q(status="open", post__isnull=False),
                name="one_open_case_per_post",
            ),
            models.UniqueConstraint(
                fields=["comment"],
                condition=Q(status="open", comment__isnull=False),
                name="one_open_case_per_comment",
            ),
            models.UniqueConstraint(
                fields=["post_comment"],
                condition=Q(status="open", post_comment__isnull=False),
                name="one_open_case_per_post_comment",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="closed_case_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.id} ({self.target}, {self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Report(TargetMixin):
    class Category(models.TextChoices):
        SPAM = "spam", "Spam"
        SEXUAL = "sexual", "Sexual content"
        VIOLENCE = "violence", "Violence"
        HATE = "hate", "Hate"
        IP = "ip", "Someone else's work (copyright, trademark)"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reports")
    # Kept when the reporter deletes their account: the report still counted.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="reports_filed",
    )
    category = models.CharField(max_length=16, choices=Category.choices)
    note = models.TextField(max_length=NOTE_MAX, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["case", "created_at"], name="report_case")]
        constraints = [
            one_target("report_has_one_target"),
            # One open report per reporter per item: a second is refused until it is decided.
            models.UniqueConstraint(
                fields=["reporter", "post"],
                condition=Q(status="open", post__isnull=False),
                name="one_open_report_per_reporter_post",
            ),
            models.UniqueConstraint(
                fields=["reporter", "comment"],
                condition=Q(status="open", comment__isnull=False),
                name="one_open_report_per_reporter_comment",
            ),
            models.UniqueConstraint(
                fields=["reporter", "post_comment"],
                condition=Q(status="open", post_comment__isnull=False),
                name="one_open_report_per_reporter_post_comment",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="closed_report_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"report {self.id} ({self.category})"


class CaseNote(models.Model):
    """Staff's notes on a case, for each other (never shown outside the queue)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(max_length=NOTE_MAX)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="case_note_has_text")]

    def __str__(self) -> str:
        return f"note on {self.case_id}"


class Action(TargetMixin):
    """The action log: who decided what, when and why, about which item and whose account.
    Rows are never changed but for the reversal an appeal brings."""

    class Kind(models.TextChoices):
        DISMISS = "dismiss", "Dismissed"
        TAKE_DOWN = "take_down", "Post taken down"
        REMOVE_COMMENT = "remove_comment", "Comment removed"
        WARN = "warn", "Warning"
        SUSPEND = "suspend", "Account suspended"

    # What the person concerned may appeal (a dismissal concerns nobody). A suspended
    # account signs in for that alone (moderation.auth).
    APPEALABLE = (Kind.TAKE_DOWN, Kind.REMOVE_COMMENT, Kind.WARN, Kind.SUSPEND)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="moderation_actions"
    )
    # The account the decision is about (the item's author); none for a dismissal.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="moderation_decisions",
    )
    reason = models.TextField(max_length=REASON_MAX)
    created_at = models.DateTimeField(default=timezone.now)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["subject", "-created_at"], name="action_subject")]
        constraints = [
            one_target("action_has_one_target"),
            models.CheckConstraint(condition=~Q(reason=""), name="action_has_reason"),
            models.CheckConstraint(
                condition=Q(kind="dismiss") | Q(subject__isnull=False),
                name="action_names_its_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor_id} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def appeal_deadline(self):
        return self.created_at + timedelta(days=settings.PHOENIX_APPEAL_DAYS)

    @property
    def is_appealable(self) -> bool:
        return self.kind in self.APPEALABLE and self.reversed_at is None

    def may_be_appealed_at(self, moment) -> bool:
        return self.is_appealable and moment <= self.appeal_deadline


class Appeal(models.Model):
    """The subject's complaint against one action: once per action (the primary key), to be
    decided by a staff member other than the one who acted."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a decision"
        UPHELD = "upheld", "Decision upheld"
        REVERSED = "reversed", "Decision reversed"

    action = models.OneToOneField(
        Action, on_delete=models.CASCADE, primary_key=True, related_name="appeal"
    )
    text = models.TextField(max_length=APPEAL_MAX)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Why, in words the person who appealed reads.
    decision_note = models.TextField(max_length=REASON_MAX, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["created_at"], name="appeal_open", condition=Q(status="open"))
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="appeal_has_text"),
            models.CheckConstraint(
                condition=Q(status="open", decided_at__isnull=True, decided_by__isnull=True)
                | (~Q(status="open") & Q(decided_at__isnull=False) & Q(decided_by__isnull=False)),
                name="decided_appeal_names_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return f"appeal of {self.action_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
