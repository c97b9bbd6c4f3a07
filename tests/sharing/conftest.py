import json

import pytest
from django.test import Client

from profiles.services import creator_signup
from sharing import services


@pytest.fixture
def carol(db):
    return creator_signup(username="carol", password="carol-password-123")


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post_json(client: Client, url: str, body) -> object:
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def draft(alice, make_creation):
    return make_creation(owner=alice, status="draft", prompt="a lighthouse at dawn")


@pytest.fixture
def shared_with_bob(draft, alice, bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.share_with_person(creation=draft, owner=alice, username="bob")
