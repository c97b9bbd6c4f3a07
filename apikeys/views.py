"""The /settings/api page: make a key (shown once), see the keys, revoke one."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .forms import KeyForm


def page(request: HttpRequest, form: KeyForm, *, new_key=None, status: int = 200) -> HttpResponse:
    response = render(
        request,
        "apikeys/keys.html",
        {
            "form": form,
            "keys": selectors.keys_of(request.user),
            "new_key": new_key,
            "here": "api",
        },
        status=status,
    )
    # The page may show a key: never kept by a cache, never shown again by Back.
    add_never_cache_headers(response)
    response["Cache-Control"] += ", no-store"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return page(request, KeyForm())
    form = KeyForm(request.POST)
    if not form.is_valid():
        return page(request, form, status=400)
    days = form.cleaned_data["expires_in"]
    expires_at = timezone.now() + timedelta(days=int(days)) if days else None
    try:
        new = services.key_create(
            user=request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=expires_at,
        )
    except services.KeyProblem as problem:
        form.add_error(None, problem.message)
        return page(request, form, status=400)
    # Rendered, not redirected: the key is in this answer only, never in a session.
    return page(request, KeyForm(), new_key=new, status=201)


@require_POST
@login_required
def api_key_revoke(request: HttpRequest, key_id) -> HttpResponse:
    key = selectors.own_key(user=request.user, key_id=key_id)
    if key is None:
        raise Http404("No such key.")
    services.key_revoke(key=key)
    messages.success(request, f"Key “{key.name}” revoked: it no longer works.")
    return redirect("api_keys_page")
