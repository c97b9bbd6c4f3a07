"""The owner's actions on a card or a post — publish (now or at a time), cancel, delete (to
the trash, with undo), restore, delete forever, run again, keep one of a batch,
unschedule, unpublish, edit the caption. Each is a plain function view around one service
(`owner_action`: the owner's creation in, a refusal answered). An HTMX request gets the
card (or post) back, or a toast when it leaves its tab; without JavaScript the form posts
and the view redirects with a message."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from phoenix.htmx import redirect_with_message

from .. import selectors, services
from ..api import Refusal, refusal_status, start_rerun
from ..models import Creation
from ..services import ActionRefused
from ..validation import (
    RERUN_FIELDS,
    RequestProblem,
)
from .common import (
    TRASHED_TEXT,
    _owned_or_404,
    back_url,
    drafts_url_for,
    home_tab,
    owner_action,
    parse_ids,
    profile_url,
    publish_at_from_form,
    refused,
    render_batch,
    render_gone,
    render_owner_card,
    render_post,
    target_of,
    token_count,
    token_count_words,
    with_media,
)


@require_POST
def creation_publish(request: HttpRequest, creation_id) -> HttpResponse:
    creation = _owned_or_404(request, creation_id)
    caption = request.POST.get("caption", "")
    try:
        publish_at = publish_at_from_form(request.POST)
        if request.POST.get("prompt_choice"):
            # The form's "Show the prompt with the post" (before it is public, never after).
            services.creation_set_prompt_public(
                creation=creation, public=bool(request.POST.get("show_prompt"))
            )
        services.creation_publish(creation=creation, caption=caption, publish_at=publish_at)
    except ActionRefused as refusal:
        if refusal.code == "not_publishable" or not request.htmx:
            return refused(request, creation, refusal, default_tab="drafts")
        # A problem with what was typed: the form again, open, with the words kept.
        return render_owner_card(
            request,
            creation,
            status=refusal_status(refusal),
            publish_error=refusal.message,
            caption=caption,
            publish_at_value=request.POST.get("publish_at", ""),
            publish_open=True,
        )
    if creation.status == Creation.Status.SCHEDULED:
        if not request.htmx:
            when = f"{creation.publish_at:%a %-d %b, %H:%M} UTC"
            text = f"Scheduled for {when}. It waits in your drafts."
            return redirect_with_message(request, text, profile_url(request.user, "drafts"))
        return render_owner_card(request, creation, focus=True, scheduled_announcement=True)
    if not request.htmx:
        text = "Published. It is at the top of your posts."
        return redirect_with_message(request, text, profile_url(request.user))
    return render_gone(
        request,
        creation,
        toast="Published. It is now at the top of your posts.",
        toast_link=profile_url(request.user),
        toast_link_text="See your posts",
    )


@require_POST
@owner_action(refused_tab="drafts")
def creation_unschedule(request: HttpRequest, creation: Creation) -> HttpResponse:
    services.creation_unschedule(creation=creation)
    text = "Unscheduled. It is a draft again."
    if not request.htmx:
        return redirect_with_message(request, text, profile_url(request.user, "drafts"))
    return render_owner_card(request, creation, focus=True, announcement=text)


@never_cache
@require_http_methods(["GET", "POST"])
@owner_action(refused_tab="drafts", confirm="cancel")
def creation_cancel(request: HttpRequest, creation: Creation) -> HttpResponse:
    """GET asks first (the page without JavaScript); POST cancels and refunds."""
    result = services.creation_cancel(creation=creation)
    text = f"Canceled. {token_count(result.refunded)} refunded."
    if not request.htmx:
        return redirect_with_message(request, text, profile_url(request.user, "drafts"))
    return render_owner_card(
        request, creation, focus=True, announcement=text, nav_balance=result.balance
    )


@never_cache
@require_http_methods(["GET", "POST"])
@owner_action(refused_tab=home_tab, confirm="delete")
def creation_delete(request: HttpRequest, creation: Creation) -> HttpResponse:
    """Delete moves to the trash, which Undo (or Restore in the Trash tab) reverses, so the
    POST asks nothing first. GET is the same question as a page, for old links."""
    services.creation_trash(creation=creation)
    tab = home_tab(creation)
    if not request.htmx:
        # base.html turns this tag into an Undo button.
        undo = f"undo {creation.id} {tab}"
        return redirect_with_message(
            request, TRASHED_TEXT, profile_url(request.user, tab), extra_tags=undo
        )
    return render_gone(request, creation, toast=TRASHED_TEXT, undo_id=creation.id, back=tab)


@require_POST
@owner_action(refused_tab="trash")
def creation_restore(request: HttpRequest, creation: Creation) -> HttpResponse:
    """Restore from the Trash tab, or Undo right after a delete (`undo`): then the card goes
    back into the slot it left (`slot`, sent only while that slot is on the page)."""
    undo = bool(request.POST.get("undo"))
    was = creation.status
    services.creation_restore(creation=creation, undo=undo)
    tab = home_tab(creation)
    if creation.status != was:
        # A post (or a scheduled one) never goes straight back into public.
        text = "Restored as a draft: publish it again when you want it back in the feed."
    else:
        text = "Restored." if undo else f"Restored to your {tab}."
    if not request.htmx:
        back = profile_url(request.user, tab if undo else "trash")
        return redirect_with_message(request, text, back)
    context = {"toast": text, "toast_link": profile_url(request.user, tab)}
    context["toast_link_text"] = f"Open your {tab}"
    if undo:
        slot = request.POST.get("slot", "")
        if slot == f"creation-{creation.id}" and tab == "drafts":
            context["card"] = selectors.card_for_owner(owner=request.user, creation_id=creation.pk)
            context.pop("toast_link")
        elif slot == f"post-{creation.id}" and tab == "posts":
            context["post"] = with_media(creation)
            context.pop("toast_link")
        return render(request, "creations/card.html#undone", context)
    return render_gone(request, creation, **context)


@never_cache
@require_http_methods(["GET", "POST"])
@owner_action(refused_tab="trash", confirm="purge")
def creation_purge(request: HttpRequest, creation: Creation) -> HttpResponse:
    """Delete forever, from the trash: GET asks first (without JavaScript); POST deletes."""
    services.creation_purge(creation=creation)
    text = "Deleted forever."
    if not request.htmx:
        return redirect_with_message(request, text, profile_url(request.user, "trash"))
    return render_gone(request, creation, toast=text)


@require_POST
def creation_rerun(request: HttpRequest, creation_id) -> HttpResponse:
    """The card's Run again / New seed / Vary / Edit & run without JavaScript (with it, the
    form goes to the API): the drafts tab after, or the reason it was refused."""
    source = _owned_or_404(request, creation_id)
    data = {key: request.POST[key] for key in RERUN_FIELDS if key in request.POST}
    try:
        start_rerun(request.user, source, data)
    except (RequestProblem, ActionRefused) as problem:
        messages.error(request, problem.message)
    except Refusal as refusal:
        messages.error(request, refusal.body["message"])
    return redirect(drafts_url_for(request.user))


@require_POST
@owner_action(refused_tab="drafts")
def creation_keep(request: HttpRequest, creation: Creation) -> HttpResponse:
    """ "Keep this one": the batch's other variations go to the trash, with Undo; the batch's
    grid comes back with what is left in it."""
    trashed = services.creation_keep(creation=creation)
    text = (
        f"Kept this one: {token_count_words(len(trashed), 'other variation')} moved to the trash."
    )
    if not request.htmx:
        return redirect_with_message(request, text, profile_url(request.user, "drafts"))
    return render_batch(request, creation, toast=text, undo_ids=[c.id for c in trashed])


@require_POST
def creation_unkeep(request: HttpRequest, creation_id) -> HttpResponse:
    """Undo of Keep this one: the variations it trashed come back into the grid."""
    creation = _owned_or_404(request, creation_id)
    restored = services.creation_unkeep(
        creation=creation, sibling_ids=parse_ids(request.POST.getlist("ids"))
    )
    text = f"{token_count_words(len(restored), 'variation')} back in your drafts."
    if not request.htmx:
        return redirect_with_message(request, text, profile_url(request.user, "drafts"))
    return render_batch(request, creation, toast=text)


@require_POST
def creation_caption(request: HttpRequest, creation_id) -> HttpResponse:
    creation = _owned_or_404(request, creation_id)
    caption = request.POST.get("caption", "")
    # A scheduled post's card (the drafts tab) or a post (the posts tab, its page).
    on_card = target_of(request).startswith("creation-")
    try:
        services.creation_edit_caption(creation=creation, caption=caption)
    except ActionRefused as refusal:
        if refusal.code == "not_editable" or not request.htmx:
            return refused(request, creation, refusal, default_tab="posts")
        render_answer = render_owner_card if on_card else render_post
        return render_answer(
            request,
            creation,
            status=refusal_status(refusal),
            caption_error=refusal.message,
            caption=caption,
            caption_open=True,
        )
    text = "Caption saved."
    if not request.htmx:
        return redirect_with_message(request, text, back_url(request, creation, "posts"))
    if on_card:
        return render_owner_card(request, creation, announcement=text)
    return render_post(request, creation, announcement=text, focus=True)


@require_POST
@owner_action(refused_tab="posts")
def creation_unpublish(request: HttpRequest, creation: Creation) -> HttpResponse:
    services.creation_unpublish(creation=creation)
    text = "Unpublished. It is back in your drafts."
    if not request.htmx:
        return redirect_with_message(request, text, profile_url(request.user, "drafts"))
    return render_gone(
        request,
        creation,
        toast=text,
        toast_link=profile_url(request.user, "drafts"),
        toast_link_text="Open your drafts",
    )


@require_POST
@owner_action(refused_tab="posts")
def creation_prompt_visibility(request: HttpRequest, creation: Creation) -> HttpResponse:
    """Show or hide a post's prompt, from its page or the Posts tab."""
    public = request.POST.get("public") == "1"
    services.creation_set_prompt_public(creation=creation, public=public)
    text = "The prompt is shown with the post." if public else "The prompt is hidden."
    if not request.htmx:
        return redirect_with_message(request, text, back_url(request, creation, "posts"))
    return render_post(request, creation, announcement=text, focus=True)
