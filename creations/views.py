from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from .models import Creation


@require_GET
def creation_media(request: HttpRequest, creation_id, which: str) -> HttpResponse:
    """A creation's media or poster: published ones for anyone, drafts for their owner only.

    Local files are streamed from here; on S3/R2 the answer is a redirect to a short-lived
    presigned URL.
    """
    if which not in ("media", "poster"):
        raise Http404("No such media.")
    creation = Creation.objects.filter(pk=creation_id).only("owner_id", "status", which).first()
    if creation is None:
        raise Http404("No such media.")
    if creation.status != Creation.Status.PUBLISHED and creation.owner_id != request.user.id:
        raise Http404("No such media.")
    if creation.status not in Creation.FINISHED:
        raise Http404("No such media.")
    name = getattr(creation, which).name
    if not name:
        raise Http404("No such media.")
    if hasattr(default_storage, "path"):
        try:
            path = default_storage.path(name)
        except NotImplementedError:
            path = None
        if path is not None:
            if not default_storage.exists(name):
                raise Http404("No such media.")
            response = FileResponse(open(path, "rb"))
            response["Cache-Control"] = "private, max-age=300"
            return response
    return redirect(default_storage.url(name))


def feed(request: HttpRequest) -> HttpResponse:
    posts = (
        Creation.objects.filter(status=Creation.Status.PUBLISHED)
        .select_related("owner")
        .order_by("-published_at")[:30]
    )
    return render(request, "creations/feed.html", {"posts": posts})


@login_required
def create_page(request: HttpRequest) -> HttpResponse:
    return render(request, "creations/create.html", {})
