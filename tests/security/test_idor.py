"""The IDOR matrix: every URL that addresses someone's object, asked for by another creator
and by an anonymous visitor, with every method, in every state of the object.

The list of URLs comes from the URL configuration itself. A new URL with a parameter is
covered as soon as it exists: either its parameters have a filler below (and the matrix
runs), or it is declared public by design with a reason — otherwise its test fails.
"""

import json
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.shortcuts import resolve_url
from django.test import Client
from django.utils import timezone

from accounts.models import DataExport
from apikeys import services as apikeys
from community.models import PostComment
from creations import services
from creations.models import Creation
from library.models import Board, BoardItem
from moderation.models import Action
from notifications.models import Notification
from profiles.services import creator_signup
from sharing import services as sharing
from sharing.models import Comment, Share
from tests.tokens.conftest import ensure_packs
from tokens.models import Purchase, TokenPack
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import new_secret as webhook_secret

from .conftest import (
    Route,
    api_operations,
    database_fingerprint,
    project_routes,
    staff_only_reason,
)

# Which object each parameter addresses: the owner's creation (or one of its shares, one of
# its comments, one of its links' token), or a fixed set of values.
FILLERS = {
    ("uuid", "creation_id"): "creation",
    ("uuid", "share_id"): "share",
    ("uuid", "comment_id"): "comment",
    ("uuid", "post_comment_id"): "post_comment",
    ("str", "token"): "token",
    ("uuid", "notification_id"): "notification",
    ("uuid", "purchase_id"): "purchase",
    ("uuid", "batch_id"): "batch",
    ("str", "which"): ("media", "poster"),
    ("uuid", "export_id"): "export",
    ("uuid", "endpoint_id"): "webhook_endpoint",
    ("uuid", "delivery_id"): "webhook_delivery",
    # The owner's board holding the creation, and a link to that board.
    ("uuid", "board_id"): "board",
    ("uuid", "link_id"): "board_link",
    ("uuid", "key_id"): "apikey",
    ("uuid", "action_id"): "action",
}
PUBLIC_BY_DESIGN = {
    "profile": (
        "a creator's public page; its drafts tab is owner-only, checked by "
        "test_someone_elses_drafts_tab_shows_no_draft"
    ),
    "password_reset_confirm": "guarded by a signed one-time token, not by a login",
    "confirm_email": (
        "guarded by a signed token naming the account and its address, not by a login; "
        "tests/profiles/test_signup_email.py checks tampered, expired and moved links"
    ),
    "email_change_confirm": (
        "guarded by a signed token naming the account, its address then and the new one, not "
        "by a login; tests/accounts/test_email_change.py checks tampered and used links"
    ),
    "follow_toggle": (
        "following names a creator's public page, not an object of theirs: open to everyone "
        "signed in; tests/community/test_follows.py checks oneself and unknown names"
    ),
    "api_user_follow": "as follow_toggle (the same write, as JSON)",
    "report_post": (
        "addresses a post someone else made (reporting one's own is refused); "
        "tests/moderation/test_reports.py checks only a post the reporter can see is taken"
    ),
    "report_comment": (
        "addresses a comment someone else wrote, on a draft shared with the reporter; "
        "tests/moderation/test_reports.py checks the sharing rule and one's own comments"
    ),
    "api_report_post": "as report_post",
    "api_report_comment": "as report_comment",
    "share_decline": (
        "acts on the caller's own access only (the share naming them, the links they "
        "opened): whoever a draft does not reach gets 404, its owner too; "
        "tests/sharing/test_decline_block_limits.py"
    ),
    "person_block": (
        "a username names whom the caller blocks: it writes the caller's own block list "
        "only; tests/sharing/test_decline_block_limits.py"
    ),
    "person_unblock": "removes from the caller's own block list only (as person_block)",
    "share_link": (
        "a link is a credential for anyone signed in who holds it (that is its purpose); "
        "revoked, expired and unknown links are checked by tests/security/test_sharing_matrix.py"
    ),
}
# Media of a published creation is public, as the post that shows it is (and its page).
# So are its likes, comments and its JSON (community): anyone signed in may like and comment
# on a public post; a post that is not public answers like an unknown id.
PUBLIC_ONCE_PUBLISHED = {
    "creation_media",
    "post",
    "post_like_toggle",
    "post_comment_create",
    "post_comment_delete",
    "api_post",
    "api_post_like",
    "api_post_comments",
    "api_post_comment",
}
METHODS = ["get", "head", "post", "put", "patch", "delete", "options"]
STATES = ["pending", "processing", "draft", "published", "failed", "canceled", "taken_down"]
OBJECT_ROUTES = [route for route in project_routes() if route.parameters]
# The JSON API's methods per route, from the generated OpenAPI document.
DOCUMENTED: dict[str, set[str]] = {}
for _operation in api_operations():
    DOCUMENTED.setdefault(_operation.route.route, set()).add(_operation.method)


