"""What every app's views share about HTMX requests."""

from django.http import HttpRequest


def wants_partial(request: HttpRequest) -> bool:
    """An HTMX swap gets a fragment; a normal visit and an HTMX history restore get the page."""
    return bool(request.htmx) and not request.htmx.history_restore_request
