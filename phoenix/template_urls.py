"""The templates' {% url %} and {% static %} tags, remembering what they made
(settings.TEMPLATES names this library a builtin, so its tags stand in for Django's in
every template that does not {% load static %}).

Django reverses each {% url %} anew: a regular expression run per tag, ~30 µs of CPU. The
drafts tab has twenty of them (the navigation, the forms), which cost more than the query
for its boards (make bench, issue 19). A URL depends only on the view's name, its
arguments, the URLconf and the script prefix: each process keeps the URLs it reversed,
keyed on all of them. Arguments other than strings, integers and UUIDs (and `as var`) go
through Django's tag as they are.

{% static %} asks the static files storage for each path (the manifest's hashed name, ~80
calls of Python): each process keeps the URL of each path, forgotten when the storage's
settings change (tests).
"""

from uuid import UUID

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Library, defaulttags
from django.templatetags.static import StaticNode
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = Library()

# URLs kept per process (a few hundred distinct ones in practice); when full, it starts
# again empty.
LIMIT = 4096
_SIMPLE = (str, int, UUID)
_reversed: dict[tuple, str] = {}
_static: dict[str, str] = {}
STATIC_SETTINGS = {"STATIC_URL", "STATIC_ROOT", "STORAGES", "INSTALLED_APPS"}


_MISSING = object()


def _current_app(context) -> str | None:
    # As Django's tag finds it: the request's current_app, else its namespace.
    request = getattr(context, "request", None)
    current_app = getattr(request, "current_app", _MISSING)
    if current_app is _MISSING:
        current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
    return current_app


class RememberingURLNode(defaulttags.URLNode):
    def render(self, context):
        args = tuple([arg.resolve(context) for arg in self.args])
        kwargs = (
            tuple(sorted((name, value.resolve(context)) for name, value in self.kwargs.items()))
            if self.kwargs
            else ()
        )
        if self.asvar or not all(isinstance(value, _SIMPLE) for value in args):
            return super().render(context)
        if kwargs and not all(isinstance(value, _SIMPLE) for _, value in kwargs):
            return super().render(context)
        key = (
            self.view_name.resolve(context),
            args,
            kwargs,
            _current_app(context),
            get_urlconf() or settings.ROOT_URLCONF,
            get_script_prefix(),
            context.autoescape,
        )
        url = _reversed.get(key)
        if url is None:
            view_name, _, _, current_app, _, _, autoescape = key
            url = reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app)
            if autoescape:
                url = conditional_escape(url)
            if len(_reversed) >= LIMIT:
                _reversed.clear()
            _reversed[key] = url
        return url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    return RememberingURLNode(node.view_name, node.args, node.kwargs, node.asvar)


class RememberingStaticNode(StaticNode):
    @classmethod
    def handle_simple(cls, path):
        url = _static.get(path)
        if url is None:
            url = super().handle_simple(path)
            if len(_static) >= LIMIT:
                _static.clear()
            _static[path] = url
        return url


@register.tag
def static(parser, token):
    return RememberingStaticNode.handle_token(parser, token)


@receiver(setting_changed)
def _forget_static_urls(*, setting, **kwargs) -> None:
    if setting in STATIC_SETTINGS:
        _static.clear()
