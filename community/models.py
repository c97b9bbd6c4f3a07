"""Likes, follows and comments on posts. A post is a published creation (its id is the
creation's); its public figures live on its row (Creation.like_count, comment_count,
explore_score), kept by services.py in the same transaction as the row they count.

The database holds the rules the code relies on: one like per person and post, one
follow per pair, nobody follows themselves — also when requests race.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from creations.models import Creation

COMMENT_MAX = 1000


class PostLike(models.Model):
    post = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="post_likes"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Also serves "which of these posts did I like" (post, user) for a page.
            models.UniqueConstraint(fields=["post", "user"], name="one_like_per_person"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="like_by_user")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.post_id}"


class Follow(models.Model):
    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following"
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followers"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Also serves the Following feed (whom does this person follow).
            models.UniqueConstraint(fields=["follower", "followee"], name="one_follow_per_pair"),
            models.CheckConstraint(
                condition=~Q(follower=F("followee")), name="nobody_follows_themselves"
            ),
        ]
        indexes = [models.Index(fields=["followee"], name="follow_followee")]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followee_id}"


class CreatorCounts(models.Model):
    """A creator's follower figures, kept like a post's: in the follow's transaction,
    counting active accounts only, corrected by the periodic recount."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="community_counts",
    )
    followers = models.PositiveIntegerField(default=0)
    following = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.followers} followers, {self.following} following"


class PostComment(models.Model):
    """A comment on a post, plain text. Deleting one (its author, the post's owner, staff)
    keeps the row with its words cleared, so a notification about it says it is gone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    post = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="post_comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="post_comments"
    )
    text = models.TextField(max_length=COMMENT_MAX)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["post", "created_at", "id"],
                name="post_comment_thread",
                condition=Q(deleted_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=False) | ~Q(text=""),
                name="post_comment_has_text",
            ),
        ]

    def __str__(self) -> str:
        return f"comment {self.id} on {self.post_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def can_delete(self, user) -> bool:
        if not user.is_authenticated or self.is_deleted:
            return False
        return user.pk in (self.author_id, self.post.owner_id)
