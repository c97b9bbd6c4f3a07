"""Writes about the account itself: confirming who is asking (password and code again),
changing the e-mail address, the data export, and deleting the account."""

import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from community.membership import member_deactivate
from creations.models import Creation
from creations.services import (
    ActionRefused,
    creation_cancel,
    creation_purge,
    creation_trash,
    delete_stored_files,
)
from library import selectors as library_selectors
from notifications.emails import email_address_of
from notifications.models import Notification, NotificationPreferences
from notifications.services import notification_create
from phoenix import ratelimit
from profiles.models import ConfirmedEmail
from profiles.services import welcome_grant
from sharing.models import Comment
from tokens.models import CreditLot, LedgerEntry, Purchase
from tokens.services import account_forfeit, lock_account

from . import signals, twofactor
from .jobs.sending import account_email_enqueue, account_purge_enqueue, export_enqueue
from .models import DataExport, DeletedAccount
from .twofactor import CodeRefused

User = get_user_model()
log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------
# Who is asking: the password again, and a code when two-factor sign-in is on.


def password_confirm(*, user: AbstractBaseUser, password: str) -> None:
    """Raise CodeRefused unless `password` is the account's. Wrong passwords count towards
    the same per-account limit as wrong codes (a stolen session cannot guess the password
    here unlimited)."""
    limit = settings.PHOENIX_2FA_FAILURES
    window = settings.PHOENIX_LOGIN_FAILURE_WINDOW
    if limit and ratelimit.take(twofactor.FAILURE_SCOPE, str(user.pk), window=window) > limit:
        raise twofactor.throttled(user)
    if not user.check_password(password or ""):
        raise CodeRefused("wrong_password", "That password is not right.")
    if limit:
        ratelimit.give_back(twofactor.FAILURE_SCOPE, str(user.pk), window=window)


def identity_confirm(*, user: AbstractBaseUser, password: str, code: str = "") -> None:
    """The password again, and (with two-factor sign-in on) a right code: CodeRefused
    otherwise."""
    password_confirm(user=user, password=password)
    if twofactor.is_enabled(user):
        twofactor.code_check(user=user, code=code)


# ---------------------------------------------------------------------------------------
# E-mail change: a signed link to the new address; the address changes when it is followed.

EMAIL_CHANGE_SALT = "phoenix.accounts.email-change"


