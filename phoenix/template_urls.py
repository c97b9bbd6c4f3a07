"""The templates' {% url %} tag, remembering what it reversed (settings.TEMPLATES names
this library a builtin, so it stands in for Django's tag in every template).

Django reverses each {% url %} anew: a regular expression run per tag, ~30 µs of CPU. The
drafts tab has twenty of them (the navigation, the forms), which cost more than the query
for its boards (make bench, issue 19). A URL depends only on the view's name, its
arguments, the URLconf and the script prefix: each process keeps the URLs it reversed,
keyed on all of them. Arguments other than strings, integers and UUIDs (and `as var`) go
through Django's tag as they are.
"""

from uuid import UUID

from django.conf import settings
from django.template import Library, defaulttags
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = Library()

# URLs kept per process (a few hundred distinct ones in practice); when full, it starts
# again empty.
LIMIT = 4096
_SIMPLE = (str, int, UUID)
_reversed: dict[tuple, str] = {}


def _current_app(context) -> str | None:
    # As Django's tag finds it.
    request = getattr(context, "request", None)
    try:
        return request.current_app
    except AttributeError:
        try:
            return request.resolver_match.namespace
        except AttributeError:
            return None


class RememberingURLNode(defaulttags.URLNode):
    def render(self, context):
        args = tuple(arg.resolve(context) for arg in self.args)
        kwargs = tuple(
            sorted((name, value.resolve(context)) for name, value in self.kwargs.items())
        )
        if self.asvar or not all(isinstance(value, _SIMPLE) for value in args):
            return super().render(context)
        if not all(isinstance(value, _SIMPLE) for _, value in kwargs):
            return super().render(context)
        view_name = self.view_name.resolve(context)
        current_app = _current_app(context)
        key = (
            view_name,
            args,
            kwargs,
            current_app,
            get_urlconf() or settings.ROOT_URLCONF,
            get_script_prefix(),
        )
        url = _reversed.get(key)
        if url is None:
            url = reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app)
            if len(_reversed) >= LIMIT:
                _reversed.clear()
            _reversed[key] = url
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    return RememberingURLNode(node.view_name, node.args, node.kwargs, node.asvar)