def lifecycle_states(owner, make_creation) -> list:
    """States that are not a status: scheduled, and in the trash (a draft, a post), where
    unschedule, restore and purge would succeed for the owner."""
    in_an_hour = timezone.now() + timedelta(hours=1)
    return [
        services.creation_publish(
            creation=make_creation(owner=owner, status="draft"), publish_at=in_an_hour
        ),
        services.creation_trash(creation=make_creation(owner=owner, status="draft")),
        services.creation_trash(creation=make_creation(owner=owner, status="published")),
    ]


def urls_for(route: Route, objects: dict) -> list[str]:
    """The route's URLs for one creation's `objects` (see objects_of)."""
    urls = [{}]
    for parameter in route.parameters:
        filler = FILLERS[parameter]
        values = [objects[filler]] if isinstance(filler, str) else list(filler)
        urls = [{**url, parameter[1]: value} for url in urls for value in values]
    return [route.fill(values) for values in urls]


def unknown_objects() -> dict:
    return {
        "creation": uuid.uuid4(),
        "share": uuid.uuid4(),
        "comment": uuid.uuid4(),
        "post_comment": uuid.uuid4(),
        "token": "unknown-token",
        "notification": uuid.uuid4(),
        "export": uuid.uuid4(),
        "purchase": uuid.uuid4(),
        "batch": uuid.uuid4(),
        "webhook_endpoint": uuid.uuid4(),
        "webhook_delivery": uuid.uuid4(),
        "board": uuid.uuid4(),
        "board_link": uuid.uuid4(),
        "apikey": uuid.uuid4(),
        "action": uuid.uuid4(),
    }


def objects_of(creation, third_party) -> dict:
    """The creation and, whatever its state, a share with a third creator, a link and a
    comment of its owner's: rows written directly (the services share drafts only), so the
    matrix also proves that the checks ask for a draft."""
    share = Share.objects.create(creation=creation, kind="person", recipient=third_party)
    Share.objects.create(creation=creation, kind="link", token_hash=uuid.uuid4().hex)
    comment = Comment.objects.create(creation=creation, author=creation.owner, text="note")
    post_comment = PostComment.objects.create(post=creation, author=creation.owner, text="note")
    # The owner's notification about it (opening one marks it read).
    notification = Notification.objects.create(
        recipient=creation.owner,
        kind="creation_finished",
        creation=creation,
        object_key=str(creation.pk),
        text="Ready",
    )
    # The owner's data export, ready to download.
    name = default_storage.save(f"exports/{creation.owner_id}/x.zip", ContentFile(b"zip"))
    export = DataExport.objects.create(
        user=creation.owner,
        status="ready",
        file=name,
        expires_at=timezone.now() + timedelta(days=1),
    )
    # A purchase of the owner's, in a state that follows the creation's along the list.
    ensure_packs()  # the migration's packs (a transactional test's flush removes them)
    pack = TokenPack.objects.get(slug="starter")
    statuses = Purchase.Status.values
    purchase = Purchase.objects.create(
        account=creation.owner.token_account,
        pack=pack,
        tokens=pack.tokens,
        amount=pack.price,
        currency=pack.currency,
        status=statuses[Purchase.objects.count() % len(statuses)],
        checkout_session_id=f"cs_test_{uuid.uuid4().hex}",
    )
    # A moderation decision about the owner, concerning it (its page, and its appeal).
    action = Action.objects.create(
        kind="warn",
        actor=moderator(),
        subject=creation.owner,
        reason="Mind the rules.",
        target="post",
        post=creation,
    )
    # Every creation an item of a batch of its own (GET /api/batches/<id>).
    batch_id = uuid.uuid4()
    Creation.objects.filter(pk=creation.pk).update(batch_id=batch_id)
    # A webhook endpoint of the owner's, turned off (so "turn on" has something to do), and
    # a finished delivery to it (so "resend" has).
    endpoint = WebhookEndpoint.objects.create(
        owner=creation.owner,
        url="https://hooks.example.com/in",
        events=["creation.finished"],
        secret=webhook_secret(),
        disabled_at=timezone.now(),
        disabled_reason="gone",
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        webhook_id=f"msg_{uuid.uuid4().hex}",
        event_type="creation.finished",
        payload="{}",
        state="failed",
    )
    # A board of the owner's holding it, shared by a link.
    board = Board.objects.create(owner=creation.owner, name=f"Board {creation.pk}")
    BoardItem.objects.create(board=board, creation=creation)
    board_link = Share.objects.create(board=board, kind="link", token_hash=uuid.uuid4().hex)
    return {
        "webhook_endpoint": endpoint.id,
        "webhook_delivery": delivery.id,
        "creation": creation.id,
        "share": share.id,
        "comment": comment.id,
        "post_comment": post_comment.id,
        "token": "x",
        "notification": notification.id,
        "export": export.id,
        "purchase": purchase.id,
        "batch": batch_id,
        "board": board.pk,
        "board_link": board_link.pk,
        # An API key of the owner's (revoking it is the owner's alone).
        "apikey": apikeys.key_create(user=creation.owner, name="k", scopes=["read"]).key.pk,
        "action": action.id,
    }