class BadEmailChange(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def email_change_token(*, user: AbstractBaseUser, new_email: str) -> str:
    """Names the account, the address it had when asked (the link stops working once that
    changes, so it works once) and the new one."""
    return signing.dumps(
        {"u": user.pk, "o": (user.email or "").lower(), "n": new_email}, salt=EMAIL_CHANGE_SALT
    )


def email_change_request(*, user: AbstractBaseUser, new_email: str, confirm_url: str) -> None:
    """E-mail the link to the new address (by a job)."""
    days = settings.PHOENIX_EMAIL_CONFIRM_DAYS
    account_email_enqueue(
        to=new_email,
        subject="Confirm your new Phoenix e-mail address",
        body=(
            f"Hello {user.get_username()},\n\n"
            f"Someone (we hope you) asked to change the e-mail address of the Phoenix "
            f"account {user.get_username()} to this one. Follow this link to confirm it "
            f"(it works for {days} days):\n\n{confirm_url}\n\n"
            "If it was not you, ignore this e-mail: nothing changes."
        ),
    )


def email_change_check(token: str) -> tuple[AbstractBaseUser, str]:
    """The account and the new address a link is for, or BadEmailChange with the reason."""
    max_age = settings.PHOENIX_EMAIL_CONFIRM_DAYS * 86400
    try:
        data = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise BadEmailChange("This link has expired. Ask for the change again.") from None
    except signing.BadSignature:
        raise BadEmailChange("This link is not valid: it may be incomplete.") from None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or (user.email or "").lower() != data.get("o"):
        raise BadEmailChange(
            "This link was used already, or the account's address has changed since."
        )
    return user, data["n"]


@dataclass(frozen=True)
class EmailChanged:
    user: AbstractBaseUser
    old_email: str
    grant: LedgerEntry | None


def email_change_confirm(*, user: AbstractBaseUser, new_email: str) -> EmailChanged:
    """Make `new_email` the account's (confirmed: the link reached it), tell the old address,
    and give the welcome grant if neither this account nor this address has had it (the
    address history, WelcomedAddress, keeps every address that earned one: a grant is
    counted once per account and once per address, whatever addresses come and go)."""
    try:
        with transaction.atomic():
            # The token account first, then the user: the order account_delete (and
            # tokens.services) take them in, so the two never wait for each other.
            lock_account(user)
            row = User.objects.select_for_update().get(pk=user.pk)
            old = row.email
            if (old or "").lower() == new_email.lower():
                raise BadEmailChange("That is the account's address already.")
            row.email = new_email
            row.save(update_fields=["email"])
            ConfirmedEmail.objects.update_or_create(user=row, defaults={"address": new_email})
            grant = welcome_grant(user=row, email=new_email)
            account_email_enqueue(
                to=old,
                subject="Your Phoenix e-mail address was changed",
                body=(
                    f"Hello {row.get_username()},\n\nThe e-mail address of your Phoenix "
                    f"account is now {new_email}; e-mails no longer come to this one.\n\n"
                    "If you did not do this, reset your password from the log-in page "
                    "and write to us."
                ),
            )
    except IntegrityError:
        # Another account took the address between the form's check and ours.
        raise BadEmailChange("An account with this e-mail address exists now.") from None
    user.email = new_email
    return EmailChanged(user=row, old_email=old, grant=grant)


# ---------------------------------------------------------------------------------------
# "Download my data": a job builds a zip, stored privately, for PHOENIX_EXPORT_DAYS.


class ExportRefused(Exception):
    code = "export_in_progress"

    def __init__(self):
        super().__init__("Your data is being prepared already: we will tell you when it's ready.")
        self.message = str(self)


def export_request(*, user: AbstractBaseUser) -> DataExport:
    """A new export, built by a job after COMMIT; one at a time (ExportRefused)."""
    try:
        with transaction.atomic():
            export = DataExport.objects.create(user_id=user.pk)
            transaction.on_commit(lambda: export_enqueue(export))
    except IntegrityError:
        raise ExportRefused() from None
    return export


def _creation_record(creation: Creation, seed_field: bool) -> dict:
    record = {
        "id": creation.pk,
        "kind": creation.kind,
        "prompt": creation.prompt,
        "status": creation.status,
        "aspect_ratio": creation.aspect_ratio,
        "orientation": creation.orientation,
        "cost": creation.cost,
        "width": creation.width,
        "height": creation.height,
        "duration_seconds": creation.duration_seconds,
        "caption": creation.caption,
        "created_at": creation.created_at,
        "published_at": creation.published_at,
        "publish_at": creation.publish_at,
        "trashed_at": creation.trashed_at,
        "purged_at": creation.purged_at,
        "starred_at": creation.starred_at,
        "taken_down_at": creation.taken_down_at,
        "takedown_reason": creation.takedown_reason,
        "error_message": creation.error_message,
        "media": _media_path(creation, "media") if creation.media.name else None,
        "poster": _media_path(creation, "poster") if creation.poster.name else None,
        # The still a video started from (our copy of it), and where it came from.
        "source_image": (
            _media_path(creation, "source_image") if creation.source_image.name else None
        ),
        "parent_id": creation.parent_id,
    }
    if seed_field:
        record["seed"] = creation.seed
    return record


def _media_path(creation: Creation, which: str) -> str:
    extension = os.path.splitext(getattr(creation, which).name)[1]
    return f"media/{creation.pk}-{which}{extension}"


def export_money_records(user: AbstractBaseUser) -> dict:
    """Every money record of the account, for the export: the ledger, the purchases and the
    lots the balance is held in. The one place money records are collected."""
    ledger = (
        LedgerEntry.objects.filter(account__user_id=user.pk)
        .order_by("created_at", "id")
        .values("id", "kind", "amount", "balance_after", "creation_id", "reason", "created_at")
    )
    purchases = (
        Purchase.objects.filter(account__user_id=user.pk)
        .order_by("created_at", "id")
        .values(
            "id",
            "pack__name",
            "tokens",
            "amount",
            "currency",
            "status",
            "refunded_amount",
            "tokens_revoked",
            "created_at",
            "fulfilled_at",
        )
    )
    lots = (
        CreditLot.objects.filter(account__user_id=user.pk)
        .order_by("created_at", "id")
        .values("id", "category", "granted", "remaining", "frozen", "expires_at", "created_at")
    )
    return {"ledger": list(ledger), "purchases": list(purchases), "lots": list(lots)}


def export_data(user: AbstractBaseUser) -> dict:
    """What the zip's data.json holds: the account's own records and nobody else's."""
    names = {field.name for field in Creation._meta.get_fields()}
    creations = list(Creation.objects.filter(owner_id=user.pk).order_by("created_at", "pk"))
    confirmed = ConfirmedEmail.objects.filter(user_id=user.pk).first()
    comments = Comment.objects.filter(author_id=user.pk).order_by("created_at", "pk")
    return {
        "exported_at": timezone.now(),
        "profile": {
            "username": user.get_username(),
            "email": user.email,
            "email_confirmed": bool(confirmed and confirmed.address.lower() == user.email.lower()),
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "two_factor_enabled": twofactor.is_enabled(user),
        },
        "creations": [_creation_record(c, "seed" in names) for c in creations],
        "posts": [
            {
                "creation_id": c.pk,
                "caption": c.caption,
                "status": c.status,
                "published_at": c.published_at,
                "url": reverse("post", args=[c.pk]),
            }
            for c in creations
            if c.status in Creation.POSTS_TAB or c.status == Creation.Status.SCHEDULED
        ],
        "comments": [
            {
                "id": c.pk,
                "creation_id": c.creation_id,
                "text": c.text,
                "created_at": c.created_at,
                "deleted_at": c.deleted_at,
            }
            for c in comments
        ],
        "boards": library_selectors.boards_for_export(user),
        **export_money_records(user),
    }


def _write_zip(user: AbstractBaseUser, target) -> None:
    data = export_data(user)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2))
        for creation in Creation.objects.filter(owner_id=user.pk, purged_at__isnull=True):
            for which in ("media", "poster", "source_image"):
                field = getattr(creation, which)
                if not field.name:
                    continue
                try:
                    with default_storage.open(field.name, "rb") as stored:
                        with archive.open(_media_path(creation, which), "w") as member:
                            while chunk := stored.read(1 << 20):
                                member.write(chunk)
                except OSError:
                    log.warning("Export %s: file %s is missing", user.pk, field.name)


