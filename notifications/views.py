"""The notifications page, opening one, "Mark all read", the e-mail settings, and the bell's
own light poll."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from creations import polling

from . import emails, selectors, services
from .polling import bell_check, bell_poll
from .presenters import present


class PreferencesForm(forms.Form):
    email_video_finished = forms.BooleanField(
        required=False, label="E-mail me when a video is ready"
    )
    email_draft_shared = forms.BooleanField(
        required=False, label="E-mail me when someone shares a draft with me"
    )
    email_tokens = forms.BooleanField(
        required=False, label="E-mail me when Phoenix staff add tokens or correct my balance"
    )

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.address = address

    def clean(self):
        data = super().clean()
        wanted = any(data.get(name) for name in self.fields)
        if wanted and not self.address:
            raise forms.ValidationError(
                "Your account has no confirmed e-mail address yet: confirm it first "
                "(follow the link we sent), then turn e-mails on."
            )
        return data


def preferences_form(user, data=None) -> PreferencesForm:
    preferences = selectors.preferences_of(user)
    initial = {
        "email_video_finished": preferences.email_video_finished,
        "email_draft_shared": preferences.email_draft_shared,
        "email_tokens": preferences.email_tokens,
    }
    return PreferencesForm(data, initial=initial, address=emails.email_address_of(user))


def render_page(
    request: HttpRequest, *, form: PreferencesForm | None = None, status: int = 200
) -> HttpResponse:
    before = request.GET.get("before")
    try:
        page = selectors.notifications_page(user=request.user, before=before)
    except selectors.BadCursor:
        # A mistyped or outdated link: the newest page, as the profile tabs do.
        before = None
        page = selectors.notifications_page(user=request.user)
    context = {
        "page": page,
        # What each says, for this reader now (the words of a draft only while they may
        # still see it).
        "items": present(page.items, reader=request.user),
        "before": before,
        "unread": selectors.unread_count(request.user),
        "form": form or preferences_form(request.user),
    }
    return render(request, "notifications/page.html", context, status=status)


@never_cache
@require_GET
@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    return render_page(request)


@never_cache
@require_GET
@login_required
def notification_open(request: HttpRequest, notification_id) -> HttpResponse:
    """Opening one marks it read and leads to what it is about."""
    notification = selectors.notification_of(user=request.user, notification_id=notification_id)
    if notification is None:
        raise Http404("No such notification.")
    services.notification_open(notification=notification)
    url = selectors.target_url(notification, request.user)
    if url is None:
        messages.info(request, "That draft is no longer shared with you.")
        return redirect("notifications")
    return redirect(url)


@require_POST
@login_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    marked = services.notifications_mark_read(user=request.user)
    if marked:
        messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} read.")
    else:
        messages.info(request, "Nothing was unread.")
    return redirect("notifications")


@require_POST
@login_required
def notifications_settings(request: HttpRequest) -> HttpResponse:
    form = preferences_form(request.user, request.POST)
    if not form.is_valid():
        return render_page(request, form=form, status=400)
    services.preferences_update(
        user=request.user,
        email_video_finished=form.cleaned_data["email_video_finished"],
        email_draft_shared=form.cleaned_data["email_draft_shared"],
        email_tokens=form.cleaned_data["email_tokens"],
    )
    messages.success(request, "E-mail settings saved.")
    return redirect("notifications")


@polling.never_cache_unless_unchanged
@require_GET
def notifications_bell(request: HttpRequest) -> HttpResponse:
    """The bell's count, which the bell asks for every PHOENIX_NOTIFICATIONS_POLL_SECONDS.
    Unchanged since the page (its version, notifications.polling): 204 after one Redis
    read, no SQL. Else one COUNT on the unread index, a few bytes and the poller with the
    new version. Signed out meanwhile: 204, no swap."""
    check = bell_check(request)
    if check.unchanged() or not request.user.is_authenticated:
        return polling.nothing_new()
    version = check.before_render(request.user.pk)
    context = {
        "count": selectors.unread_count(request.user),
        "poll": bell_poll(request.user.pk, version),
    }
    return render(request, "notifications/bell.html#update", context)
