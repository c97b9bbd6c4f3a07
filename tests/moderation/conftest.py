import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from profiles.services import creator_signup
from sharing import services as sharing

User = get_user_model()


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post_json(client: Client, url: str, body) -> object:
    return client.post(url, json.dumps(body), content_type="application/json")


def make_staff(username: str, *, moderate: bool = True):
    user = User.objects.create_user(
        username=username, password=f"{username}-pass-123", is_staff=True
    )
    if moderate:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="moderation", codename="moderate")
        )
    return User.objects.get(pk=user.pk)  # no cached permissions


@pytest.fixture
def moderator(db):
    return make_staff("mona")


@pytest.fixture
def second_moderator(db):
    return make_staff("otto")


@pytest.fixture
def plain_staff(db):
    return make_staff("stan", moderate=False)


@pytest.fixture
def zed(db):
    """A stranger to alice, whose name must never reach her."""
    return creator_signup(username="zedreporter", password="zed-password-123")


@pytest.fixture
def post(alice, make_creation):
    return make_creation(
        owner=alice, status="published", prompt="a fox at dusk", caption="My fox, at dusk"
    )


@pytest.fixture
def shared_comment(alice, bob, make_creation, django_capture_on_commit_callbacks):
    """A comment by alice on her draft shared with bob (who may see it, and report it)."""
    draft = make_creation(owner=alice, status="draft", prompt="a lighthouse")
    with django_capture_on_commit_callbacks(execute=True):
        sharing.share_with_person(creation=draft, owner=alice, username="bob")
    return sharing.comment_post(creation=draft, author=alice, text="Buy cheap pills here")


def report_url(post) -> str:
    return f"/api/posts/{post.id}/reports"
