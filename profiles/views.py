import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from creations import polling, selectors
from creations.cards import cards_html
from creations.models import Creation
from library import selectors as library
from phoenix import errors, ratelimit
from phoenix.htmx import wants_partial
from sharing.selectors import shared_with_page
from tokens.selectors import balance_of

from . import selectors as profile_selectors
from . import throttle
from .forms import EMAIL_TAKEN, LoginForm, NewPasswordForm, QueuedPasswordResetForm, SignupForm
from .selectors import WELCOME_PENDING
from .services import (
    BadConfirmation,
    confirmation_check,
    confirmation_send,
    confirmation_token,
    creator_register,
    email_confirm,
)

User = get_user_model()
log = logging.getLogger(__name__)


def after_login(request: HttpRequest, response: HttpResponse, user) -> None:
    """What every log-in on the site does: remember the browser (see throttle), and note
    whether the creator still has their welcome grant to collect."""
    throttle.remember_device(request, response, user)
    if profile_selectors.welcome_pending(user):
        request.session[WELCOME_PENDING] = True


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm

    def get_context_data(self, **kwargs):
        # The page offers sign-up to someone new, with what they get for it.
        return super().get_context_data(welcome_tokens=settings.PHOENIX_WELCOME_TOKENS, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        after_login(self.request, response, form.get_user())
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


# profiles/migrations/0002_user_email_unique_ci.py
EMAIL_UNIQUE_INDEX = "profiles_user_email_unique_ci"


def constraint_of(error: IntegrityError) -> str | None:
    """The name of the constraint (or unique index) the database said was violated."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def send_confirmation(request: HttpRequest, user) -> bool:
    """Queue the confirmation link's e-mail (counted towards the address's limit on
    e-mails); False (logged) when it could not be queued, and then it does not count."""
    url = request.build_absolute_uri(reverse("confirm_email", args=[confirmation_token(user)]))
    if confirmation_send(user=user, confirm_url=url):
        return True
    throttle.email_not_sent(request, "confirm-email", user.email)
    return False


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("feed")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if not throttle.signup_try(request):
            return errors.too_many_requests(
                request,
                retry_after=ratelimit.seconds_left(settings.PHOENIX_SIGNUP_WINDOW),
                reason="Too many new accounts from your network.",
                back_url=reverse("signup"),
                back_label="sign-up",
            )
        if form.is_valid():
            try:
                user = creator_register(
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password1"],
                )
            except IntegrityError as error:
                # Another sign-up took the name or the address between the form's check
                # and ours.
                if constraint_of(error) == EMAIL_UNIQUE_INDEX:
                    form.add_error("email", form.fields["email"].error_messages[EMAIL_TAKEN])
                else:
                    form.add_error("username", "A user with that username already exists.")
                return render(request, "registration/signup.html", {"form": form})
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            # The sign-up's e-mail counts towards the address's limit on e-mails.
            throttle.email_try(request, "confirm-email", user.email)
            if send_confirmation(request, user):
                messages.info(request, f"We sent a link to {user.email}: follow it to confirm.")
            else:
                messages.warning(
                    request, "We could not send the confirmation e-mail just now: use Resend."
                )
            next_url = request.POST.get("next") or request.GET.get("next")
            if not (next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()})):
                next_url = reverse("create")
            response = redirect(next_url)
            after_login(request, response, user)
            return response
        if not form.has_error("email", EMAIL_TAKEN):
            # An invalid form made no account, so it does not count; but one refused for a
            # taken address does, so the form cannot be used to test addresses unlimited.
            throttle.signup_not_made(request)
    return render(request, "registration/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation e-mail: a page with a button (mail scanners follow
    links; only a person presses buttons), which confirms the address and gives the
    welcome grant once."""
    try:
        user = confirmation_check(token)
    except BadConfirmation as error:
        context = {"error": error.message}
        return render(request, "registration/confirm_email.html", context, status=400)
    if request.method == "GET":
        return render(request, "registration/confirm_email.html", {"address": user.email})
    confirmed = email_confirm(user=user)
    if confirmed.grant is not None:
        messages.success(
            request,
            f"Your e-mail is confirmed: {confirmed.grant.amount} welcome tokens are yours.",
        )
    elif confirmed.held:
        messages.info(
            request,
            "Your e-mail is confirmed. So many people joined today that welcome tokens "
            "are paused: yours are queued and arrive as soon as a day has room, with "
            "nothing more to do.",
        )
    else:
        messages.info(
            request,
            "Your e-mail is confirmed. This address has had its welcome tokens already, "
            "so there are none to add.",
        )
    request.session.pop(WELCOME_PENDING, None)
    return redirect("create" if request.user.pk == user.pk else "login")


