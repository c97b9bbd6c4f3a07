"""A creator's own library: boards, named collections of their own creations (a creation
may be in several). Favourites are the creation's own `starred_at` (creations.models): one
per creation, read with the row, so a card or post shows its star at no extra query.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from creations.models import Creation

BOARD_NAME_MAX = 80
# Boards per creator: a sidebar, not a filing system.
BOARDS_MAX = 200


class Board(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="boards"
    )
    name = models.CharField(max_length=BOARD_NAME_MAX)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = [Lower("name"), "created_at"]
        constraints = [
            # Two boards of one creator never share a name (whatever the case): the sidebar
            # and "Add to board" name them.
            models.UniqueConstraint(Lower("name"), "owner", name="board_name_unique_per_owner"),
            models.CheckConstraint(condition=~Q(name=""), name="board_has_a_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.owner_id})"


class BoardItem(models.Model):
    """A creation on a board. Only the board's owner's creations: checked by the services
    (library.services.board_add), which only ever look up the owner's own."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="items")
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="board_items")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["board", "creation"], name="one_item_per_board"),
        ]

    def __str__(self) -> str:
        return f"{self.creation_id} on {self.board_id}"
