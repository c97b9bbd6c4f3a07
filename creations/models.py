import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from . import access
from .providers import honours_seed
from .querysets import CreationQuerySet, InvalidTransition

# Seeds are unsigned 32-bit numbers (what the providers that take one accept).
SEED_LIMIT = 2**32
# At most this many variations from one request.
BATCH_MAX = 4
# The text search configuration of the search vector (and of every query against it).
SEARCH_CONFIG = "english"


class Creation(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"
        TAKEN_DOWN = "taken_down", "Taken down"

    class AspectRatio(models.TextChoices):
        SQUARE = "1:1", "1:1"
        WIDE = "16:9", "16:9"
        TALL = "9:16", "9:16"
        LANDSCAPE = "4:3", "4:3"
        PORTRAIT = "3:4", "3:4"

    class Orientation(models.TextChoices):
        LANDSCAPE = "landscape", "Landscape"
        PORTRAIT = "portrait", "Portrait"

    # The one place that says which status may follow which. Every status change is a
    # guarded UPDATE built from it (Creation.objects.transition, and the claim's SQL).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.PROCESSING, Status.FAILED, Status.CANCELED}),
        Status.PROCESSING: frozenset({Status.DRAFT, Status.FAILED, Status.CANCELED}),
        Status.DRAFT: frozenset({Status.PUBLISHED, Status.SCHEDULED}),
        # Published at its time, back to a draft when unscheduled (or restored), or taken
        # down by staff before its time.
        Status.SCHEDULED: frozenset({Status.PUBLISHED, Status.DRAFT, Status.TAKEN_DOWN}),
        # Unpublished (or restored from the trash) back to a draft; or taken down by staff.
        Status.PUBLISHED: frozenset({Status.DRAFT, Status.TAKEN_DOWN}),
        Status.FAILED: frozenset(),
        Status.CANCELED: frozenset(),
        # Published again when the take-down is reversed on appeal (moderation).
        Status.TAKEN_DOWN: frozenset({Status.PUBLISHED}),
    }
    IN_FLIGHT = (Status.PENDING, Status.PROCESSING)
    # Generated, with media (whatever happened since).
    FINISHED = (Status.DRAFT, Status.SCHEDULED, Status.PUBLISHED, Status.TAKEN_DOWN)
    # Ended without media: refunded.
    ENDED_WITHOUT_MEDIA = (Status.FAILED, Status.CANCELED)
    # Error codes of a failure that refused the prompt itself.
    REFUSAL_CODES = ("safety_filter", "policy_violation")
    # Trash is not a status: these may be moved to the trash and keep their status there.
    TRASHABLE = (*FINISHED, *ENDED_WITHOUT_MEDIA)
    # Shown on the owner's drafts tab (when not in the trash) and on the posts tab.
    DRAFT_TAB = (*IN_FLIGHT, Status.DRAFT, Status.SCHEDULED, *ENDED_WITHOUT_MEDIA)
    POSTS_TAB = (Status.PUBLISHED, Status.TAKEN_DOWN)

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
    # sha256 of what a keyed request asked for (CreationRequest.fingerprint).
    request_hash = models.CharField(max_length=64, blank=True, default="", editable=False)

    media = models.FileField(max_length=255, blank=True)
    poster = models.FileField(max_length=255, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    caption = models.TextField(max_length=2200, blank=True)
    # Whether a post shows its prompt (and "Use this prompt") to everyone; its creator
    # chooses when publishing or later. A database default: code of the previous release
    # inserts rows without it during a deploy.
    prompt_public = models.BooleanField(default=True, db_default=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now)
    # Set by recovery when it sends a lost job again (the first send writes nothing, to keep
    # the create path to one transaction); RQ's job keeps its own enqueued_at.
    requeued_at = models.DateTimeField(null=True, blank=True)
    processing_at = models.DateTimeField(null=True, blank=True)
    draft_at = models.DateTimeField(null=True, blank=True)
    # The latest publication (a new one after each unpublish), and the first one: the feed
    # and a creator's posts sort by the first, so unpublishing and publishing again never
    # brings a post back to the top.
    published_at = models.DateTimeField(null=True, blank=True)
    first_published_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    # When it last became a draft again (unpublished, unscheduled, restored): the draft
    # expiry counts from here too, so a draft given back is not expired at once.
    redrafted_at = models.DateTimeField(null=True, blank=True)
    # Scheduled publishing: when it is to be published (UTC).
    publish_at = models.DateTimeField(null=True, blank=True)
    # Trash is not a status: a trashed creation keeps its status for Restore. Purged: its
    # files are deleted and its words cleared; the row stays as the record figures count.
    trashed_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    taken_down_at = models.DateTimeField(null=True, blank=True)
    takedown_reason = models.CharField(max_length=500, blank=True)
    taken_down_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A remote provider's task (Runway): the periodic check, a cancel and recovery reach the
    # provider's task through it, whichever worker submitted it.
    provider_task_id = models.CharField(max_length=128, blank=True)
    # When the short job that fetches a remote task's result was last sent: not sent again
    # while it may still be running (see PHOENIX_REMOTE_FETCH_TIMEOUT).
    fetch_sent_at = models.DateTimeField(null=True, blank=True)

    # The seed the provider was (or would have been) given: 0 <= seed < 2**32. A batch's
    # items get seed, seed+1, …; Run again with the same seed gives the same media where
    # the provider honours seeds (providers.honours_seed).
    seed = models.BigIntegerField(default=0)
    # The items made by one request (count > 1) share a batch id and are numbered from 0;
    # a single creation has none. Each item is its own row, debit, job and refund.
    batch_id = models.UUIDField(null=True, blank=True)
    batch_index = models.PositiveSmallIntegerField(default=0)
    # Run again / Vary / Edit & run: the creation this one was made from. Rows are never
    # deleted (a purge keeps the row), SET_NULL is for a user deleted with their rows.
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    # A video started from a still: our own private, re-encoded copy of the image (an
    # upload, or one of the creator's image creations), deleted with the creation's files.
    source_image = models.FileField(max_length=255, blank=True)
    # The image creation the still was copied from (Animate; a rerun of such a video keeps
    # it): a take-down of that image stops this video being run again from its copy.
    source_creation = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="animations"
    )
    # When housekeeping deleted the still's copy of a failed or canceled video (after
    # PHOENIX_SOURCE_COPY_DAYS): it cannot be run again from it any more.
    source_image_dropped_at = models.DateTimeField(null=True, blank=True)
    # A favourite of its owner (the star on its card and post): when they starred it.
    starred_at = models.DateTimeField(null=True, blank=True)
    # Whole-word search of prompt and caption (creations.search): kept by PostgreSQL itself,
    # so no write path can forget it; a purge clears both words and so its vector.
    search_vector = models.GeneratedField(
        expression=SearchVector("prompt", weight="A", config=SEARCH_CONFIG)
        + SearchVector("caption", weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    # A post's public figures, kept on its row so that a feed page reads them with the
    # posts (never a count per post): written by community's services in the same
    # transaction as the like or comment, corrected by its periodic recount. They count
    # only what active accounts did. explore_score: creations/ranking.py (NULL: never
    # published).
    like_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    explore_score = models.FloatField(null=True, blank=True)

    objects = CreationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [("take_down_creation", "Can take a published post down")]
        indexes = [
            models.Index(fields=["owner", "status", "-created_at"], name="creation_owner_status"),
            models.Index(fields=["status", "-first_published_at"], name="creation_feed"),
            models.Index(fields=["status", "created_at"], name="creation_status_age"),
            # "Has the queue of this type moved lately?" (the recovery pass's stall check).
            models.Index(fields=["kind", "processing_at"], name="creation_kind_claimed"),
            models.Index(
                fields=["publish_at"],
                name="creation_scheduled",
                condition=Q(status="scheduled"),
            ),
            models.Index(
                fields=["batch_id", "batch_index"],
                name="creation_batch",
                condition=Q(batch_id__isnull=False),
            ),
            # The alert on cancels after provider submission (ops.figures).
            models.Index(
                fields=["canceled_at"],
                name="creation_canceled_remote",
                condition=Q(status="canceled") & ~Q(provider_task_id=""),
            ),
            # Explore: the public posts by score (the partial index holds only them, so a
            # post unpublished, trashed or taken down leaves it in the same UPDATE).
            models.Index(
                F("explore_score").desc(nulls_last=True),
                F("id").desc(),
                name="creation_explore",
                condition=Q(status="published", trashed_at__isnull=True),
            ),
            # A creator's public posts, newest first (the profile page).
            models.Index(
                F("owner"),
                F("first_published_at").desc(),
                F("id").desc(),
                name="creation_owner_posts",
                condition=Q(status="published", trashed_at__isnull=True),
            ),
            models.Index(
                fields=["owner", "-trashed_at"],
                name="creation_trash",
                condition=Q(trashed_at__isnull=False, purged_at__isnull=True),
            ),
            # The library (creations.search, migration 0008): an owner's creations newest
            # first, their favourites, and the words of prompt and caption — whole words
            # through the vector, any part of a word through trigrams. owner_id sits in the
            # GIN indexes themselves (btree_gin), so a search reads only its owner's entries.
            models.Index(
                fields=["owner", "-created_at"],
                name="creation_library",
                condition=Q(trashed_at__isnull=True),
            ),
            models.Index(
                fields=["owner", "-created_at"],
                name="creation_starred",
                condition=Q(trashed_at__isnull=True, starred_at__isnull=False),
            ),
            GinIndex("owner", "search_vector", name="creation_search"),
            GinIndex(
                fields=["owner", "prompt", "caption"],
                opclasses=["int4_ops", "gin_trgm_ops", "gin_trgm_ops"],
                name="creation_words_trgm",
            ),
            # Public search (community.selectors): the same words of public posts only, so a
            # rare word's posts are found without the drafts' entries or a bitmap of all posts.
            GinIndex(
                "search_vector",
                name="creation_post_search",
                condition=Q(status="published", trashed_at__isnull=True),
            ),
            GinIndex(
                fields=["prompt", "caption"],
                opclasses=["gin_trgm_ops", "gin_trgm_ops"],
                name="creation_post_words_trgm",
                condition=Q(status="published", trashed_at__isnull=True),
            ),
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
                condition=Q(seed__gte=0) & Q(seed__lt=SEED_LIMIT), name="creation_seed_in_range"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["draft", "scheduled", "published", "taken_down"])
                | ~Q(media="")
                | Q(purged_at__isnull=False),
                name="finished_creation_has_media",
            ),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(publish_at__isnull=False),
                name="scheduled_creation_has_time",
            ),
            models.CheckConstraint(
                condition=Q(purged_at__isnull=True) | Q(trashed_at__isnull=False),
                name="purged_creation_was_trashed",
            ),
            models.CheckConstraint(
                condition=~Q(status="taken_down") | ~Q(takedown_reason=""),
                name="taken_down_creation_has_reason",
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

    @property
    def is_trashed(self) -> bool:
        return self.trashed_at is not None

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None

    def can_become(self, target: str) -> bool:
        return target in self.TRANSITIONS[self.status]

    def check_transition(self, target: str) -> None:
        if not self.can_become(target):
            raise InvalidTransition(self.status, target)

    @classmethod
    def sources_of(cls, target: str) -> list[str]:
        return [source for source, targets in cls.TRANSITIONS.items() if target in targets]

    # What the owner may do now: the templates, the API and bulk actions ask these.
    @property
    def can_cancel(self) -> bool:
        return not self.is_trashed and self.can_become(self.Status.CANCELED)

    @property
    def can_publish(self) -> bool:
        return (
            not self.is_trashed
            and self.can_become(self.Status.PUBLISHED)
            and (self.status == self.Status.DRAFT)
        )

    @property
    def can_schedule(self) -> bool:
        return not self.is_trashed and self.can_become(self.Status.SCHEDULED)

    @property
    def can_unschedule(self) -> bool:
        return (
            not self.is_trashed
            and self.status == self.Status.SCHEDULED
            and self.can_become(self.Status.DRAFT)
        )

    @property
    def can_unpublish(self) -> bool:
        return (
            not self.is_trashed
            and self.status == self.Status.PUBLISHED
            and self.can_become(self.Status.DRAFT)
        )

    @property
    def can_edit_caption(self) -> bool:
        return not self.is_trashed and self.status in (self.Status.SCHEDULED, self.Status.PUBLISHED)

    @property
    def can_trash(self) -> bool:
        return not self.is_trashed and self.status in self.TRASHABLE

    @property
    def is_on_drafts_tab(self) -> bool:
        """Shown on its owner's drafts tab (a batch's grid there shows only these)."""
        return not self.is_trashed and self.status in self.DRAFT_TAB

    @property
    def can_restore(self) -> bool:
        return self.is_trashed and not self.is_purged

    @property
    def can_purge(self) -> bool:
        return self.is_trashed and not self.is_purged

    @property
    def can_retry(self) -> bool:
        """Ended without media (failed, canceled) and refunded: Try again and Edit prompt."""
        return self.status in self.ENDED_WITHOUT_MEDIA

    @property
    def can_rerun(self) -> bool:
        """Run again / New seed / Vary / Edit & run: from a draft, a post (scheduled or
        not), a failed or a canceled creation — not one still generating, nor one taken
        down (its prompt was judged), nor a purged one (its prompt is gone)."""
        return (
            not self.is_purged
            and not self.has_lost_its_source_image
            and self.status
            in (
                self.Status.DRAFT,
                self.Status.SCHEDULED,
                self.Status.PUBLISHED,
                *self.ENDED_WITHOUT_MEDIA,
            )
        )

    @property
    def has_lost_its_source_image(self) -> bool:
        """A video started from a still whose copy housekeeping has deleted since."""
        return self.source_image_dropped_at is not None

    @property
    def seed_honored(self) -> bool:
        """Whether its type's generator uses the seed: the card does not pretend it does."""
        return honours_seed(self.kind)

    @property
    def can_keep(self) -> bool:
        """ "Keep this one": a generated item of a batch (its siblings go to the trash)."""
        return (
            self.batch_id is not None
            and not self.is_trashed
            and self.status in (self.Status.DRAFT, self.Status.SCHEDULED, self.Status.PUBLISHED)
        )

    @property
    def can_animate(self) -> bool:
        """An image with media its owner may start a video from (Animate)."""
        return (
            self.kind == self.Kind.IMAGE
            and not self.is_trashed
            and self.status in (self.Status.DRAFT, self.Status.SCHEDULED, self.Status.PUBLISHED)
        )

    @property
    def is_refused(self) -> bool:
        """Failed because the prompt was refused (safety filter, content policy): the same
        words would be refused again, so its card offers Edit prompt, not Try again."""
        return self.status == self.Status.FAILED and self.error_code in self.REFUSAL_CODES

    @property
    def can_take_down(self) -> bool:
        # A post in its owner's trash may still be taken down (Restore then gives it back
        # taken down); a purged one has nothing left to take down.
        return not self.is_purged and self.can_become(self.Status.TAKEN_DOWN)

    @property
    def can_reinstate(self) -> bool:
        """Taken down, not purged: a reversed take-down puts it back in public."""
        return (
            not self.is_purged
            and self.status == self.Status.TAKEN_DOWN
            and self.can_become(self.Status.PUBLISHED)
        )

    @property
    def restores_as(self) -> str:
        """The status Restore gives back: the same, except that a post (or a scheduled one)
        comes back as a draft rather than reappearing in public."""
        if self.status in (self.Status.PUBLISHED, self.Status.SCHEDULED):
            return self.Status.DRAFT
        return self.status

    @property
    def deadline(self):
        """The earliest moment the recovery pass may fail it. Work is measured, not the
        queue: a pending creation counts from when it was (re)sent, and is failed only if
        its queue has not moved meanwhile either (queue_stalled); a remote task counts from
        its claim with the provider's budget; any other claimed job with its job timeout."""
        grace = settings.PHOENIX_DEADLINE_GRACE
        if self.status == self.Status.PENDING or self.processing_at is None:
            start = self.requeued_at or self.created_at
            return start + timedelta(seconds=settings.PHOENIX_QUEUE_STALL)
        if self.provider_task_id:
            seconds = settings.PHOENIX_REMOTE_TASK_TIMEOUT + grace
        else:
            seconds = settings.PHOENIX_JOB_TIMEOUT[self.kind] + grace
        return self.processing_at + timedelta(seconds=seconds)

    @property
    def processing_seconds(self) -> float | None:
        end = self.draft_at or self.failed_at or self.canceled_at
        if end is None:
            return None
        return (end - self.created_at).total_seconds()

    @property
    def is_public(self) -> bool:
        """Seen by anyone: published, not in the trash, its creator not deactivated (the
        same rule as Creation.objects.public())."""
        return self.status == self.Status.PUBLISHED and not self.is_trashed and self.owner.is_active

    @property
    def is_shareable(self) -> bool:
        """A draft (not trashed, not purged): the only state in which it may be shared and
        seen through a share. Leaving it ends every share (sharing.services)."""
        return self.status == self.Status.DRAFT and not self.is_trashed and not self.is_purged

    def media_visible_to(self, user) -> bool:
        """Published media (not trashed, its creator active) is public; any other finished
        creation's only for its owner, for staff who may view creations (the admin's
        preview), and for a draft's the people it is shared with (a rule sharing adds, see
        creations.access)."""
        if self.is_purged:
            return False
        if self.is_public:
            return True
        if self.status not in self.FINISHED:
            return False
        if self.owner_id == user.id or (user.is_staff and user.has_perm("creations.view_creation")):
            return True
        if not self.is_shareable or not user.is_authenticated:
            return False
        return access.draft_readable_by(creation=self, user=user)

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
        """When an unpublished draft goes to the trash by the daily expiry (None for other
        states, and for a scheduled draft)."""
        if self.status != self.Status.DRAFT or self.is_trashed:
            return None
        since = max(filter(None, [self.draft_at, self.redrafted_at]), default=self.created_at)
        return since + timedelta(days=settings.PHOENIX_DRAFT_TTL_DAYS)

    @property
    def expires_soon(self) -> bool:
        """A draft its owner should be warned about: it expires within the warning period."""
        expires_at = self.expires_at
        if expires_at is None:
            return False
        warning = timedelta(days=settings.PHOENIX_DRAFT_EXPIRY_WARNING_DAYS)
        return expires_at - timezone.now() <= warning


# Its own module: this one is at its size limit.
from .provider_submissions import ProviderSubmission  # noqa: E402,F401