@require_POST
@login_required
def confirm_email_resend(request: HttpRequest) -> HttpResponse:
    """The banner's Resend button."""
    user = request.user
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = reverse("create")
    if not profile_selectors.email_unconfirmed(user):
        messages.info(request, "Your e-mail is confirmed already.")
        return redirect(next_url)
    if not throttle.email_try(request, "confirm-email", user.email):
        context = {
            "error": (
                f"We have sent several links to {user.email} already. Look for them (the "
                f"spam folder too), or ask again in {throttle.email_minutes_left()} minutes."
            ),
            "next": next_url,
        }
        return render(request, "registration/confirm_email.html", context, status=429)
    if send_confirmation(request, user):
        messages.info(request, f"We sent a new link to {user.email}.")
    else:
        messages.warning(request, "We could not send the e-mail just now. Try again later.")
    return redirect(next_url)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, limited per network and per address (counted whether or not an account
    has the address, so the answer is the same for both), its e-mail sent by a job."""

    form_class = QueuedPasswordResetForm

    def form_valid(self, form):
        if not throttle.email_try(self.request, "password-reset", form.cleaned_data["email"]):
            form.add_error(
                None,
                "Too many password reset e-mails asked for. Look for the ones sent (the spam "
                f"folder too), or try again in {throttle.email_minutes_left()} minutes.",
            )
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    # The link proves the address is the creator's: it logs them in, so it is also the way
    # in while a stranger's guessing has paused log-ins from new browsers.
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    form_class = NewPasswordForm

    def form_valid(self, form):
        response = super().form_valid(form)
        after_login(self.request, response, form.user)
        return response


OWNER_TABS = ("posts", "drafts", "trash", "shared")
# The drafts tab's chips (library): "" is any.
LIBRARY_TYPES = (("", "Any"), *Creation.Kind.choices)
LIBRARY_STATUSES = (
    ("", "Any"),
    *(
        (status, Creation.Status(status).label)
        for status in ("draft", "scheduled", "published", "failed", "canceled")
    ),
)


def tab_page(
    creator, tab: str, cursor: str | None, *, is_owner: bool, filters: library.Filters
) -> selectors.Page:
    if tab == "drafts" and filters.active:
        # A search or a chip: the whole library (any status, not in the trash).
        return library.library_page(owner=creator, filters=filters, cursor=cursor)
    if tab == "shared":
        # Drafts other creators shared with the owner of this page.
        return shared_with_page(user=creator, cursor=cursor)
    if tab == "drafts":
        return selectors.drafts_page(owner=creator, cursor=cursor)
    if tab == "trash":
        return selectors.trash_page(owner=creator, cursor=cursor)
    return selectors.posts_page(owner=creator, cursor=cursor, for_owner=is_owner)


def tabs_context(
    request: HttpRequest,
    creator,
    tab: str,
    cursor: str | None = None,
    *,
    fresh_selection: bool = False,
) -> dict:
    """What profile.html's tabs show: also the answer of a bulk action, which refreshes them
    (with the cards' checkboxes unticked: fresh_selection)."""
    is_owner = request.user.is_authenticated and request.user.pk == creator.pk
    if tab not in OWNER_TABS or not is_owner:
        tab = "posts"
    drafts_poll = version = None
    filters = library.Filters()
    if tab == "drafts":
        # The bulk actions answer with the tab as it was: their form carries the filters.
        params = request.GET if request.method == "GET" else request.POST
        filters = library.parse_filters(params, owner=creator, strict=False)
    # New creations join the top of the plain drafts tab only (a search keeps its results).
    watch_new = tab == "drafts" and not cursor and not filters.active
    if watch_new:
        # Read before the drafts: a change committed after this read is seen by the polls.
        version = polling.drafts_version(creator.pk)
    page = tab_page(creator, tab, cursor, is_owner=is_owner, filters=filters)
    if watch_new:
        drafts_poll = polling.drafts_tab_polls(creator, page, version=version)
    shared = {}
    if tab in ("drafts", "trash"):
        # One CSRF token for the page: the ready cards' and the template's.
        shared["csrf_token"] = get_token(request)
        cards_html(page.items, shared["csrf_token"], fresh_selection=fresh_selection)
    if tab == "drafts":
        groups, ended_from = drafts_then_ended(selectors.grouped_by_batch(page.items))
    else:
        groups, ended_from = [[item] for item in page.items], None
    ready = ready_cards(groups, ended_from) if tab in ("drafts", "trash") else None
    composer = composer_context(page) if tab == "drafts" and is_owner and not cursor else None
    return {
        **shared,
        "creator": creator,
        "is_owner": is_owner,
        "tab": tab,
        "page": page,
        # The drafts tab shows a batch's variations together; every other card alone.
        "groups": groups,
        "ended_from": ended_from,
        "ready_cards": ready,
        "composer": composer,
        # The composer's idempotency key: new at each showing of the tab.
        "composer_key": uuid.uuid4().hex if composer else "",
        "cursor": cursor,
        "trash_days": settings.PHOENIX_TRASH_DAYS,
        "bulk_max": settings.PHOENIX_BULK_MAX,
        "fresh_selection": fresh_selection,
        "drafts_poll": drafts_poll,
        "filters": filters,
        "current_board": filters.board,
        "tab_query": filters.query() if tab == "drafts" else urlencode({"tab": tab}),
        # The drafts tab's sidebar and "Add to board": one query for the owner's boards.
        "boards": library.board_links(creator) if tab == "drafts" else (),
        "type_choices": LIBRARY_TYPES,
        "status_choices": LIBRARY_STATUSES,
    }


ENDED = ("failed", "canceled")


@dataclass(frozen=True)
class ComposerKind:
    value: str
    label: str
    cost: int


@dataclass(frozen=True)
class Composer:
    """What the drafts tab's compact composer shows: values only, so that its HTML is kept
    per process (phoenix.fragments; its idempotency key is new at each showing)."""

    prompt: str
    type: str
    aspect_ratio: str
    orientation: str
    kinds: tuple[ComposerKind, ...]
    cost: int
    aspect_ratios: tuple[str, ...]
    orientations: tuple[tuple[str, str], ...]


def composer_context(page) -> Composer:
    """The drafts tab's compact composer, holding the newest creation's prompt and
    settings (from the page already read: no query), so the next try starts from it."""
    last = page.items[0] if page.items else None
    costs = settings.PHOENIX_COSTS
    kind = last.kind if last else Creation.Kind.IMAGE
    return Composer(
        prompt=last.prompt if last else "",
        type=str(kind),
        aspect_ratio=str((last.aspect_ratio if last else "") or Creation.AspectRatio.SQUARE),
        orientation=str((last.orientation if last else "") or Creation.Orientation.LANDSCAPE),
        kinds=tuple(
            ComposerKind(value=value, label=str(label), cost=costs[value])
            for value, label in Creation.Kind.choices
        ),
        cost=costs[kind],
        aspect_ratios=tuple(Creation.AspectRatio.values),
        orientations=tuple((value, str(label)) for value, label in Creation.Orientation.choices),
    )


@dataclass(frozen=True)
class ReadyCards:
    """The tab's cards as ready HTML: the drafts (and those generating), then the failed and
    canceled ones."""

    live: str
    ended: str


def ready_cards(groups: list[list], ended_from: int | None) -> ReadyCards | None:
    """When every card of the tab comes ready-made (creations.cards) and alone (no batch),
    their HTML joined in two runs, for the template to write out as it is: looping over the
    cards cost the template ~0.3 ms of CPU for a page of ten (make bench, issue 19). None
    when any card has to be rendered."""
    if not groups:
        return None
    for group in groups:
        if len(group) > 1 or group[0].batch_id or not getattr(group[0], "card_html", None):
            return None
    split = len(groups) if ended_from is None else ended_from
    # Each piece was escaped by the card's template when it was rendered.
    return ReadyCards(
        live=mark_safe("".join(group[0].card_html for group in groups[:split])),  # nosec B308 B703
        ended=mark_safe("".join(group[0].card_html for group in groups[split:])),  # nosec B308 B703
    )


def drafts_then_ended(groups: list[list]) -> tuple[list[list], int | None]:
    """The page's drafts (and those still generating) first, then its failed and canceled
    ones, each part newest first; and where the second part starts (None: no such card).
    Only the page's own cards move: no query, the paging unchanged."""
    live = [group for group in groups if group[0].status not in ENDED]
    ended = [group for group in groups if group[0].status in ENDED]
    return live + ended, len(live) if ended else None


def page_creator(request: HttpRequest, username: str):
    """The creator whose page this is: on one's own page the signed-in user, already read
    (no second query for the same row); anyone else's by name, active only."""
    if "\x00" in username:  # no username has one, and PostgreSQL refuses to compare it
        raise Http404("No such creator.")
    user = request.user
    if user.is_authenticated and user.is_active and user.get_username() == username:
        return user
    return get_object_or_404(User, username=username, is_active=True)


@require_GET
@vary_on_headers("HX-Request")
def profile(
    request: HttpRequest,
    username: str,
    *,
    page_template: str = "profiles/profile.html",
    more_context=None,
    posts_context=None,
) -> HttpResponse:
    """A creator's page. Posts for everyone; the Drafts and Trash tabs only for its owner
    (anybody else asking for them gets the posts), who also sees their taken-down posts.
    HTMX gets just the tabs, or just the next page. An app above this one may render the
    whole page with its own template (extending profile.html) and `more_context(request,
    creator, context)` (community: follower figures and Follow; on one's own page it may
    give the `balance` too, read with its figures), and add to the posts tab, whole or a
    page of it, `posts_context(request, posts)` (community: each post's likes and
    comments)."""
    creator = page_creator(request, username)
    context = tabs_context(request, creator, request.GET.get("tab", ""), request.GET.get("cursor"))
    template = page_template
    if posts_context is not None and context["tab"] == "posts":
        context.update(posts_context(request, context["page"].items))
    if wants_partial(request):
        template = "profiles/profile.html"
        if context["cursor"]:
            template += "#more"
        elif request.htmx.target == "library-results" and context["tab"] == "drafts":
            # The search box and the chips: the results only, the box keeps its focus.
            template += "#results"
        else:
            template += "#tabs"
    elif more_context is not None:
        context.update(more_context(request, creator, context))
    if not context["is_owner"]:
        context["balance"] = None
    elif context.get("balance") is None:
        context["balance"] = balance_of(creator)
    if context["balance"] is not None:
        # The navigation's balance is this one: no second read of the account.
        context["token_balance"] = context["balance"]
    response = render(request, template, context)
    if context["is_owner"]:
        # Drafts and the balance: nothing a shared computer's Back button should show later.
        add_never_cache_headers(response)
    return response
