import json

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from creations import ranking
from creations.models import Creation
from profiles.services import creator_signup


@pytest.fixture
def carol(db):
    return creator_signup(username="carol", password="carol-password-123")


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post_json(client: Client, url: str, body=None, method: str = "post"):
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def post(alice, make_creation):
    return make_creation(
        owner=alice, status="published", prompt="a lighthouse at dawn", caption="Morning glow"
    )


def make_people(count: int, prefix: str = "fan") -> list:
    return [
        creator_signup(username=f"{prefix}{n}", password=f"{prefix}-password-{n}")
        for n in range(count)
    ]


def bulk_posts(owner, count: int, *, prompt: str = "bulk post") -> list[Creation]:
    """`count` public posts written in one INSERT (a page's query count is what is
    measured, not how they came to be)."""
    now = timezone.now()
    rows = [
        Creation(
            owner=owner,
            kind="image",
            prompt=f"{prompt} {n}",
            status=Creation.Status.PUBLISHED,
            cost=1,
            media=f"creations/bulk-{n}.png",
            width=64,
            height=64,
            published_at=now - timezone.timedelta(seconds=n),
            first_published_at=now - timezone.timedelta(seconds=n),
            explore_score=ranking.exponent(now - timezone.timedelta(seconds=n)),
        )
        for n in range(count)
    ]
    return Creation.objects.bulk_create(rows)


def like_rows(post_id) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM community_postlike WHERE post_id = %s", [post_id])
        return cursor.fetchone()[0]
