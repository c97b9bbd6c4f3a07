import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class InvalidTransition(Exception):
    def __init__(self, current: str, target: str):
        super().__init__(f"A {current} creation cannot become {target}.")
        self.current = current
        self.target = target


class Creation(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"

    class AspectRatio(models.TextChoices):
        SQUARE = "1:1", "1:1"
        WIDE = "16:9", "16:9"
        TALL = "9:16", "9:16"
        LANDSCAPE = "4:3", "4:3"
        PORTRAIT = "3:4", "3:4"

    class Orientation(models.TextChoices):
        LANDSCAPE = "landscape", "Landscape"
        PORTRAIT = "portrait", "Portrait"

    # The one place that says which status may follow which.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.PROCESSING, Status.FAILED}),
        Status.PROCESSING: frozenset({Status.DRAFT, Status.FAILED}),
        Status.DRAFT: frozenset({Status.PUBLISHED}),
        Status.PUBLISHED: frozenset(),
        Status.FAILED: frozenset(),
    }
    IN_FLIGHT = (Status.PENDING, Status.PROCESSING)
    FINISHED = (Status.DRAFT, Status.PUBLISHED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creations"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    prompt = models.TextField(max_length=1000)
    aspect_ratio = models.CharField(max_length=8, choices=AspectRatio.choices, blank=True)
    orientation = models.CharField(max_length=16, choices=Orientation.choices, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    cost = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)

    media = models.FileField(max_length=255, blank=True)
    poster = models.FileField(max_length=255, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    caption = models.TextField(max_length=2200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now)
    # Set by recovery when it sends a lost job again (the first send writes nothing, to keep
    # the create path to one transaction); RQ's job keeps its own enqueued_at.
    requeued_at = models.DateTimeField(null=True, blank=True)
    processing_at = models.DateTimeField(null=True, blank=True)
    draft_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "status", "-created_at"], name="creation_owner_status"),
            models.Index(fields=["status", "-published_at"], name="creation_feed"),
            models.Index(fields=["status", "created_at"], name="creation_status_age"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="one_creation_per_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100), name="progress_is_percent"
            ),
            models.CheckConstraint(condition=Q(cost__gt=0), name="creation_cost_positive"),
            models.CheckConstraint(
                condition=~Q(status__in=["draft", "published"]) | ~Q(media=""),
                name="finished_creation_has_media",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error_code=""),
                name="failed_creation_has_error_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_in_flight(self) -> bool:
        return self.status in self.IN_FLIGHT

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def can_become(self, target: str) -> bool:
        return target in self.TRANSITIONS[self.status]

    def check_transition(self, target: str) -> None:
        if not self.can_become(target):
            raise InvalidTransition(self.status, target)

    @classmethod
    def sources_of(cls, target: str) -> list[str]:
        return [source for source, targets in cls.TRANSITIONS.items() if target in targets]

    @property
    def deadline(self):
        start = self.processing_at or self.created_at
        seconds = settings.PHOENIX_JOB_TIMEOUT[self.kind] + settings.PHOENIX_DEADLINE_GRACE
        return start + timedelta(seconds=seconds)

    @property
    def processing_seconds(self) -> float | None:
        end = self.draft_at or self.failed_at
        if end is None:
            return None
        return (end - self.created_at).total_seconds()

    def media_visible_to(self, user) -> bool:
        """Published media is public; a draft's only for its owner, and for staff who may
        view creations (the admin's preview)."""
        if self.status == self.Status.PUBLISHED:
            return True
        if self.status != self.Status.DRAFT:
            return False
        return self.owner_id == user.id or (
            user.is_staff and user.has_perm("creations.view_creation")
        )

    @property
    def duration_label(self) -> str:
        if self.duration_seconds is None:
            return ""
        return f"{round(self.duration_seconds)}s"

    @property
    def icon(self) -> str:
        return "🎬" if self.kind == self.Kind.VIDEO else "🖼️"

    @property
    def expires_at(self):
        """When an unpublished draft is deleted by the daily expiry (None for other states)."""
        if self.status != self.Status.DRAFT:
            return None
        return (self.draft_at or self.created_at) + timedelta(days=settings.PHOENIX_DRAFT_TTL_DAYS)

    @property
    def expires_soon(self) -> bool:
        """A draft its owner should be warned about: it expires within the warning period."""
        expires_at = self.expires_at
        if expires_at is None:
            return False
        warning = timedelta(days=settings.PHOENIX_DRAFT_EXPIRY_WARNING_DAYS)
        return expires_at - timezone.now() <= warning
