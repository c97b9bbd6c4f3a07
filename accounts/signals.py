"""What accounts tell the rest of Phoenix."""

from django.dispatch import Signal

# Sent with: user_id — inside account_delete's transaction, before it commits: an app that
# keeps personal data of the account (webhooks: endpoint URLs and their secrets) erases it
# there, in the same transaction (a listener's error rolls the deletion back).
account_erasing = Signal()