def export_build(*, export_id) -> str:
    """The job's work: build the zip in a temporary file, store it privately (the default
    storage, where drafts are: no URL serves it but the owner's download view), mark the
    export ready and tell its owner. Idempotent: a ready or failed export is left alone."""
    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.PENDING:
        return "gone"
    user = export.user
    try:
        with tempfile.TemporaryFile() as temporary:
            _write_zip(user, temporary)
            size = temporary.tell()
            temporary.seek(0)
            name = default_storage.save(f"exports/{user.pk}/{export.pk}.zip", File(temporary))
    except Exception:
        DataExport.objects.filter(pk=export.pk).update(status=DataExport.Status.FAILED)
        raise
    now = timezone.now()
    with transaction.atomic():
        updated = DataExport.objects.filter(pk=export.pk, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.READY,
            file=name,
            size=size,
            ready_at=now,
            expires_at=now + timedelta(days=settings.PHOENIX_EXPORT_DAYS),
        )
        if not updated:
            transaction.on_commit(lambda: delete_stored_files(name))
            return "gone"
        _tell_export_ready(export)
    return "ready"


def _tell_export_ready(export: DataExport) -> None:
    """The bell and an e-mail (to the confirmed address), in the caller's transaction."""
    link = settings.PHOENIX_SITE_URL + reverse("account_data")
    days = settings.PHOENIX_EXPORT_DAYS
    user = export.user
    notification_create(
        recipient_id=user.pk,
        kind=Notification.Kind.EXPORT_READY,
        creation=None,
        object_key=str(export.pk),
    )

    account_email_enqueue(
        to=email_address_of(user),
        subject="Your Phoenix data is ready to download",
        body=(
            f"Hello {user.get_username()},\n\nThe copy of your data you asked for is ready. "
            f"Download it from {link} (log in first) within {days} days; after that it is "
            "deleted."
        ),
    )


def exports_expire(*, now=None) -> int:
    """Remove the exports past their expiry (the file, then the row); how many."""
    now = now or timezone.now()
    expired = list(DataExport.objects.filter(expires_at__lte=now))
    for export in expired:
        delete_stored_files(export.file.name)
        export.delete()
    if expired:
        log.info("Removed %d expired data export(s)", len(expired))
    return len(expired)


# ---------------------------------------------------------------------------------------
# Deleting the account.


@dataclass(frozen=True)
class AccountDeleted:
    user_id: int
    forfeited: int


