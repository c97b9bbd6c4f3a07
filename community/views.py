"""The community's pages: the feed (All, Following, search), Explore, a post's page with
its comments, a creator's page with their figures and Follow; and the small HTMX writes
behind their buttons (like, follow, comment), each answering with the part it changed."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from creations import selectors as creation_selectors
from notifications.polling import bell_poll
from phoenix.htmx import wants_partial
from phoenix.jsonapi import error
from profiles import views as profiles_views

from . import selectors, services, throttle

POST_FOOTER = "community/social.html#bar"


def _throttled(request: HttpRequest) -> HttpResponse | None:
    wait = throttle.social_write_refused(request)
    if wait is None:
        return None
    response = error(
        429,
        "too_many_writes",
        f"Too many likes, follows or comments in a minute; try again in {wait} s.",
    )
    response["Retry-After"] = str(wait)
    return response


@require_GET
@vary_on_headers("HX-Request")
def feed(request: HttpRequest) -> HttpResponse:
    """Every public post, newest first; "Following" (signed in) the followed creators'
    only; a search (`q`) the posts whose prompt or caption matches."""
    cursor = request.GET.get("cursor")
    q = selectors.clean_query(request.GET.get("q"))
    tab = "following" if request.GET.get("tab") == "following" else "all"
    if tab == "following" and not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={reverse('feed')}?tab=following")
    if q:
        page = selectors.search_page(q=q, viewer=request.user, cursor=cursor)
    elif tab == "following":
        page = selectors.following_page(viewer=request.user, cursor=cursor)
    else:
        page = selectors.feed_page(viewer=request.user, cursor=cursor)
    context = {"page": page, "cursor": cursor, "q": q, "tab": tab, "post_footer": POST_FOOTER}
    if wants_partial(request):
        return render(
            request, "community/feed.html#more" if cursor else "community/feed.html#list", context
        )
    return render(request, "community/feed.html", context)


@require_GET
@vary_on_headers("HX-Request")
def explore(request: HttpRequest) -> HttpResponse:
    cursor = request.GET.get("cursor")
    page = selectors.explore_page(viewer=request.user, cursor=cursor)
    context = {"page": page, "cursor": cursor, "post_footer": POST_FOOTER}
    if wants_partial(request) and cursor:
        return render(request, "community/explore.html#more", context)
    return render(request, "community/explore.html", context)


@require_GET
def post_page(request: HttpRequest, creation_id) -> HttpResponse:
    """One post for anyone while it is public, with its likes and comments; its owner also
    sees it taken down (with the reason, without the conversation)."""
    creation = creation_selectors.post_for_viewer(viewer=request.user, creation_id=creation_id)
    is_owner = request.user.is_authenticated and creation.owner_id == request.user.pk
    context = {
        "creation": creation,
        "manage": is_owner,
        "on_page": True,
        # The preview's URLs are absolute: the site's address, else the one asked for.
        "og_base": settings.PHOENIX_SITE_URL.rstrip("/")
        or request.build_absolute_uri("/").rstrip("/"),
    }
    if creation.is_public:
        selectors.with_viewer_state([creation], viewer=request.user)
        context.update(
            post_footer=POST_FOOTER,
            comments=selectors.comments_page(post=creation, cursor=request.GET.get("cursor")),
        )
    response = render(request, "community/post_page.html", context)
    if is_owner or request.user.is_authenticated:
        add_never_cache_headers(response)
    return response


def _public_or_404(post_id):
    post = selectors.public_post(post_id)
    if post is None:
        raise Http404("No such post.")
    return post


@require_POST
@login_required
def like_toggle(request: HttpRequest, creation_id) -> HttpResponse:
    """The Like button: `like=1` likes, `like=0` takes it back (what the button showed, so a
    double click does not undo itself)."""
    refused = _throttled(request)
    if refused is not None:
        return refused
    write = services.post_like if request.POST.get("like") == "1" else services.post_unlike
    try:
        write(user=request.user, post_id=creation_id)
    except services.SocialRefused:
        raise Http404("No such post.") from None
    post = _public_or_404(creation_id)
    selectors.with_viewer_state([post], viewer=request.user)
    if wants_partial(request):
        return render(request, "community/social.html#bar", {"creation": post})
    return redirect(request.POST.get("next") or reverse("post", args=[post.pk]))


@require_POST
@login_required
def comment_create(request: HttpRequest, creation_id) -> HttpResponse:
    post = _public_or_404(creation_id)
    text = request.POST.get("text", "")
    context = {"creation": post, "text": text}
    try:
        services.clean_comment(text)
    except services.SocialRefused as problem:
        context["comment_error"] = problem.message
        return _comments_answer(request, post, context, status=400)
    refused = _throttled(request)
    if refused is not None:
        return refused
    try:
        services.comment_post(author=request.user, post_id=post.pk, text=text)
    except services.SocialRefused:
        raise Http404("No such post.") from None
    context["text"] = ""
    context["announcement"] = "Comment posted."
    return _comments_answer(request, post, context)


@require_POST
@login_required
def comment_delete(request: HttpRequest, creation_id, post_comment_id) -> HttpResponse:
    post = _public_or_404(creation_id)
    comment = selectors.find_comment(post=post, comment_id=post_comment_id)
    if comment is None:
        raise Http404("No such comment.")
    try:
        services.comment_delete(user=request.user, comment=comment)
    except services.SocialRefused as problem:
        return error(403, problem.code, problem.message)
    return _comments_answer(request, post, {"creation": post, "announcement": "Comment deleted."})


def _comments_answer(request, post, context, *, status: int = 200) -> HttpResponse:
    if not wants_partial(request):
        return redirect(reverse("post", args=[post.pk]) + "#comments")
    post.refresh_from_db(fields=["comment_count", "like_count"])
    selectors.with_viewer_state([post], viewer=request.user)
    context["comments"] = selectors.comments_page(post=post)
    context["social_oob"] = True
    return render(request, "community/post_page.html#comments", context, status=status)


@require_POST
@login_required
def follow_toggle(request: HttpRequest, username: str) -> HttpResponse:
    refused = _throttled(request)
    if refused is not None:
        return refused
    write = (
        services.creator_follow if request.POST.get("follow") == "1" else services.creator_unfollow
    )
    try:
        write(follower=request.user, username=username)
    except services.SocialRefused as problem:
        if problem.code == "not_found":
            raise Http404(problem.message) from None
        return error(400, problem.code, problem.message)
    creator = services.creator_to_follow(username)
    if not wants_partial(request):
        return redirect("profile", username=creator.get_username())
    context = {
        "creator": creator,
        "figures": selectors.creator_figures(creator=creator, viewer=request.user),
    }
    return render(request, "community/profile.html#social", context)


def _social_context(request: HttpRequest, creator, context: dict) -> dict:
    if not context["is_owner"]:
        return {"figures": selectors.creator_figures(creator=creator, viewer=request.user)}
    # One's own page: its figures, the balance and the bell's count in one statement; the
    # bell's version is read before the count (notifications.polling).
    bell = bell_poll(creator.pk)
    own = selectors.own_page_figures(user=creator)
    return {
        "figures": own.figures,
        "balance": own.balance,
        "unread_notifications": own.unread_notifications,
        "notifications_bell_poll": bell,
    }


def _posts_footer(request: HttpRequest, posts: list) -> dict:
    # The figures are the posts' own columns; `liked` one query for the page.
    selectors.with_viewer_state(posts, viewer=request.user)
    return {"post_footer": POST_FOOTER}


def creator_page(request: HttpRequest, username: str) -> HttpResponse:
    """A creator's page (profiles) with their follower figures and the Follow button, and
    each public post's likes and comments under it, as in the feed."""
    return profiles_views.profile(
        request,
        username,
        page_template="community/profile.html",
        more_context=_social_context,
        posts_context=_posts_footer,
    )
