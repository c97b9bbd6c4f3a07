"""Posts that teach: the prompt on the post page and feed cards unless its creator hides
it (when publishing or later), "Use this prompt" filling the composer, a copy-link button,
and Open Graph / Twitter tags with a public absolute image URL."""

import re

from django.test import Client
from django.urls import reverse

from creations import services
from creations.models import Creation


def owner_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_post_page_shows_the_prompt_use_it_and_copy_link(alice, make_creation):
    post = make_creation(owner=alice, status="published", prompt="A fox, at dusk & snow")
    html = Client().get(reverse("post", args=[post.id])).content.decode()
    assert "A fox, at dusk &amp; snow" in html
    use = re.search(r'href="([^"]+)">Use this prompt', html)[1]
    assert use.startswith("/create?type=image&amp;prompt=A%20fox%2C%20at%20dusk%20%26%20snow")
    # The link fills the create page's prompt.
    filled = owner_client(alice).get(use.replace("&amp;", "&")).content.decode()
    assert ">A fox, at dusk &amp; snow</textarea>" in filled
    assert f'data-copy="http://testserver/p/{post.id}"' in html


def test_the_feed_card_shows_the_prompt(alice, make_creation):
    make_creation(owner=alice, status="published", prompt="A lighthouse in fog")
    assert "A lighthouse in fog" in Client().get(reverse("feed")).content.decode()


def test_a_hidden_prompt_is_shown_to_nobody_else(alice, make_creation):
    post = make_creation(owner=alice, status="published", prompt="My secret recipe")
    response = owner_client(alice).post(
        reverse("creation_prompt_visibility", args=[post.id]), {"public": "0"}
    )
    assert response.status_code == 302
    assert Creation.objects.get(pk=post.pk).prompt_public is False
    for page in (reverse("post", args=[post.id]), reverse("feed")):
        html = Client().get(page).content.decode()
        assert "My secret recipe" not in html
        assert "Use this prompt" not in html
    own = owner_client(alice).get(reverse("post", args=[post.id])).content.decode()
    assert "The prompt is hidden from others." in own and "Show the prompt" in own


def test_the_creator_chooses_when_publishing(alice, make_creation):
    draft = make_creation(owner=alice, status="draft", prompt="Kept to myself")
    owner_client(alice).post(
        reverse("creation_publish", args=[draft.id]), {"caption": "Hi", "prompt_choice": "1"}
    )
    published = Creation.objects.get(pk=draft.pk)
    assert (published.status, published.prompt_public) == ("published", False)
    assert "Kept to myself" not in Client().get(reverse("post", args=[draft.id])).content.decode()


def test_someone_else_cannot_change_the_visibility(alice, bob, make_creation):
    post = make_creation(owner=alice, status="published")
    response = owner_client(bob).post(
        reverse("creation_prompt_visibility", args=[post.id]), {"public": "0"}
    )
    assert response.status_code == 404
    assert Creation.objects.get(pk=post.pk).prompt_public is True


def test_a_post_page_has_a_link_preview_with_a_public_absolute_image(
    alice, make_creation, settings
):
    settings.PHOENIX_SITE_URL = "https://phoenix.example"
    post = make_creation(owner=alice, status="published", prompt="A red kite", caption="Kite")
    html = Client().get(reverse("post", args=[post.id])).content.decode()
    assert '<meta property="og:title" content="Kite · alice">' in html
    assert 'og:description" content="Made on Phoenix from the prompt “A red kite”"' in html
    image = re.search(r'<meta property="og:image" content="([^"]+)">', html)[1]
    assert image == f"https://phoenix.example/media/creations/{post.id}/media"
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    # Public: an anonymous crawler gets the image.
    fetched = Client().get(image.removeprefix("https://phoenix.example"))
    assert fetched.status_code in (200, 302)
    services.creation_unpublish(creation=Creation.objects.get(pk=post.pk))
    assert Client().get(image.removeprefix("https://phoenix.example")).status_code == 404
