"""phoenix.template_urls: the templates' {% url %} remembers what it reversed, and gives
what Django's tag gives, whatever the arguments, the script prefix or the URLconf."""

import uuid

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import NoReverseMatch, reverse, set_script_prefix

from phoenix import template_urls


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_it_gives_the_urls_django_gives(alice):
    code = uuid.uuid4()
    page = render(
        "{% url 'feed' %} {% url 'profile' name %} {% url 'creation_card' code %} {% url 'feed' %}",
        name=alice.username,
        code=code,
    )

    assert page.split() == [
        reverse("feed"),
        reverse("profile", args=[alice.username]),
        reverse("creation_card", args=[code]),
        reverse("feed"),
    ]


def test_it_escapes_what_it_remembers():
    assert render("{% url 'profile' name %}", name="a&b") == "/soho/a&amp;b"
    assert render(
        "{% autoescape off %}{% url 'profile' name %}{% endautoescape %}", name="a&b"
    ) == ("/soho/a&b")


def test_it_follows_the_script_prefix():
    try:
        set_script_prefix("/one/")
        first, first_reversed = render("{% url 'explore' %}"), reverse("explore")
        set_script_prefix("/two/")
        second, second_reversed = render("{% url 'explore' %}"), reverse("explore")
    finally:
        set_script_prefix("/")

    assert first == first_reversed and first.startswith("/one/")
    assert second == second_reversed and second.startswith("/two/")
    assert render("{% url 'explore' %}") == reverse("explore")


def test_it_follows_the_urlconf():
    before = render("{% url 'feed' %}")
    with override_settings(ROOT_URLCONF="bench.urls"):
        assert render("{% url 'bench_bare' %}") == reverse("bench_bare")
    with pytest.raises(NoReverseMatch):
        render("{% url 'bench_bare' %}")
    assert render("{% url 'feed' %}") == before


def test_as_var_and_other_arguments_go_through_djangos_tag(alice):
    assert render("{% url 'profile' name as link %}[{{ link }}]", name=alice.username) == (
        f"[/soho/{alice.username}]"
    )
    assert render("{% url 'nowhere' as link %}[{{ link }}]") == "[]"
    assert render("{% url 'profile' user %}", user=alice) == f"/soho/{alice.username}"
    with pytest.raises(NoReverseMatch):
        render("{% url 'nowhere' %}")


def test_it_starts_again_empty_when_full(monkeypatch):
    monkeypatch.setattr(template_urls, "LIMIT", 2)
    template_urls._reversed.clear()
    for name in ("feed", "explore", "create"):
        render(f"{{% url '{name}' %}}")
    assert len(template_urls._reversed) == 1


def test_static_gives_the_storages_url_and_follows_its_settings():
    from django.templatetags.static import static

    assert render("{% static 'css/phoenix.css' %}") == static("css/phoenix.css")
    with override_settings(STATIC_URL="/elsewhere/"):
        assert render("{% static 'css/phoenix.css' %}") == "/elsewhere/css/phoenix.css"
    assert render("{% static 'css/phoenix.css' %}") == static("css/phoenix.css")
    assert render("{% static 'a b.css' as link %}[{{ link }}]") == f"[{static('a b.css')}]"
