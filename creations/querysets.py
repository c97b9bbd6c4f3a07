"""How creations are asked for in bulk: the guarded status UPDATE built from the state
table, and the filters every reader shares (the model is `self.model`: Creation)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce


class InvalidTransition(Exception):
    def __init__(self, current: str, target: str):
        super().__init__(f"A {current} creation cannot become {target}.")
        self.current = current
        self.target = target


class CreationQuerySet(models.QuerySet):
    def transition(self, target: str, *, sources=None, **changes) -> int:
        """Move every row of this queryset that may become `target` to it, in one guarded
        UPDATE built from the state table. `sources` narrows the statuses it may come from
        (each must be one the table allows). Returns how many rows changed: 0 means another
        writer changed the status first, or the status never allowed it."""
        allowed = self.model.sources_of(target)
        if sources is None:
            sources = allowed
        for source in sources:
            if source not in allowed:
                raise InvalidTransition(source, target)
        return self.filter(status__in=list(sources)).update(status=target, **changes)

    def not_trashed(self):
        return self.filter(trashed_at__isnull=True)

    def in_trash(self):
        return self.filter(trashed_at__isnull=False, purged_at__isnull=True)

    def past_deadline(self, *, now):
        """In flight and past Creation.deadline at `now`: the same rule, as one filter (a
        count of them is one index-served query, not a read of every creation in flight)."""
        grace = settings.PHOENIX_DEADLINE_GRACE
        waiting = Q(status=self.model.Status.PENDING) | Q(processing_at__isnull=True)
        started = Q(status=self.model.Status.PROCESSING, processing_at__isnull=False)
        stalled = waiting & Q(sent_at__lte=now - timedelta(seconds=settings.PHOENIX_QUEUE_STALL))
        remote_budget = timedelta(seconds=settings.PHOENIX_REMOTE_TASK_TIMEOUT + grace)
        remote = started & ~Q(provider_task_id="") & Q(processing_at__lte=now - remote_budget)
        local = Q()
        for kind, seconds in settings.PHOENIX_JOB_TIMEOUT.items():
            local |= Q(kind=kind, processing_at__lte=now - timedelta(seconds=seconds + grace))
        return (
            self.filter(status__in=self.model.IN_FLIGHT)
            .alias(sent_at=Coalesce("requeued_at", "created_at"))
            .filter(stalled | remote | (started & Q(provider_task_id="") & local))
        )

    def public(self):
        """What anyone may see: published, not in the trash, its creator active."""
        return self.filter(
            status=self.model.Status.PUBLISHED, trashed_at__isnull=True, owner__is_active=True
        )
