"""Every operation of the generated OpenAPI document, from the document itself: an
anonymous caller is refused (401, today's JSON body) wherever a login is needed, and a
cookie request without its CSRF token is refused (Django's 403) for every state-changing
one — nothing changed either way. A newly declared endpoint is in these lists at once."""

import json
import uuid

import pytest
from django.test import Client

from .conftest import api_operations, database_fingerprint

OPERATIONS = api_operations()
UNSAFE = {"post", "put", "patch", "delete"}


def url_of(operation, creation_id) -> str:
    values = {name: uuid.uuid4() for _, name in operation.route.parameters}
    if "creation_id" in values:
        values["creation_id"] = creation_id
    return operation.route.fill(values)


def test_the_document_lists_every_json_operation():
    ids = {operation.operation_id for operation in OPERATIONS}
    assert {"generate_creation", "creation_status", "api_schema", "api_token_packs"} <= ids
    assert len(ids) == len(OPERATIONS), "operation ids must be unique"


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_anonymous_is_refused_with_the_json_401_wherever_a_login_is_needed(
    operation, alice, make_creation
):
    draft = make_creation(owner=alice, status="draft")
    before = database_fingerprint()
    response = Client().generic(
        operation.method.upper(),
        url_of(operation, draft.id),
        json.dumps({"type": "image", "prompt": "x"}),
        content_type="application/json",
    )
    if operation.needs_login:
        assert response.status_code == 401, (str(operation), response.status_code)
        assert response.json() == {
            "error": "authentication_required",
            "message": "Log in to do this.",
        }
    elif operation.route.parameters:
        # A public operation on an object (a post): a draft's id reads as an unknown one.
        assert response.status_code in (200, 404), (str(operation), response.status_code)
        if response.status_code == 404:
            assert response.json()["error"] == "not_found"
    else:
        assert response.status_code == 200, (str(operation), response.status_code)
    assert database_fingerprint() == before


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op.method in UNSAFE], ids=str)
def test_a_cookie_request_without_its_csrf_token_is_refused(operation, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    before = database_fingerprint()
    response = client.generic(
        operation.method.upper(),
        url_of(operation, draft.id),
        json.dumps({"type": "image", "prompt": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 403, (str(operation), response.status_code)
    assert b"CSRF" in response.content
    assert database_fingerprint() == before
