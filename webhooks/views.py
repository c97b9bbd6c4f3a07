"""The webhooks settings page: endpoints, their secrets (shown once), their delivery log
with Resend. Writes go through services; reads through selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .forms import EndpointForm

# The secret of an endpoint just made or rotated, shown on the next page view only.
NEW_SECRET = "phoenix_webhook_secret"


def _page(request: HttpRequest, form: EndpointForm, *, status: int = 200) -> HttpResponse:
    shown = request.session.pop(NEW_SECRET, None)
    return render(
        request,
        "webhooks/settings.html",
        {
            "form": form,
            "endpoint_logs": selectors.endpoints_with_logs(request.user),
            "new_secret": shown,
            "now": timezone.now(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def webhook_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, EndpointForm())
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        endpoint = services.endpoint_create(
            owner=request.user, url=form.cleaned_data["url"], events=form.cleaned_data["events"]
        )
    except services.WebhookRefused as refused:
        form.add_error("url" if refused.code != "too_many_webhooks" else None, refused.message)
        return _page(request, form, status=400)
    request.session[NEW_SECRET] = {"endpoint": str(endpoint.pk), "secret": endpoint.secret}
    messages.success(request, "Endpoint added. Copy its signing secret now: it is shown once.")
    return redirect("webhook_settings")


def _own_endpoint(request: HttpRequest, endpoint_id):
    endpoint = selectors.endpoint_for_owner(owner=request.user, endpoint_id=endpoint_id)
    if endpoint is None:
        raise Http404("No such endpoint")
    return endpoint


@require_POST
@login_required
def webhook_delete(request: HttpRequest, endpoint_id) -> HttpResponse:
    services.endpoint_delete(endpoint=_own_endpoint(request, endpoint_id))
    messages.success(request, "Endpoint deleted.")
    return redirect("webhook_settings")


@require_POST
@login_required
def webhook_rotate(request: HttpRequest, endpoint_id) -> HttpResponse:
    endpoint = _own_endpoint(request, endpoint_id)
    secret = services.endpoint_rotate_secret(endpoint=endpoint)
    request.session[NEW_SECRET] = {"endpoint": str(endpoint.pk), "secret": secret}
    messages.success(
        request, "New secret made. The old one also signs deliveries for the next 24 hours."
    )
    return redirect("webhook_settings")


@require_POST
@login_required
def webhook_enable(request: HttpRequest, endpoint_id) -> HttpResponse:
    try:
        services.endpoint_enable(endpoint=_own_endpoint(request, endpoint_id))
    except services.WebhookRefused as refused:
        messages.error(request, f"Not turned on: {refused.message}")
    else:
        messages.success(request, "Endpoint turned back on.")
    return redirect("webhook_settings")


@require_POST
@login_required
def webhook_resend(request: HttpRequest, delivery_id) -> HttpResponse:
    delivery = selectors.delivery_for_owner(owner=request.user, delivery_id=delivery_id)
    if delivery is None:
        raise Http404("No such delivery")
    try:
        resent = services.delivery_resend(delivery=delivery)
    except services.WebhookRefused as refused:
        messages.error(request, refused.message)
        resent = False
    if request.htmx:
        return render(request, "webhooks/settings.html#delivery_row", {"delivery": delivery})
    if resent:
        messages.success(request, "Sending it again now.")
    return redirect("webhook_settings")