def account_delete(*, user: AbstractBaseUser) -> AccountDeleted:
    """Delete the account (the caller confirmed who is asking): at once, in one
    transaction, creations in flight are canceled (and refunded, through the one refund
    function), the balance is forfeited as a ledger row (so balance = sum of the ledger
    still holds), the account is deactivated with an unusable password (every session it
    has fails from its next request: Django checks each session against the password's
    hash, and an inactive user is nobody), its personal data is scrubbed, and two-factor,
    notifications and exports go. The user row stays as a tombstone, because the ledger's
    rows are money records and belong to its token account. Comments stay in their threads
    under the tombstone's anonymous name. After COMMIT a job purges every creation (files
    deleted, prompts and captions cleared); until then none is shown to anyone (their
    creator is inactive)."""
    with transaction.atomic(durable=True):
        lock_account(user)  # the account first, then the rest (tokens.services' order)
        row = User.objects.select_for_update().get(pk=user.pk)
        if DeletedAccount.objects.filter(user_id=row.pk).exists():
            return AccountDeleted(user_id=row.pk, forfeited=0)
        for creation in Creation.objects.filter(owner_id=row.pk, status__in=Creation.IN_FLIGHT):
            try:
                creation_cancel(creation=creation)
            except ActionRefused:
                pass  # it finished meanwhile: the purge takes it
        forfeit = account_forfeit(user=row, reason="account_deleted")
        exports = list(DataExport.objects.filter(user_id=row.pk).values_list("file", flat=True))
        DataExport.objects.filter(user_id=row.pk).delete()
        twofactor.two_factor_disable(user=row)
        ConfirmedEmail.objects.filter(user_id=row.pk).delete()
        Notification.objects.filter(recipient_id=row.pk).delete()
        NotificationPreferences.objects.filter(user_id=row.pk).delete()
        signals.account_erasing.send(sender=None, user_id=row.pk)
        # Inactive from here, its likes, comments and follows out of the public figures.
        member_deactivate(user_id=row.pk)
        row.username = f"deleted-{row.pk}-{os.urandom(4).hex()}"
        row.email = ""
        row.first_name = row.last_name = ""
        row.is_active = row.is_staff = row.is_superuser = False
        row.set_unusable_password()
        row.save()
        row.groups.clear()
        row.user_permissions.clear()
        amount = -forfeit.amount if forfeit else 0
        DeletedAccount.objects.create(user=row, forfeited=amount)
        transaction.on_commit(lambda: delete_stored_files(*exports))
        transaction.on_commit(lambda: account_purge_enqueue(row.pk))
    return AccountDeleted(user_id=row.pk, forfeited=amount)


def account_purge(*, user_id: int) -> int:
    """Purge every creation of a deleted account through the creations' own services
    (trash, then delete forever: files deleted, words cleared, rows kept). Safe to run
    again; the daily housekeeping runs it for any deleted account not purged yet."""
    purged = 0
    left = Creation.objects.filter(owner_id=user_id, purged_at__isnull=True)
    for creation in left.order_by("pk"):
        try:
            if creation.can_cancel:
                creation_cancel(creation=creation)
            if creation.can_trash:
                creation_trash(creation=creation)
            creation_purge(creation=creation)
            purged += 1
        except ActionRefused:
            log.warning("Creation %s of deleted account %s left for later", creation.pk, user_id)
    # The refund of a creation canceled here (still in flight at the deletion) is forfeited.
    account_forfeit(user=User(pk=user_id), reason="account_deleted")
    if not left.exists():
        DeletedAccount.objects.filter(user_id=user_id, purged_at__isnull=True).update(
            purged_at=timezone.now()
        )
    return purged


def deleted_accounts_purge() -> int:
    """Every deleted account whose purge has not finished (a lost job), purged now."""
    ids = DeletedAccount.objects.filter(purged_at__isnull=True).values_list("user_id", flat=True)
    return sum(account_purge(user_id=user_id) for user_id in list(ids))


def exports_resend_stuck(*, now=None) -> int:
    """Exports still pending an hour after they were asked for (their job was lost: Redis
    flushed, a worker killed) are queued again (the build is idempotent)."""
    now = now or timezone.now()
    stuck = list(
        DataExport.objects.filter(
            status=DataExport.Status.PENDING, created_at__lte=now - timedelta(hours=1)
        )
    )
    for export in stuck:
        export_enqueue(export)
    return len(stuck)
