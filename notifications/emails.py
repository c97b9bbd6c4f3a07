"""A notification's e-mail, for the two kinds a creator may ask for (off by default) and a
webhook endpoint turned off (always, to the confirmed address): where it may go, whether
it is still wanted, and the one send the mail job makes."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from creations.models import Creation
from profiles.selectors import email_unconfirmed
from sharing.selectors import can_view

from . import presenters, registry
from .models import Notification, NotificationPreferences

log = logging.getLogger(__name__)

Kind = Notification.Kind


def email_address_of(user: AbstractBaseUser) -> str:
    """Where notification e-mails may go: the account's address once confirmed (never an
    address someone typed for another person's inbox), else ""."""
    if not user.email or email_unconfirmed(user):
        return ""
    return user.email


# E-mail, for the two kinds a creator may ask for (off by default).

EMAIL_SUBJECTS = {
    Kind.CREATION_FINISHED: "Your video is ready",
    Kind.DRAFT_SHARED: "A draft was shared with you",
    Kind.TOKENS_ADDED: "Tokens were added to your Phoenix balance",
    Kind.TOKENS_REMOVED: "Your Phoenix token balance was corrected",
    Kind.WEBHOOK_DISABLED: "A webhook endpoint was turned off",
}
TOKEN_KINDS = (Kind.TOKENS_ADDED, Kind.TOKENS_REMOVED)


def wants_email(notification: Notification, creation: Creation) -> str:
    """The address to write to, or "" when this notification is not to be e-mailed."""
    if notification.kind == Kind.WEBHOOK_DISABLED:
        # Not a choice: deliveries a program relies on stopped. Its confirmed address.
        user = notification.recipient
        return email_address_of(user) if user.is_active else ""
    registered = registry.registered(notification.kind)
    if registered is not None:
        if not registered.email_subject:
            return ""
        # Active or not: a suspended account is owed its statement of reasons too (a
        # deleted one has no address left).
        recipient = get_user_model().objects.filter(pk=notification.recipient_id).first()
        return email_address_of(recipient) if recipient is not None else ""
    if notification.kind == Kind.CREATION_FINISHED:
        if creation.kind != Creation.Kind.VIDEO:
            return ""
        flag = "email_video_finished"
    elif notification.kind == Kind.DRAFT_SHARED:
        flag = "email_draft_shared"
    elif notification.kind in TOKEN_KINDS and not presenters.is_welcome(notification):
        # (The welcome grant is never e-mailed: it arrives as its owner follows the link
        # of an e-mail.)
        flag = "email_tokens"
    else:
        return ""
    preferences = (
        NotificationPreferences.objects.filter(user_id=notification.recipient_id, **{flag: True})
        .select_related("user")
        .first()
    )
    if preferences is None or not preferences.user.is_active:
        return ""
    return email_address_of(preferences.user)


def _still_shared(notification: Notification) -> bool:
    return can_view(creation=notification.creation, user=notification.recipient)


def notification_email_send(*, notification_id) -> str:
    """The mail job's work: send the notification's e-mail once. Re-reads everything (the
    person may have turned e-mail off, lost their confirmed address, or read it meanwhile)
    and builds the words now (presenters: no quote the recipient may no longer see).

    Once: `emailed_at` is claimed by a guarded update before sending, so a job delivered
    twice sends once; a failed send gives the claim back and raises, for RQ to retry. (A
    work horse killed between the claim and the send loses that e-mail rather than risk
    sending it twice.) Returns what happened, for the job's result."""
    notification = (
        Notification.objects.select_related("creation__owner", "recipient")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:
        return "gone"
    if notification.emailed_at is not None:
        return "already_sent"
    if notification.read_at is not None:
        return "seen"  # they read it (on its card, on the page) before the e-mail went
    address = wants_email(notification, notification.creation)
    if not address:
        return "not_wanted"
    if notification.kind == Kind.DRAFT_SHARED and not _still_shared(notification):
        return "unshared"  # revoked (or published, trashed) before the e-mail went
    claimed_at = timezone.now()
    claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
        emailed_at=claimed_at
    )
    if not claimed:
        return "already_sent"
    text = presenters.present_one(notification, reader=notification.recipient)
    link = settings.PHOENIX_SITE_URL + reverse("notification_open", args=[notification.pk])
    registered = registry.registered(notification.kind)
    if registered is not None:
        subject = registered.email_subject
        body = f"{text}\n\n{registered.email_link_label}: {link}\n"
    else:
        subject = EMAIL_SUBJECTS[notification.kind]
        body = (
            f"{text}\n\nOpen it: {link}\n\n"
            "You get this e-mail because you asked for it on your notifications page; "
            "you can turn it off there."
        )
    try:
        send_mail(subject, body, None, [address])
    except Exception:
        Notification.objects.filter(pk=notification.pk, emailed_at=claimed_at).update(
            emailed_at=None
        )
        log.warning("Could not e-mail notification %s; RQ retries it", notification.pk)
        raise
    return "sent"
