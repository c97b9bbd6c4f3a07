"""Sharing a draft by name and through a link, the owner's panel, revoking, expiry, and
the "Shared with me" tab."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from sharing import services
from sharing.models import LinkOpening, Share, hash_token
from tests.pages import same_page_text

from .conftest import client_for


def shared_page(creation) -> str:
    return f"/creations/{creation.id}/shared"


def media(creation) -> str:
    return f"/media/creations/{creation.id}/media"


def test_the_owner_shares_a_draft_by_name_from_the_panel(draft, alice, bob):
    owner = client_for(alice)
    assert client_for(bob).get(shared_page(draft)).status_code == 404

    response = owner.post(f"/creations/{draft.id}/sharing", {"username": "bob"})

    assert response.status_code == 302
    share = Share.objects.get(creation=draft)
    assert (share.kind, share.recipient, share.revoked_at) == ("person", bob, None)
    panel = owner.get(f"/creations/{draft.id}/sharing").content.decode()
    assert "Who has access" in panel and "bob" in panel
    viewer = client_for(bob)
    page = viewer.get(shared_page(draft))
    assert page.status_code == 200
    assert draft.prompt in page.content.decode()
    assert "A draft shared by alice" in page.content.decode()
    assert viewer.get(media(draft)).status_code == 200


@pytest.mark.parametrize(
    ("username", "code", "status"),
    [
        ("nobody", "unknown_user", 422),
        ("alice", "own_draft", 422),
        ("", "username_required", 400),
        ("   ", "username_required", 400),
        ("dora", "unknown_user", 422),  # deactivated
    ],
)
def test_sharing_with_someone_who_cannot_have_it_is_refused_and_changes_nothing(
    username, code, status, draft, alice
):
    get_user_model().objects.create_user(username="dora", password="x" * 12, is_active=False)
    owner = client_for(alice)
    response = owner.post(
        f"/creations/{draft.id}/sharing", {"username": username}, headers={"HX-Request": "true"}
    )
    assert response.status_code in (status, 422)
    assert "form-error" in response.content.decode()
    with pytest.raises(services.SharingRefused) as refusal:
        services.share_with_person(creation=draft, owner=alice, username=username)
    assert (refusal.value.code, refusal.value.status) == (code, status)
    assert not Share.objects.exists()


def test_sharing_twice_with_the_same_person_is_refused(shared_with_bob, draft, alice):
    response = client_for(alice).post(f"/creations/{draft.id}/sharing", {"username": "bob"})
    assert response.status_code == 422
    assert "already shared with bob" in response.content.decode()
    assert Share.objects.count() == 1


@pytest.mark.parametrize("status", ["pending", "published", "failed", "scheduled"])
def test_only_a_draft_can_be_shared(status, alice, bob, make_creation):
    creation = make_creation(owner=alice, status=status)
    with pytest.raises(services.SharingRefused) as refusal:
        services.share_with_person(creation=creation, owner=alice, username="bob")
    assert refusal.value.code == "not_shareable"
    with pytest.raises(services.SharingRefused):
        services.share_link_create(creation=creation)
    assert not Share.objects.exists()


def test_someone_elses_panel_is_the_same_404_as_an_unknown_id(draft, bob):
    other = client_for(bob)
    unknown = other.get("/creations/00000000-0000-0000-0000-000000000000/sharing")
    theirs = other.get(f"/creations/{draft.id}/sharing")
    assert theirs.status_code == unknown.status_code == 404
    assert same_page_text(theirs, path=f"/creations/{draft.id}/sharing") == same_page_text(
        unknown, path="/creations/00000000-0000-0000-0000-000000000000/sharing"
    )
    assert other.post(f"/creations/{draft.id}/sharing", {"username": "bob"}).status_code == 404
    assert not Share.objects.exists()


def test_revoking_a_person_takes_effect_on_their_next_request(shared_with_bob, draft, alice, bob):
    viewer = client_for(bob)
    assert viewer.get(shared_page(draft)).status_code == 200
    assert viewer.get(media(draft)).status_code == 200

    response = client_for(alice).post(
        f"/creations/{draft.id}/sharing/{shared_with_bob.id}/revoke", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "bob no longer has access" in response.content.decode()
    assert viewer.get(shared_page(draft)).status_code == 404
    assert viewer.get(media(draft)).status_code == 404
    assert viewer.get(f"/creations/{draft.id}/comments").status_code == 404
    shared_with_bob.refresh_from_db()
    assert shared_with_bob.revoked_reason == "owner"


def test_a_link_opens_the_draft_for_anyone_signed_in_and_records_who(draft, alice, carol):
    new = services.share_link_create(creation=draft)
    assert len(new.token) >= 43  # secrets.token_urlsafe(32)
    # Only the hash is stored.
    assert new.share.token_hash == hash_token(new.token) != new.token
    assert not Share.objects.filter(token_hash=new.token).exists()
    viewer = client_for(carol)
    assert viewer.get(shared_page(draft)).status_code == 404

    opened = viewer.get(f"/s/{new.token}")

    assert opened.status_code == 302
    assert opened["Location"] == shared_page(draft)
    assert viewer.get(shared_page(draft)).status_code == 200
    assert viewer.get(media(draft)).status_code == 200
    assert LinkOpening.objects.filter(share=new.share, user=carol).count() == 1
    viewer.get(f"/s/{new.token}")
    assert LinkOpening.objects.filter(share=new.share).count() == 1


def test_an_anonymous_visitor_logs_in_and_comes_back_to_the_link(draft, carol):
    new = services.share_link_create(creation=draft)
    visitor = client_for()
    response = visitor.get(f"/s/{new.token}")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/s/")
    logged_in = visitor.post(
        response["Location"], {"username": "carol", "password": "carol-password-123"}
    )
    assert logged_in["Location"] == f"/s/{new.token}"
    assert visitor.get(logged_in["Location"])["Location"] == shared_page(draft)
    assert visitor.get(shared_page(draft)).status_code == 200


def test_revoking_a_link_ends_the_access_of_everyone_who_opened_it(draft, alice, carol):
    new = services.share_link_create(creation=draft)
    viewer = client_for(carol)
    viewer.get(f"/s/{new.token}")
    assert viewer.get(shared_page(draft)).status_code == 200

    client_for(alice).post(f"/creations/{draft.id}/sharing/{new.share.id}/revoke")

    assert viewer.get(shared_page(draft)).status_code == 404
    assert viewer.get(media(draft)).status_code == 404
    assert viewer.get(f"/s/{new.token}").status_code == 404
    assert client_for(alice).get(f"/s/{new.token}").status_code == 404


def test_an_expired_link_opens_nothing_and_ends_the_access_it_gave(draft, carol, bob):
    new = services.share_link_create(creation=draft, expires_at=timezone.now() + timedelta(hours=1))
    viewer = client_for(carol)
    viewer.get(f"/s/{new.token}")
    assert viewer.get(shared_page(draft)).status_code == 200

    Share.objects.filter(pk=new.share.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert viewer.get(shared_page(draft)).status_code == 404
    assert viewer.get(media(draft)).status_code == 404
    assert client_for(bob).get(f"/s/{new.token}").status_code == 404
    assert not LinkOpening.objects.filter(user=bob).exists()


def test_an_unknown_link_is_a_404(draft, carol):
    services.share_link_create(creation=draft)
    viewer = client_for(carol)
    for token in ("x", "A" * 43, "%00"):
        assert viewer.get(f"/s/{token}").status_code == 404
    assert not LinkOpening.objects.exists()


def test_the_panel_makes_a_link_with_an_expiry_and_shows_its_url_once(draft, alice):
    owner = client_for(alice)
    response = owner.post(
        f"/creations/{draft.id}/sharing",
        {"link": "1", "expires_in": "7"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 201
    share = Share.objects.get(kind="link")
    assert share.expires_at - timezone.now() > timedelta(days=6, hours=23)
    page = response.content.decode()
    assert "http://testserver/s/" in page
    token = page.split("http://testserver/s/")[1].split('"')[0]
    assert hash_token(token) == share.token_hash
    assert token not in owner.get(f"/creations/{draft.id}/sharing").content.decode()
    bad = owner.post(f"/creations/{draft.id}/sharing", {"link": "1", "expires_in": "9999"})
    assert bad.status_code == 400
    assert Share.objects.count() == 1


def test_shared_with_me_lists_the_drafts_a_share_reaches(draft, alice, bob, carol, make_creation):
    other = make_creation(owner=carol, status="draft", prompt="carol's secret garden")
    services.share_with_person(creation=draft, owner=alice, username="bob")
    link = services.share_link_create(creation=other)
    viewer = client_for(bob)
    assert carol.username not in viewer.get("/soho/bob?tab=shared").content.decode()
    viewer.get(f"/s/{link.token}")
    unshared = make_creation(owner=alice, status="draft", prompt="never shared sketch")

    page = viewer.get("/soho/bob?tab=shared").content.decode()

    assert "Shared with me" in page
    assert draft.prompt in page and "secret garden" in page
    assert unshared.prompt not in page
    assert page.index("secret garden") < page.index(draft.prompt)  # newest share first
    # Nobody else sees bob's tab: they get his posts.
    assert draft.prompt not in client_for(alice).get("/soho/bob?tab=shared").content.decode()
    assert draft.prompt not in client_for().get("/soho/bob?tab=shared").content.decode()
    services.share_revoke(share=link.share)
    assert "secret garden" not in viewer.get("/soho/bob?tab=shared").content.decode()


def test_the_owners_draft_card_has_a_share_control_only_while_a_draft(draft, alice, make_creation):
    published = make_creation(owner=alice, status="published")
    owner = client_for(alice)
    card = owner.get(f"/creations/{draft.id}/card").content.decode()
    assert f'href="/creations/{draft.id}/sharing"' in card
    assert "/sharing" not in owner.get(f"/creations/{published.id}/card").content.decode()


def test_a_deactivated_owners_draft_is_no_longer_shared(shared_with_bob, draft, alice, bob):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    viewer = client_for(bob)
    assert viewer.get(shared_page(draft)).status_code == 404
    assert viewer.get(media(draft)).status_code == 404
