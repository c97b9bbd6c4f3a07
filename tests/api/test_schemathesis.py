"""Schemathesis against a live Phoenix (the Procfile's gunicorn on the test database):
every operation of GET /api/schema, run by a creator logged in through the login form
(cookie and CSRF token), and again by a script with an API key (Bearer, no CSRF token),
with generated requests (that fit the schema, and that do not), and every answer checked
against the document (status code, content type, body, headers) and for server errors.
Path parameters are drawn from real objects in every state (and an unknown id).

Derandomised (the same cases every run); PHOENIX_FUZZ_CASES raises the number of
examples per operation and mode (default 25)."""

import copy
import os
import time
import uuid

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apikeys import services as apikeys
from community.models import PostComment
from creations.services import creation_trash
from profiles.services import creator_signup
from sharing import services as sharing
from tests.deploy.engines import start_web, stop_web
from tests.tokens.conftest import WEBHOOK_SECRET, ensure_packs
from tokens.fake_stripe import FakeStripe
from tokens.models import Purchase, TokenAccount, TokenPack
from tokens.services import account_grant

CASES = int(os.environ.get("PHOENIX_FUZZ_CASES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def log_in(base: str, username: str, password: str) -> requests.Session:
    """As a script would: the login form for a session, then the CSRF cookie's value in
    the X-CSRFToken header of every state-changing request."""
    session = requests.Session()
    session.get(f"{base}/accounts/login/").raise_for_status()
    answer = session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


def real_objects(owner, other, make_creation) -> dict[str, list[str]]:
    """Ids of real objects per path parameter: the creator's creations in every state (some
    twice, as the run moves them on), someone else's (which must read as not found) and one
    shared with the creator; shares of a draft, and comments on it by both of them."""
    states = ["pending", "processing", "draft", "draft", "published", "scheduled", "failed"]
    states += ["canceled", "taken_down", "draft", "published", "draft"]
    creations = [make_creation(owner=owner, status=status) for status in states]
    for creation in creations[-3:-1]:
        creation_trash(creation=creation)
    shared = creations[-1]
    theirs = make_creation(owner=other, status="draft")
    shared_with_owner = make_creation(owner=other, status="draft")
    shares = [
        sharing.share_with_person(creation=shared, owner=owner, username=other.username),
        sharing.share_link_create(creation=shared).share,
        sharing.share_with_person(creation=shared_with_owner, owner=other, username=owner.username),
    ]
    comments = [
        sharing.comment_post(creation=shared, author=owner, text="Nice light."),
        sharing.comment_post(creation=shared, author=other, text="Thanks!"),
        sharing.comment_post(creation=shared_with_owner, author=other, text="What do you think?"),
    ]
    # Purchases: the creator's in every status, and someone else's (not found).
    ensure_packs()
    pack = TokenPack.objects.get(slug="starter")
    purchases = [
        Purchase.objects.create(
            account=TokenAccount.objects.get(user=buyer),
            pack=pack,
            tokens=pack.tokens,
            amount=pack.price,
            currency=pack.currency,
            status=status,
            checkout_session_id=f"cs_test_fuzz_{buyer.username}_{status}",
        )
        for buyer in (owner, other)
        for status in Purchase.Status.values
    ]
    # API keys: the creator's (one active, one revoked) and someone else's.
    keys = [
        apikeys.key_create(user=user, name="fuzz", scopes=["read"]).key
        for user in (owner, owner, other)
    ]
    apikeys.key_revoke(key=keys[1])
    return {
        "key_id": [str(key.id) for key in keys],
        "purchase_id": [str(p.id) for p in purchases],
        "creation_id": [str(c.id) for c in [*creations, theirs, shared_with_owner]],
        "share_id": [str(share.id) for share in shares],
        "comment_id": [str(comment.id) for comment in comments],
        # The creation in a share's or comment's URL: theirs, mostly.
        "parent_id": [str(shared.id), str(shared_with_owner.id), str(creations[0].id)],
        # Community: creators to follow (oneself too: refused), comments on a public post.
        "username": [owner.username, other.username, "nobody-here"],
        "post_comment_id": [
            str(PostComment.objects.create(post=post, author=author, text="Lovely").id)
            for post in creations
            if post.is_public
            for author in (owner, other)
        ],
    }


def with_real_ids(doc: dict, ids: dict[str, list[str]]) -> dict:
    """The document with each path parameter drawn from the real ids (and an unknown one),
    so the operations reach real objects in every state, not only 404s. (Test-only: the
    served document names nobody's objects.)"""
    doc = copy.deepcopy(doc)
    for path, item in doc["paths"].items():
        nested = "{share_id}" in path or "{comment_id}" in path
        for op in item.values():
            for parameter in op.get("parameters", []):
                name = parameter["name"]
                if parameter["in"] == "path" and name in ids:
                    if nested and name == "creation_id":
                        name = "parent_id"
                    unknown = "nobody" if name == "username" else str(uuid.uuid4())
                    parameter["schema"] = {
                        **parameter["schema"],
                        "enum": [*ids[name], unknown],
                    }
    return doc


@pytest.mark.parametrize("auth", ["session", "bearer"])
def test_every_operation_answers_as_the_schema_says(auth, tmp_path, make_creation, figure):
    creator = creator_signup(username="fuzzer", password="fuzzer-password-123")
    account_grant(user=creator, amount=1_000_000, reason="schemathesis run")
    other = creator_signup(username="other", password="other-password-123")
    ids = real_objects(creator, other, make_creation)
    key = None
    if auth == "bearer":
        scopes = ["create", "read", "publish"]
        key = apikeys.key_create(user=creator, name="schemathesis", scopes=scopes).plaintext
    # The Procfile's web process (gunicorn), on the test database; no in-flight limit, so
    # creates are not refused with 429 after the first few.
    # Checkouts go to the fake Stripe, over HTTP as to Stripe.
    stripe = FakeStripe(webhook_secret=WEBHOOK_SECRET)
    web, base = start_web(
        tmp_path,
        PHOENIX_MAX_IN_FLIGHT="0",
        # The key's window is checked by tests/apikeys; here it must not cut the run short.
        PHOENIX_API_KEY_REQUESTS="1000000",
        STRIPE_API_BASE=stripe.start(),
        STRIPE_SECRET_KEY="sk_test_fuzz",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    try:
        fuzz(base, ids, figure, key=key)
    finally:
        stop_web(web)
        stripe.stop()


def fuzz(base: str, ids: dict[str, list[str]], figure, *, key: str | None = None) -> None:
    if key is None:
        session = log_in(base, "fuzzer", "fuzzer-password-123")
        csrf = {"X-CSRFToken": session.cookies["csrftoken"]}
    else:
        # As a script: no cookie, no CSRF token, the key on every request.
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        csrf = {}
    served = session.get(f"{base}/api/schema")
    served.raise_for_status()
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    schema = schemathesis.openapi.from_dict(with_real_ids(served.json(), ids), config=config)

    operations = examples = 0
    statuses: dict[int, int] = {}
    failures: list[str] = []
    waited = [0.0]
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        modes = [GenerationMode.POSITIVE]
        if operation.definition.raw.get("parameters") or operation.body:
            modes.append(GenerationMode.NEGATIVE)  # with something in the request to break
        for mode in modes:

            @hypothesis_settings(
                max_examples=CASES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                nonlocal examples
                headers = csrf if csrf and case.method.upper() in UNSAFE else None
                sent = time.monotonic()
                response = case.call(base_url=base, session=session, headers=headers)
                waited[0] += time.monotonic() - sent
                examples += 1
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except (AssertionError, schemathesis.errors.FailureGroup) as failure:
                    if len(failures) < 30:
                        failures.append(f"{case.method} {case.formatted_path}: {failure}")

            run()
    seconds = time.monotonic() - started
    session.close()
    figure(
        f"schemathesis ({'API key' if key else 'session'}): {operations} operations, "
        f"{examples} examples, "
        f"{len(failures)} failures in {seconds:.0f}s ({waited[0]:.0f}s waiting for answers; "
        f"statuses {dict(sorted(statuses.items()))})"
    )
    assert not failures, "\n\n".join(failures)
    assert operations == len(
        [op for item in served.json()["paths"].values() for op in item.values()]
    )
