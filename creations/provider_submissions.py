"""The remote provider's tasks we sent (Runway): see creations.services.submissions."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ProviderSubmission(models.Model):
    """One try to start a creation's task at a remote provider (Runway), written and
    committed before the HTTP call: a worker killed before it recorded the task id, or an
    answer lost to a read timeout, leaves this row in `intent`, and recovery finds it. A
    cancel of the task is tracked here too, retried until the provider acknowledges it."""

    class State(models.TextChoices):
        INTENT = "intent"  # about to be sent, or sent with its answer not read yet
        SUBMITTED = "submitted"  # the provider answered with task_id
        REFUSED = "refused"  # the provider answered no: nothing was started
        POSSIBLY_SUBMITTED = "possibly_submitted"  # no answer: a task may run, id unknown

    creation = models.ForeignKey(
        "creations.Creation", on_delete=models.CASCADE, related_name="submissions"
    )
    # The idempotency key, sent where the provider takes one (PHOENIX_RUNWAY_IDEMPOTENCY_HEADER).
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=20, choices=State.choices, default=State.INTENT)
    task_id = models.CharField(max_length=128, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_acknowledged_at = models.DateTimeField(null=True, blank=True)
    cancel_attempts = models.PositiveSmallIntegerField(default=0)
    cancel_next_at = models.DateTimeField(null=True, blank=True)
    cancel_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["cancel_next_at"],
                name="submission_cancel_due",
                condition=Q(cancel_requested_at__isnull=False, cancel_acknowledged_at__isnull=True),
            ),
            models.Index(fields=["task_id"], name="submission_task", condition=~Q(task_id="")),
            # Recovery's look for intents whose creation ended (few rows: nearly every one
            # is answered within seconds).
            models.Index(
                fields=["started_at"], name="submission_intent", condition=Q(state="intent")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.state} {self.task_id or self.key} ({self.creation_id})"
