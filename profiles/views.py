from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from creations import selectors

from . import throttle
from .forms import LoginForm, SignupForm
from .services import creator_signup

User = get_user_model()


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("feed")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if not throttle.signup_try(request):
            form.add_error(None, "Too many new accounts from your network. Try again later.")
            return render(request, "registration/signup.html", {"form": form}, status=429)
        if form.is_valid():
            user = creator_signup(
                username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
            )
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            next_url = request.POST.get("next") or request.GET.get("next")
            if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
                return redirect(next_url)
            return redirect("create")
        throttle.signup_not_made(request)
    return render(request, "registration/signup.html", {"form": form})


OWNER_TABS = ("posts", "drafts", "trash")


def tab_page(creator, tab: str, cursor: str | None, *, is_owner: bool) -> selectors.Page:
    if tab == "drafts":
        return selectors.drafts_page(owner=creator, cursor=cursor)
    if tab == "trash":
        return selectors.trash_page(owner=creator, cursor=cursor)
    return selectors.posts_page(owner=creator, cursor=cursor, for_owner=is_owner)


def tabs_context(request: HttpRequest, creator, tab: str, cursor: str | None = None) -> dict:
    """What profile.html's tabs show: also the answer of a bulk action, which refreshes them."""
    is_owner = request.user.is_authenticated and request.user.pk == creator.pk
    if tab not in OWNER_TABS or not is_owner:
        tab = "posts"
    return {
        "creator": creator,
        "is_owner": is_owner,
        "tab": tab,
        "page": tab_page(creator, tab, cursor, is_owner=is_owner),
        "cursor": cursor,
        "trash_days": settings.PHOENIX_TRASH_DAYS,
        "bulk_max": settings.PHOENIX_BULK_MAX,
    }


@require_GET
@vary_on_headers("HX-Request")
def profile(request: HttpRequest, username: str) -> HttpResponse:
    """A creator's page. Posts for everyone; the Drafts and Trash tabs only for its owner
    (anybody else asking for them gets the posts), who also sees their taken-down posts.
    HTMX gets just the tabs, or just the next page."""
    if "\x00" in username:  # no username has one, and PostgreSQL refuses to compare it
        raise Http404("No such creator.")
    creator = get_object_or_404(
        User.objects.select_related("token_account"), username=username, is_active=True
    )
    context = tabs_context(request, creator, request.GET.get("tab", ""), request.GET.get("cursor"))
    account = getattr(creator, "token_account", None)
    context["balance"] = account.balance if context["is_owner"] and account else None
    template = "profiles/profile.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#more" if context["cursor"] else "#tabs"
    response = render(request, template, context)
    if context["is_owner"]:
        # Drafts and the balance: nothing a shared computer's Back button should show later.
        add_never_cache_headers(response)
    return response
