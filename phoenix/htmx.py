"""What every app's views share about HTMX requests, and the answer a form gets without
JavaScript (no HTMX)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def wants_partial(request: HttpRequest) -> bool:
    """An HTMX swap gets a fragment; a normal visit and an HTMX history restore get the page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def redirect_with_message(
    request: HttpRequest, text: str, to: str, *args, extra_tags: str = ""
) -> HttpResponse:
    """A form posted without JavaScript: back to `to` (a URL, or a URL name and its
    arguments), where the message says what was done."""
    messages.success(request, text, extra_tags=extra_tags)
    return redirect(to, *args)
