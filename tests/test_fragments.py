"""phoenix.fragments: a part of a page rendered from its inputs only, kept per process, its
fresh values new at each use."""

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template
from django.test import override_settings

from phoenix import fragments


@pytest.fixture
def templates(tmp_path):
    """Templates of the test's own, in tmp_path."""
    engine = {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    with override_settings(TEMPLATES=[engine]):
        fragments.forget()
        yield tmp_path
    fragments.forget()


@dataclass(frozen=True)
class Tag:
    name: str


def test_the_same_inputs_give_the_kept_html_with_new_fresh_values(templates):
    # The moment of the rendering tells a kept fragment from a new one.
    (templates / "hello.html").write_text(
        "<p>{{ tag.name }} {{ count }} {{ user }}</p><input value='{{ token }}'>{% now 'U.u' %}"
    )

    first = fragments.rendered(
        "hello.html", {"tag": Tag("fox"), "count": 2}, fresh={"token": "one"}
    )
    second = fragments.rendered(
        "hello.html", {"count": 2, "tag": Tag("fox")}, fresh={"token": "<two>"}
    )
    other = fragments.rendered("hello.html", {"tag": Tag("owl"), "count": 2}, fresh={"token": "x"})

    # Nothing of the page but its inputs: no user, no request.
    assert first.startswith("<p>fox 2 </p><input value='one'>")
    assert second == first.replace("'one'", "'&lt;two&gt;'")
    assert other.startswith("<p>owl 2 </p><input value='x'>")
    assert other[-17:] != first[-17:]


def test_the_tag_passes_fresh_values_by_their_prefix(templates):
    (templates / "form.html").write_text("{{ name }}:{% csrf_token %}")
    page = Template(
        "{% fragment 'form.html' name=name fresh_csrf_token=token %}"
        "|{% fragment 'form.html' name=name fresh_csrf_token=other %}"
    ).render(Context({"name": "a&b", "token": "t1", "other": "t2"}))

    assert page == (
        'a&amp;b:<input type="hidden" name="csrfmiddlewaretoken" value="t1">'
        '|a&amp;b:<input type="hidden" name="csrfmiddlewaretoken" value="t2">'
    )


def test_a_model_instance_or_a_list_is_not_an_input(templates, alice):
    (templates / "any.html").write_text("{{ value }}")

    with pytest.raises(TypeError, match="'value' is a model instance"):
        fragments.rendered("any.html", {"value": alice})
    with pytest.raises(TypeError, match="'value' is list"):
        fragments.rendered("any.html", {"value": [1, 2]})
    with pytest.raises(TypeError, match="'value' is a model instance"):
        fragments.rendered("any.html", {"value": (1, (alice,))})


def test_a_fresh_value_through_a_filter_is_refused(templates):
    (templates / "shout.html").write_text("{{ token|upper }}")
    (templates / "short.html").write_text("{{ token }} {{ token|truncatechars:30 }}")

    with pytest.raises(ImproperlyConfigured, match="fresh value"):
        fragments.rendered("shout.html", {}, fresh={"token": "abc"})
    with pytest.raises(ImproperlyConfigured, match="fresh value"):
        fragments.rendered("short.html", {}, fresh={"token": "abc"})
