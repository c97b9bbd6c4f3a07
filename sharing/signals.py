"""What sharing tells the rest of Phoenix (notifications listen), sent after COMMIT."""

from django.dispatch import Signal

# Sent with: share (a sharing.models.Share naming a recipient creator).
draft_shared = Signal()
# Sent with: comment (a sharing.models.Comment on a shared draft).
comment_posted = Signal()