def moderator():
    user, _ = get_user_model().objects.get_or_create(username="idor-moderator", is_staff=True)
    return user


def is_refusal(response) -> bool:
    """404, 401, or a redirect to the login page — nothing that tells the object exists."""
    if response.status_code in (401, 404):
        return True
    login = resolve_url(settings.LOGIN_URL)
    return response.status_code == 302 and response["Location"].startswith(login)


def unhandled(routes: list[Route]) -> list[str]:
    problems = []
    for route in routes:
        if route.is_regex:
            problems.append(f"{route}: a regex route; give it path() converters")
        elif route.name not in PUBLIC_BY_DESIGN:
            unknown = [p for p in route.parameters if p not in FILLERS]
            if unknown:
                problems.append(f"{route}: no filler for {unknown}")
    return problems


def test_every_url_with_a_parameter_is_in_the_matrix_or_declared():
    problems = unhandled(OBJECT_ROUTES)
    assert not problems, (
        "URLs the IDOR matrix cannot check — add a filler (which object, whose?) to "
        "FILLERS or declare the URL in PUBLIC_BY_DESIGN with a reason:\n" + "\n".join(problems)
    )


def test_every_documented_operation_on_an_object_is_in_the_matrix():
    """From the OpenAPI document: an operation with an id in its path is checked below, or
    declared public by design with its reason (reporting someone else's post)."""
    matrix = {route.route for route in OBJECT_ROUTES if route.name not in PUBLIC_BY_DESIGN}
    declared = {route.route for route in OBJECT_ROUTES if route.name in PUBLIC_BY_DESIGN}
    with_ids = [op for op in api_operations() if op.route.parameters]
    assert with_ids, "the document lists no operation on an object"
    assert [str(op) for op in with_ids if op.route.route not in matrix | declared] == []


