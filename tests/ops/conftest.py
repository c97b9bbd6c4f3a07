"""Creations in any state without running jobs, with the money kept consistent: every
creation is debited through tokens.services, and failures are refunded through the one
refund path unless a test asks for the bug it is about (a failure without a refund)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from creations import services
from creations.models import Creation
from tokens import services as tokens

User = get_user_model()

VIEW_PERMISSIONS = (
    "creations.view_creation",
    "tokens.view_tokenaccount",
    "tokens.view_ledgerentry",
)


def creation_in_state(
    *,
    owner,
    kind: str = "image",
    status: str = "pending",
    age: timedelta = timedelta(minutes=5),
    seconds: float = 10.0,
    error_code: str = "generation_failed",
    refunded: bool = True,
    prompt: str = "a fox in the snow",
    media: str = "creations/fixture.png",
    now=None,
) -> Creation:
    """A debited creation in `status`, created `age` ago; a finished or failed one ended
    `seconds` after it was created."""
    now = now or timezone.now()
    created_at = now - age
    ended_at = created_at + timedelta(seconds=seconds)
    with transaction.atomic():
        account = tokens.lock_account(owner)
        creation = Creation.objects.create(
            owner=owner,
            kind=kind,
            prompt=prompt,
            cost=settings.PHOENIX_COSTS[kind],
            created_at=created_at,
        )
        tokens.account_debit_locked(account, amount=creation.cost, creation=creation)
    rows = Creation.objects.filter(pk=creation.pk)
    if status != "pending":
        rows.update(status="processing", processing_at=created_at + timedelta(seconds=1))
    if status in ("draft", "published"):
        rows.update(status="draft", media=media, draft_at=ended_at, progress=100)
    if status == "published":
        rows.update(status="published", published_at=ended_at + timedelta(seconds=5))
    if status == "failed":
        if refunded:
            services.creation_fail(creation=creation, code=error_code)
            rows.update(failed_at=ended_at)
        else:
            rows.update(status="failed", error_code=error_code, failed_at=ended_at)
    creation.refresh_from_db()
    return creation


@pytest.fixture
def staff_user(db):
    """Returns a factory: a staff member with the view permissions plus `extra` ones."""
    counter = iter(range(1000))

    def make(*extra: str, username: str | None = None):
        user = User.objects.create_user(
            username=username or f"staff{next(counter)}",
            password="staff-password-123",
            is_staff=True,
        )
        for name in (*VIEW_PERMISSIONS, *extra):
            app_label, codename = name.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return user

    return make


@pytest.fixture
def refunder(staff_user):
    return staff_user("tokens.refund_creation", username="refunder")


@pytest.fixture
def adjuster(staff_user):
    return staff_user("tokens.adjust_balance", username="adjuster")


@pytest.fixture
def plain_staff(staff_user):
    return staff_user(username="plainstaff")


def balance_of(user) -> int:
    user.token_account.refresh_from_db()
    return user.token_account.balance