def test_a_new_url_with_an_unknown_parameter_would_not_slip_through():
    newcomer = Route("invoices/<int:invoice_id>", "invoice", (("int", "invoice_id"),), False)
    assert unhandled([*OBJECT_ROUTES, newcomer]) == [
        "invoices/<int:invoice_id>: no filler for [('int', 'invoice_id')]"
    ]


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=str)
def test_another_creator_and_an_anonymous_visitor_get_nothing(
    route, alice, bob, make_creation, figure
):
    assert staff_only_reason(route) is None
    if route.name in PUBLIC_BY_DESIGN:
        pytest.skip(PUBLIC_BY_DESIGN[route.name])
    owner = Client()
    owner.force_login(alice)
    other = Client()
    other.force_login(bob)
    visitors = {"another creator": other, "anonymous": Client()}

    # Which methods the view takes: the owner's answer for an id that does not exist.
    accepted = [
        method
        for method in METHODS
        if getattr(owner, method)(urls_for(route, unknown_objects())[0]).status_code != 405
    ]
    assert accepted, f"{route} takes no method at all"
    if route.route in DOCUMENTED:
        assert set(accepted) == DOCUMENTED[route.route], "the document and the view disagree"

    creations = [make_creation(owner=alice, status=state, kind="video") for state in STATES]
    creations.append(make_creation(owner=alice, status="draft", kind="image"))
    creations += lifecycle_states(alice, make_creation)
    # A draft shared, by name and by a link, with a third creator — not with the visitor.
    carol = creator_signup(username="carol", password="carol-password-123")
    shared = make_creation(owner=alice, status="draft", kind="video")
    sharing.share_with_person(creation=shared, owner=alice, username="carol")
    sharing.share_link_create(creation=shared)
    creations.append(shared)
    objects = {creation.id: objects_of(creation, carol) for creation in creations[:-1]}
    objects[shared.id] = {
        **objects_of(shared, creator_signup(username="dora", password="dora-password-123")),
        "share": Share.objects.get(creation=shared, recipient=carol).id,
    }
    before = database_fingerprint()
    asked = 0
    for creation in creations:
        if route.name in PUBLIC_ONCE_PUBLISHED and creation.is_public:
            continue
        for url in urls_for(route, objects[creation.id]):
            for who, client in visitors.items():
                for method in METHODS:
                    response = getattr(client, method)(url)
                    asked += 1
                    if method in accepted:
                        assert is_refusal(response), (
                            f"{who} {method.upper()} {url} ({creation.status}) "
                            f"-> {response.status_code}"
                        )
                    else:
                        assert response.status_code in (405, 404, 401), (who, method, url)
                    assert database_fingerprint() == before, f"{who} {method.upper()} {url}"

    # The control: the owner does reach these very URLs, so the refusals above mean something.
    reached = {
        getattr(owner, method)(url).status_code
        for creation in creations
        for url in urls_for(route, objects[creation.id])
        for method in accepted
    }
    assert reached - {404, 405}, f"even the owner never reached {route}: {reached}"
    figure(
        f"{route}: {asked} requests by another creator or anonymous "
        f"({len(accepted)} methods taken, {len(creations)} states): all refused, 0 changes"
    )


@pytest.mark.parametrize("action", services.BULK_ACTIONS)
def test_a_bulk_action_on_someone_elses_ids_finds_none_of_them(action, alice, bob, make_creation):
    """Bulk takes ids in its body, not its URL, so the matrix above does not see it."""
    creations = [make_creation(owner=alice, status=state) for state in STATES]
    creations += lifecycle_states(alice, make_creation)
    body = json.dumps({"action": action, "ids": [str(c.id) for c in creations], "caption": "x"})
    other = Client()
    other.force_login(bob)
    before = database_fingerprint()

    response = other.post("/api/creations/bulk", body, content_type="application/json")
    anonymous = Client().post("/api/creations/bulk", body, content_type="application/json")

    assert response.status_code == 200
    assert set(response.json()["results"].values()) == {"not_found"}
    assert anonymous.status_code == 401
    assert database_fingerprint() == before
    # The control: the owner's same request does something.
    owner = Client()
    owner.force_login(alice)
    answer = owner.post("/api/creations/bulk", body, content_type="application/json")
    assert "ok" in answer.json()["results"].values()


def test_someone_elses_drafts_tab_shows_no_draft(alice, bob, make_creation):
    draft = make_creation(owner=alice, status="draft", prompt="a secret lighthouse draft")
    published = make_creation(owner=alice, status="published", prompt="a public lighthouse")
    other = Client()
    other.force_login(bob)
    for client in (other, Client()):
        page = client.get(f"/soho/{alice.username}?tab=drafts").content.decode()
        assert draft.prompt not in page
        assert str(draft.id) not in page
        assert published.prompt in page  # they get the posts tab instead
    owner = Client()
    owner.force_login(alice)
    assert draft.prompt in owner.get(f"/soho/{alice.username}?tab=drafts").content.decode()


STAFF_URLS = [
    "/admin/",
    "/admin/creations/creation/",
    "/admin/tokens/tokenaccount/",
    "/admin/tokens/ledgerentry/",
    "/admin/auth/user/",
    "/admin/django_rq/dashboard/",
    "/admin/django_rq/dashboard/queues/0/",
    "/admin/django_rq/dashboard/stats.json/",
]


@pytest.mark.parametrize("url", STAFF_URLS)
def test_staff_pages_send_non_staff_to_the_admin_login(url, alice, staff):
    creator = Client()
    creator.force_login(alice)
    for client in (creator, Client()):
        response = client.get(url)
        if response.status_code in (401, 403):  # django-rq's JSON stats answer this way
            continue
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith("/admin/login/")
    # The control: staff do get in.
    admin = Client()
    admin.force_login(staff)
    assert admin.get(url).status_code == 200
